//! Actions: the steps of a plan, each one operation on one edge of the OS.

use std::fmt;
use std::path::PathBuf;

use appliance::config::values::Hostname;
use appliance::dbus::PlanItem;
use serde::Serialize;

use hwmgr::render::DahdiStep;

use crate::network::NetAction;
use crate::services::Service;

/// What happens to a daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceChange {
    /// Its configuration changed, or it should run and does not: reload it when it runs, start it otherwise.
    Refresh,
    /// It is no longer wanted.
    Stop,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Action {
    /// A change to links, addresses or routes.
    Net(NetAction),
    /// Write a generated file (atomically) with this content and mode.
    WriteFile {
        path: PathBuf,
        mode: u32,
        #[serde(skip)]
        contents: String,
        /// Secret files never show their content or size.
        secret: bool,
    },
    /// Remove a file telbox generated earlier and no longer wants.
    RemoveFile { path: PathBuf },
    /// Set the kernel host name.
    SetHostname { hostname: Hostname },
    /// Start, reload or stop a daemon.
    Service {
        service: Service,
        change: ServiceChange,
    },
    /// A step of the DAHDI sequence (modules, span types and numbers, dahdi_cfg, Asterisk).
    Dahdi(DahdiStep),
    /// Start or stop the supervised DHCP client of a `method = "dhcp"` link.
    DhcpClient { link: String, run: bool },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Net(a) => write!(f, "{a}"),
            Action::WriteFile {
                path,
                mode,
                secret: true,
                ..
            } => {
                write!(f, "write {} (secret, mode {mode:04o})", path.display())
            }
            Action::WriteFile {
                path,
                mode,
                contents,
                ..
            } => {
                write!(
                    f,
                    "write {} ({} bytes, mode {mode:04o})",
                    path.display(),
                    contents.len()
                )
            }
            Action::RemoveFile { path } => write!(f, "remove {}", path.display()),
            Action::SetHostname { hostname } => write!(f, "set host name to {hostname}"),
            Action::Service {
                service,
                change: ServiceChange::Refresh,
            } => {
                write!(f, "reload or start the {service} server")
            }
            Action::Service {
                service,
                change: ServiceChange::Stop,
            } => write!(f, "stop the {service} server"),
            Action::Dahdi(step) => write!(f, "run {step}"),
            Action::DhcpClient { link, run: true } => write!(f, "start the DHCP client on {link}"),
            Action::DhcpClient { link, run: false } => write!(f, "stop the DHCP client on {link}"),
        }
    }
}

impl Action {
    /// The short kind name used in JSON plans.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Net(_) => "network",
            Action::WriteFile { .. } => "write-file",
            Action::RemoveFile { .. } => "remove-file",
            Action::SetHostname { .. } => "set-hostname",
            Action::Service { .. } => "service",
            Action::Dahdi(_) => "telephony",
            Action::DhcpClient { .. } => "network",
        }
    }

    /// The file this action writes or removes, if any.
    pub fn file(&self) -> Option<&PathBuf> {
        match self {
            Action::WriteFile { path, .. } | Action::RemoveFile { path } => Some(path),
            _ => None,
        }
    }
}

/// An ordered list of actions; empty when the system already matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub actions: Vec<Action>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// The network actions, in order.
    pub fn network_actions(&self) -> Vec<crate::network::NetAction> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::Net(n) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }

    /// Whether the plan writes or removes a file holding a secret.
    pub fn touches_secret(&self) -> bool {
        self.actions
            .iter()
            .filter_map(Action::file)
            .any(|path| super::desired::Desired::is_secret(path))
    }

    pub fn lines(&self) -> Vec<String> {
        self.actions.iter().map(ToString::to_string).collect()
    }

    pub fn items(&self) -> Vec<PlanItem> {
        self.actions
            .iter()
            .map(|a| PlanItem {
                kind: a.kind().to_owned(),
                summary: a.to_string(),
            })
            .collect()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.actions.is_empty() {
            return writeln!(f, "nothing to do: the system matches the configuration");
        }
        for (i, a) in self.actions.iter().enumerate() {
            writeln!(f, "{:3}. {a}", i + 1)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removal(path: &str) -> Action {
        Action::RemoveFile { path: path.into() }
    }

    #[test]
    fn a_plan_touches_a_secret_when_it_writes_or_removes_one() {
        let plain = Plan {
            actions: vec![removal("/etc/hostname"), removal("/etc/hosts")],
        };
        assert!(!plain.touches_secret());
        for secret in ["/etc/telbox/secrets/berofos-fos1", "/etc/bnfos.conf"] {
            let mut plan = plain.clone();
            plan.actions.push(removal(secret));
            assert!(plan.touches_secret(), "{secret}");
        }
    }
}
