//! `appliance`: the telbox admin command.
//!
//! Offline commands (`config validate`, `config reference`) need no daemon;
//! everything else talks to sysconfd over D-Bus.

mod berofos;
mod bus;
mod configcmd;
mod firmware;
mod ha;
mod statuscmd;
mod validate;
mod views;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Administer a telbox: check and apply its configuration, see its state.
///
/// Commands other than `config validate` and `config reference` talk to
/// sysconfd on the system bus (DBUS_SYSTEM_BUS_ADDRESS is honoured).
/// Changing commands need root or membership of the telbox-admin group.
/// Exit status: 0 success, 1 failure or invalid configuration, 2 usage error.
#[derive(Parser)]
#[command(name = "appliance", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check, plan, apply and roll back the box's configuration (appliance.toml).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Overview of the box: generation in force, pending confirmation, services.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// What the first-boot wizard uses: discover hardware, complete once.
    #[command(subcommand)]
    Wizard(WizardCommand),
    /// The box's network as the kernel has it, and what differs from the configuration.
    #[command(subcommand)]
    Network(NetworkCommand),
    /// The DHCP server for the phones.
    #[command(subcommand)]
    Dhcp(DhcpCommand),
    /// The NTP server (chrony).
    #[command(subcommand)]
    Ntp(NtpCommand),
    /// DAHDI telephony cards and spans.
    #[command(subcommand)]
    Telephony(TelephonyCommand),
    /// Firmware of the telephony cards: list, needed, install, remove, upgrade.
    #[command(subcommand)]
    Firmware(firmware::FirmwareCommand),
    /// Drive Berofos failover switches directly: scan, status, set-mode, kick (no daemon needed).
    #[command(subcommand)]
    Berofos(berofos::BerofosCommand),
    /// The HA pair: status, history, promote, demote.
    #[command(subcommand)]
    Ha(ha::HaCommand),
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
    /// Show what applying FILE would change, touching nothing.
    Plan {
        /// The configuration to plan (appliance.toml syntax).
        file: PathBuf,
        /// Print {"actions": [...], "warnings": [...]}; actions is empty when nothing would change.
        #[arg(long)]
        json: bool,
    },
    /// Apply FILE as a new generation.
    ///
    /// The generation in force is the base unless --base says otherwise; if
    /// another generation was applied meanwhile, the apply is refused.
    Apply {
        /// The configuration to apply (appliance.toml syntax).
        file: PathBuf,
        /// The generation this change was made from.
        #[arg(long, value_name = "N")]
        base: Option<u64>,
        /// Roll back by itself unless `appliance config confirm` comes within S
        /// seconds (at most 3600; 0: no confirm needed).
        #[arg(long, value_name = "S", default_value_t = 0,
              value_parser = clap::value_parser!(u32).range(0..=i64::from(appliance::config::limits::MAX_CONFIRM_TIMEOUT_S)))]
        confirm_timeout: u32,
        /// Print {"generation": N, ...}.
        #[arg(long)]
        json: bool,
    },
    /// Keep a generation applied with --confirm-timeout (default: the pending one).
    Confirm {
        /// The generation to keep [default: the one waiting for a confirm].
        generation: Option<u64>,
    },
    /// Apply generation N's configuration again.
    Rollback {
        /// The generation whose configuration comes back.
        generation: u64,
    },
    /// List generations, newest first: who, when, outcome, why.
    ///
    /// Shows one page (50 by default); --offset skips the newest N.
    History {
        /// Skip the N newest generations.
        #[arg(long, value_name = "N", default_value_t = 0)]
        offset: u32,
        /// Show at most N generations (at most 100).
        #[arg(long, value_name = "N", default_value_t = appliance::dbus::DEFAULT_HISTORY_PAGE,
              value_parser = clap::value_parser!(u32).range(1..=i64::from(appliance::dbus::MAX_HISTORY_PAGE)))]
        limit: u32,
        /// Print every line of generation N's plan instead.
        #[arg(long, value_name = "N")]
        plan: Option<u64>,
        /// Print the page's generations as a JSON array (with --plan: the plan's lines).
        #[arg(long)]
        json: bool,
    },
    /// Print the configuration in force (secrets redacted).
    Show,
}

