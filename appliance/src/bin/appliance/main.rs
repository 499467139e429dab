//! `appliance`: the telbox admin command.
//!
//! Offline commands (`config validate`, `config reference`) need no daemon;
//! everything else talks to sysconfd over D-Bus.

mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Administer a telbox: check and apply its configuration, see its state.
#[derive(Parser)]
#[command(name = "appliance", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check, plan, apply and roll back the box's configuration (appliance.toml).
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Check configuration files without applying them (no daemon needed).
    ///
    /// Every problem is printed as FILE:LINE:COL: error: MESSAGE with the
    /// offending line and a hint. Exit status: 0 when every file is valid,
    /// 1 when any is invalid, 2 on usage errors or unreadable files.
    Validate(validate::Args),
    /// Print the reference of every configuration key (Markdown).
    Reference,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Config(ConfigCommand::Validate(args)) => validate::run(&args),
        Command::Config(ConfigCommand::Reference) => {
            print!("{}", appliance::reference::markdown());
            ExitCode::SUCCESS
        }
    }
}
