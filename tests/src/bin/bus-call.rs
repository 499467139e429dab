//! Calls one sysconfd method the way any local program could, with
//! arguments no CLI would send (a file of any size as the config text, any
//! confirm timeout), and prints what came back and how long it took.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use appliance::dbus::{BUS_NAME, CONFIG_INTERFACE, OBJECT_PATH, STATUS_INTERFACE};
use clap::{Parser, Subcommand};
use zbus::blocking::Connection;

/// Call a sysconfd method on the bus in DBUS_SYSTEM_BUS_ADDRESS.
///
/// Prints `ok BYTES` with the size of the reply's body, or `error NAME:
/// MESSAGE` (the message cut to 300 characters), then `ms MILLISECONDS`.
/// Exits 0 either way; 2 when the bus cannot be reached.
#[derive(Parser)]
#[command(name = "bus-call")]
struct Args {
    #[command(subcommand)]
    call: Call,
}

#[derive(Subcommand)]
enum Call {
    /// Config.Validate with FILE's content.
    Validate { file: PathBuf },
    /// Config.Plan with FILE's content.
    Plan { file: PathBuf },
    /// Config.Apply with FILE's content.
    Apply {
        file: PathBuf,
        base: u64,
        confirm_timeout: u32,
    },
    /// Config.History.
    History { offset: u32, limit: u32 },
    /// Status.Status.
    Status,
}

fn read(file: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let conn = match Connection::system() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bus-call: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let started = Instant::now();
    match call(&conn, &args.call) {
        Ok(bytes) => println!("ok {bytes}"),
        Err(e) => println!("error {}", describe(e)),
    }
    println!("ms {}", started.elapsed().as_millis());
    std::process::ExitCode::SUCCESS
}

fn call(conn: &Connection, call: &Call) -> anyhow::Result<usize> {
    let reply = match call {
        Call::Validate { file } => method(conn, CONFIG_INTERFACE, "Validate", &(read(file)?,)),
        Call::Plan { file } => method(conn, CONFIG_INTERFACE, "Plan", &(read(file)?, "")),
        Call::Apply {
            file,
            base,
            confirm_timeout,
        } => method(
            conn,
            CONFIG_INTERFACE,
            "Apply",
            &(read(file)?, *base, *confirm_timeout),
        ),
        Call::History { offset, limit } => {
            method(conn, CONFIG_INTERFACE, "History", &(*offset, *limit))
        }
        Call::Status => method(conn, STATUS_INTERFACE, "Status", &()),
    }?;
    Ok(reply.body().len())
}

fn method<B>(conn: &Connection, iface: &str, name: &str, body: &B) -> anyhow::Result<zbus::Message>
where
    B: serde::Serialize + zbus::zvariant::DynamicType,
{
    Ok(conn.call_method(Some(BUS_NAME), OBJECT_PATH, Some(iface), name, body)?)
}

fn describe(e: anyhow::Error) -> String {
    let text = match e.downcast::<zbus::Error>() {
        Ok(zbus::Error::MethodError(name, msg, _)) => {
            format!("{}: {}", name.as_str(), msg.unwrap_or_default())
        }
        Ok(other) => other.to_string(),
        Err(e) => format!("{e:#}"),
    };
    text.chars().take(300).collect()
}
