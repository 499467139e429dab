//! The command edge: programs sysconfd runs for a step (modprobe, dahdi_cfg,
//! asterisk -rx). Under a test root the same command lines are recorded in
//! `ROOT/var/log/telbox/commands.log` instead of run.

use super::OsError;
use crate::root::Root;

/// Where command lines are recorded under a test root.
pub const RECORD: &str = "/var/log/telbox/commands.log";

fn io_err(what: String) -> impl FnOnce(std::io::Error) -> OsError {
    move |source| OsError::Io { what, source }
}

/// Runs each command line in order, stopping at the first that fails.
pub async fn run(root: &Root, commands: &[Vec<String>]) -> Result<(), OsError> {
    for argv in commands {
        run_one(root, argv).await?;
    }
    Ok(())
}

/// Runs one command line, or records it under a test root.
pub async fn run_one(root: &Root, argv: &[String]) -> Result<(), OsError> {
    if root.is_system() {
        execute(argv).await
    } else {
        record(root, argv)
    }
}

async fn execute(argv: &[String]) -> Result<(), OsError> {
    let line = argv.join(" ");
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| OsError::Refused("empty command line".into()))?;
    let out = tokio::process::Command::new(program)
        .args(args)
        .output()
        .await
        .map_err(io_err(format!("running {line}")))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(OsError::Refused(format!(
        "`{line}` failed ({}): {}",
        out.status,
        stderr.trim()
    )))
}

fn record(root: &Root, argv: &[String]) -> Result<(), OsError> {
    let path = root.path(RECORD);
    super::files::append_line(&path, &argv.join(" "))
        .map_err(io_err(format!("recording a command in {}", path.display())))
}
