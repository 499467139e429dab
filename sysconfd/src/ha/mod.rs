//! High availability: keepalived detects, sysconfd acts.
//!
//! keepalived (VRRPv3, unicast to the peer, sub-second adverts) decides
//! which box of a pair holds the service; sysconfd renders its
//! configuration ([`render`]), runs it through the services edge like Kea
//! and chrony, and keeps for itself what keepalived cannot know:
//!
//! * which services to run, and whether they are healthy ([`health`]):
//!   a failed check puts keepalived in FAULT through a `track_file`, so the
//!   peer takes over within the same second;
//! * the split-brain guard: with a second path to the peer, the box takes
//!   over only when the peer is silent on both ([`machine`]);
//! * the Berofos relays, thrown with the native client ([`relays`]);
//! * the failback delay and Promote/Demote, through a second `track_file`
//!   that moves the box's priority.
//!
//! keepalived's state changes come in order through its notify FIFO
//! ([`fifo`]); the [`runtime`] feeds them to the pure [`machine`] and
//! carries out its commands, keeping what it did on disk.

pub mod fifo;
pub mod health;
pub mod machine;
pub mod relays;
pub mod render;
pub mod runtime;
pub mod services;
pub mod settings;
#[cfg(test)]
mod sim_tests;

use std::path::Path;

use appliance::config::Config;

pub use runtime::{Ha, Prepared};
pub use services::HaServices;
pub use settings::{HaPaths, HaSettings, Side};

use crate::files::FileSpec;
use crate::root::Root;

#[derive(Debug, thiserror::Error)]
pub enum HaError {
    #[error("an HA role is set but no shared key file could be read")]
    NoKey,
    #[error("the shared key file is empty")]
    EmptyKey,
    #[error("cannot read the shared key file {path}: {source}")]
    Key {
        path: String,
        source: std::io::Error,
    },
    #[error("the interface the adverts use is not declared")]
    NoInterface,
    #[error("an HA role is set but `peer` is missing")]
    NoPeer,
    #[error(
        "the path {0} cannot be written into keepalived.conf (use letters, digits and / . _ - +)"
    )]
    UnsafePath(String),
}

/// The shared key file's content, read under `root`.
fn key(config: &Config, root: &Root) -> Result<Option<Vec<u8>>, HaError> {
    let Some(file) = &config.ha.shared_key_file else {
        return Ok(None);
    };
    std::fs::read(root.path(file.as_str()))
        .map(Some)
        .map_err(|e| HaError::Key {
            path: file.to_string(),
            source: e,
        })
}

/// What `config` asks of the HA runtime on this box (`None`: nothing).
pub fn settings_for(config: &Config, root: &Root) -> Result<Option<HaSettings>, HaError> {
    if config.ha.role == appliance::config::ha::HaRole::Disabled {
        return HaSettings::of(config, None);
    }
    let key = key(config, root)?;
    HaSettings::of(config, key.as_deref())
}

/// keepalived.conf for `config`, when the box is one of a pair.
pub fn keepalived_file(
    config: &Config,
    root: &Root,
    state_dir: &Path,
) -> Result<Option<FileSpec>, HaError> {
    let Some(settings) = settings_for(config, root)? else {
        return Ok(None);
    };
    if settings.side == Side::Standalone {
        return Ok(None);
    }
    let text = render::keepalived_conf(
        &settings,
        &HaPaths::under(state_dir),
        config.system.hostname.as_str(),
    )?;
    Ok(Some(FileSpec::new(render::KEEPALIVED_CONF, text, 0o644)))
}

/// `keepalived --config-test` on a configuration about to be written.
pub fn check_contents(contents: &str) -> Result<(), String> {
    let (_dir, path) = crate::os::files::scratch("keepalived.conf", contents.as_bytes())
        .map_err(|e| e.to_string())?;
    let args = [
        std::ffi::OsStr::new("--config-test"),
        "--use-file".as_ref(),
        path.as_os_str(),
    ];
    let out = crate::os::process::output("keepalived", args, &[] as &[(&str, &str)])
        .map_err(|e| format!("could not run keepalived: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        Err(text.trim().to_owned())
    }
}
