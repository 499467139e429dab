//! The desired state: what a validated config means on disk, in the kernel
//! and for the daemons sysconfd runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use appliance::config::Config;

use super::observe::Observed;
use crate::files::FileSpec;
use crate::services::Service;
use crate::{dhcp, host, ntp};

/// Where the applied config itself is kept, so a boot re-applies it.
pub const CONFIG_PATH: &str = "/etc/telbox/appliance.toml";
/// Where secrets given inline in the config are kept (mode 0600).
pub const SECRETS_DIR: &str = "/etc/telbox/secrets";

#[derive(Debug, thiserror::Error)]
pub enum DesiredError {
    #[error(
        "the password of Berofos `{0}` is redacted and no stored secret exists at {1}; give the password again"
    )]
    MissingSecret(String, String),
    #[error("DHCP server: {0}")]
    Dhcp(#[from] dhcp::KeaError),
    #[error("NTP server: {0}")]
    Ntp(#[from] ntp::NtpError),
    #[error("Berofos: {0}")]
    Berofos(#[from] hwmgr::bnfos::BnfosError),
    #[error("telephony hardware: {0}")]
    Detect(#[from] hwmgr::detect::DetectError),
    #[error("telephony: {0}")]
    Telephony(#[from] hwmgr::render::RenderError),
    #[error("firmware: {0}")]
    Firmware(#[from] hwmgr::firmware::FirmwareError),
    #[error("HA: {0}")]
    Ha(#[from] crate::ha::HaError),
}

/// The DAHDI part of the desired state: the hardware found and the files for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dahdi {
    pub inventory: hwmgr::detect::Inventory,
    pub files: Vec<hwmgr::render::GeneratedFile>,
}

/// Where the Berofos devices are described for the `bnfos` tool (mode 0600: it holds logins).
pub const BNFOS_CONF: &str = "/etc/bnfos.conf";

/// Everything a config asks of the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub config: Config,
    pub files: Vec<FileSpec>,
    /// The daemons that must run, each with the file it reads.
    pub services: BTreeMap<Service, PathBuf>,
    /// Present when the config declares telephony hardware.
    pub dahdi: Option<Dahdi>,
}

impl Desired {
    /// The config as kept on disk and in history: secrets redacted.
    pub fn redacted_config(&self) -> &str {
        self.files
            .iter()
            .find(|f| f.path == Path::new(CONFIG_PATH))
            .map_or("", |f| f.contents.as_str())
    }

    /// Renders `config`: a plain function of the config and what was
    /// observed. Redacted secrets resolve to the secret already stored
    /// (read while observing); daemon state lives in `state_dir`.
    pub fn render(
        config: &Config,
        observed: &Observed,
        state_dir: &Path,
        chrony: &ntp::ChronyPaths,
    ) -> Result<Desired, DesiredError> {
        let mut files = vec![FileSpec::new(
            CONFIG_PATH,
            config.redacted().to_toml(),
            0o644,
        )];
        let resolved = resolve_secrets(config, observed)?;
        files.extend(secret_files(&resolved));
        if !config.berofos.is_empty() {
            let read = |p: &Path| observed.password_file(p);
            files.push(FileSpec::new(
                BNFOS_CONF,
                hwmgr::bnfos::render(&resolved.berofos, read)?,
                0o600,
            ));
        }
        let voip = config.network.voip_link();
        files.extend(host::files(
            &config.system,
            config.dns.as_ref(),
            voip.as_ref().and_then(|l| l.address).map(|a| a.addr),
        ));
        let mut services = BTreeMap::new();
        if let (true, Some(voip)) = (config.dhcp.enabled, &voip) {
            let kea = dhcp::render(
                config,
                voip.name.as_str(),
                &dhcp::KeaPaths::under(state_dir),
            )?;
            services.insert(Service::Dhcp, kea.path.clone());
            files.push(kea);
        }
        let chrony = ntp::render(config, chrony)?;
        services.insert(Service::Ntp, chrony.path.clone());
        files.push(chrony);
        if let Some(conf) = &observed.keepalived {
            services.insert(Service::Vrrp, conf.path.clone());
            files.push(conf.clone());
        }
        let dahdi = dahdi(config, observed)?;
        if let Some(d) = &dahdi {
            files.extend(
                d.files
                    .iter()
                    .map(|f| FileSpec::new(f.path.clone(), f.contents.clone(), f.mode)),
            );
        }
        Ok(Desired {
            config: config.clone(),
            files,
            services,
            dahdi,
        })
    }

    pub fn paths(&self) -> impl Iterator<Item = &PathBuf> {
        self.files.iter().map(|f| &f.path)
    }

    /// Whether a path holds a secret (its content is never shown).
    pub fn is_secret(path: &Path) -> bool {
        path.starts_with(SECRETS_DIR) || path == Path::new(BNFOS_CONF)
    }
}

pub fn berofos_secret_path(name: &str) -> PathBuf {
    PathBuf::from(format!("{SECRETS_DIR}/{name}.password"))
}

/// Renders the DAHDI, Asterisk and modprobe files for the hardware and
/// the firmware observed.
fn dahdi(config: &Config, observed: &Observed) -> Result<Option<Dahdi>, DesiredError> {
    let t = &config.telephony;
    if t.card.is_empty() && t.span.is_empty() && t.port.is_empty() {
        return Ok(None);
    }
    let (inventory, firmware) = observed.telephony.clone().unwrap_or_default();
    let files = hwmgr::render::render(t, &inventory, &firmware)?;
    Ok(Some(Dahdi { inventory, files }))
}

/// The config with every redacted password replaced by the stored secret.
fn resolve_secrets(config: &Config, observed: &Observed) -> Result<Config, DesiredError> {
    let mut resolved = config.clone();
    for dev in &mut resolved.berofos {
        let Some(password) = dev.password.as_mut().filter(|p| p.is_redacted()) else {
            continue;
        };
        let path = berofos_secret_path(dev.name.as_str());
        *password = observed.secrets.get(&path).cloned().ok_or_else(|| {
            DesiredError::MissingSecret(dev.name.to_string(), path.display().to_string())
        })?;
    }
    Ok(resolved)
}

/// One 0600 file per inline password, so a redacted config can be applied again.
fn secret_files(resolved: &Config) -> Vec<FileSpec> {
    resolved
        .berofos
        .iter()
        .filter_map(|dev| {
            let password = dev.password.as_ref()?;
            Some(FileSpec::new(
                berofos_secret_path(dev.name.as_str()),
                format!("{}\n", password.expose()),
                0o600,
            ))
        })
        .collect()
}