#[derive(Subcommand)]
enum NetworkCommand {
    /// Links (role, state, MTU, MAC, addresses), routes, and what differs from the configuration.
    Show {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DhcpCommand {
    /// Current leases: address, MAC, phone vendor, host name, expiry.
    Leases {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum NtpCommand {
    /// Sync state and sources of the box's chronyd.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum TelephonyCommand {
    /// Telephony cards found (like dahdi_hardware).
    Hardware {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Span status: alarms (RED, YELLOW, BLUE…), counters, channels.
    Spans {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A [telephony] section for the hardware found, to paste into appliance.toml (nothing is applied).
    Propose,
}

#[derive(Subcommand)]
enum WizardCommand {
    /// List the network interfaces and telephony cards the first-boot wizard shows.
    Discover {
        /// Print JSON (`Wizard.Discover`'s reply, see docs/dbus.md).
        #[arg(long)]
        json: bool,
    },
    /// Apply the first-boot configuration FILE; works once.
    Complete {
        /// The first-boot configuration (appliance.toml syntax).
        file: PathBuf,
        /// Keep it only if `appliance wizard confirm` follows within S seconds.
        #[arg(long, value_name = "S", default_value_t = 0)]
        confirm_timeout: u32,
    },
    /// Keep the generation a `complete --confirm-timeout` made; the wizard is then completed.
    Confirm {
        /// The generation `complete` printed.
        generation: u64,
    },
    /// Show the web wizard's setup token and certificate fingerprint (root only).
    Token {
        /// The web wizard's state directory.
        #[arg(long, value_name = "DIR", default_value = appliance::dbus::WIZARD_STATE_DIR)]
        state_dir: PathBuf,
    },
}

fn main() -> ExitCode {
    telbox_program::docs::write_if_asked::<Cli>("1");
    telbox_program::quiet_on_closed_pipe();
    match Cli::parse().command {
        Command::Config(ConfigCommand::Validate(args)) => validate::run(&args),
        Command::Config(ConfigCommand::Reference) => {
            print!("{}", appliance::reference::markdown());
            ExitCode::SUCCESS
        }
        Command::Config(ConfigCommand::Plan { file, json }) => {
            bus::run(configcmd::plan(file, json))
        }
        Command::Config(ConfigCommand::Apply {
            file,
            base,
            confirm_timeout,
            json,
        }) => bus::run(configcmd::apply(file, base, confirm_timeout, json)),
        Command::Config(ConfigCommand::Confirm { generation }) => {
            bus::run(configcmd::confirm(generation))
        }
        Command::Config(ConfigCommand::Rollback { generation }) => {
            bus::run(configcmd::rollback(generation))
        }
        Command::Config(ConfigCommand::History {
            offset,
            limit,
            plan,
            json,
        }) => match plan {
            Some(generation) => bus::run(configcmd::generation_plan(generation, json)),
            None => bus::run(configcmd::history(offset, limit, json)),
        },
        Command::Config(ConfigCommand::Show) => bus::run(configcmd::show()),
        Command::Status { json } => bus::run(statuscmd::status(json)),
        Command::Wizard(WizardCommand::Discover { json }) => bus::run(statuscmd::discover(json)),
        Command::Wizard(WizardCommand::Complete {
            file,
            confirm_timeout,
        }) => bus::run(statuscmd::complete(file, confirm_timeout)),
        Command::Wizard(WizardCommand::Confirm { generation }) => {
            bus::run(statuscmd::wizard_confirm(generation))
        }
        Command::Wizard(WizardCommand::Token { state_dir }) => statuscmd::wizard_token(&state_dir),
        Command::Berofos(command) => berofos::run(command),
        Command::Firmware(command) => bus::run(firmware::run(command)),
        Command::Ha(command) => bus::run(ha::run(command)),
        Command::Network(NetworkCommand::Show { json }) => bus::run(views::network(json)),
        Command::Dhcp(DhcpCommand::Leases { json }) => bus::run(views::leases(json)),
        Command::Ntp(NtpCommand::Status { json }) => bus::run(views::ntp(json)),
        Command::Telephony(TelephonyCommand::Hardware { json }) => bus::run(views::hardware(json)),
        Command::Telephony(TelephonyCommand::Spans { json }) => bus::run(views::spans(json)),
        Command::Telephony(TelephonyCommand::Propose) => bus::run(views::propose()),
    }
}
