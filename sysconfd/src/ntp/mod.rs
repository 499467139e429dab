//! NTP (chrony): time for the box and the phones.
//!
//! The engine calls:
//!
//! * [`render`]`(cfg, &ChronyPaths::under(state_dir))` → the
//!   [`FileSpec`](crate::files::FileSpec) of [`CHRONY_CONF`]: upstream
//!   `server`/`pool` lines with `iburst`, `allow` for the subnets it serves
//!   (the VoIP subnet and the DHCP sites, when `ntp.serve_voip`), a
//!   `local stratum N` fallback, and drift file, pid file and command socket
//!   in [`ChronyPaths::dir`].
//! * [`check`]`(path)` or [`check_contents`]`(text)` before applying:
//!   `chronyd -p -f FILE`; [`NtpError::Rejected`] carries chrony's message.
//! * A changed file takes effect by restarting chronyd (it has no reload).
//! * [`status`]`(&paths.socket)` for `appliance ntp status`: sources and
//!   tracking read with `chronyc -n -c` (CSV) over the command socket.

mod render;
mod status;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

pub use render::{render, served_subnets, ChronyPaths, CHRONY_CONF};
pub use status::{
    parse_sources, parse_tracking, status, NtpStatus, Source, SourceMode, SourceState, Tracking,
};

/// What can go wrong generating, checking or asking chrony.
#[derive(Debug, thiserror::Error)]
pub enum NtpError {
    #[error("path `{}` cannot be written in chrony.conf (whitespace, `#` or control characters)", .0.display())]
    UnsafePath(PathBuf),
    #[error("chrony refused the configuration: {0}")]
    Rejected(String),
    #[error("could not run {program}: {source}")]
    Run {
        program: &'static str,
        source: std::io::Error,
    },
    #[error("chronyc {command} failed: {message}")]
    Chronyc {
        command: &'static str,
        message: String,
    },
    #[error("unexpected chronyc output: {0}")]
    Parse(String),
    #[error("{0}")]
    Io(#[source] std::io::Error),
}

/// Runs `chronyd -p -f conf_path` (parse, print, exit); on refusal the error
/// carries chrony's message.
pub fn check(conf_path: &Path) -> Result<(), NtpError> {
    let args = [OsStr::new("-p"), OsStr::new("-f"), conf_path.as_os_str()];
    let out = crate::os::process::output("chronyd", args, &[] as &[(&str, &str)]).map_err(|e| {
        NtpError::Run {
            program: "chronyd",
            source: e,
        }
    })?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = stderr
        .lines()
        .find_map(|l| {
            l.split_once("Fatal error : ")
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| stderr.trim().to_owned());
    Err(NtpError::Rejected(message))
}

/// Checks chrony.conf text before it is written, through a temporary file.
pub fn check_contents(contents: &str) -> Result<(), NtpError> {
    let (_dir, path) =
        crate::os::files::scratch("chrony.conf", contents.as_bytes()).map_err(NtpError::Io)?;
    check(&path).map_err(|e| match e {
        NtpError::Rejected(m) => {
            NtpError::Rejected(m.replace(&path.display().to_string(), "chrony.conf"))
        }
        other => other,
    })
}

#[cfg(test)]
mod tests;
