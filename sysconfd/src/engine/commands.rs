//! The command edge: programs sysconfd runs for a step (modprobe, dahdi_cfg,
//! asterisk -rx). Under a test root the same command lines are recorded in
//! `ROOT/var/log/telbox/commands.log` instead of run.

use std::io::Write;

use super::{io_err, EngineError};
use crate::root::Root;

/// Where command lines are recorded under a test root.
pub const RECORD: &str = "/var/log/telbox/commands.log";

/// Runs each command line in order, stopping at the first that fails.
pub async fn run(root: &Root, commands: &[Vec<String>]) -> Result<(), EngineError> {
    for argv in commands {
        if root.is_system() {
            execute(argv).await?;
        } else {
            record(root, argv)?;
        }
    }
    Ok(())
}

async fn execute(argv: &[String]) -> Result<(), EngineError> {
    let line = argv.join(" ");
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| EngineError::Refused("empty command line".into()))?;
    let out = tokio::process::Command::new(program)
        .args(args)
        .output()
        .await
        .map_err(io_err(format!("running {line}")))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(EngineError::Refused(format!(
        "`{line}` failed ({}): {}",
        out.status,
        stderr.trim()
    )))
}

fn record(root: &Root, argv: &[String]) -> Result<(), EngineError> {
    let path = root.path(RECORD);
    let what = || format!("recording a command in {}", path.display());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(what()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io_err(what()))?;
    writeln!(f, "{}", argv.join(" ")).map_err(io_err(what()))
}
