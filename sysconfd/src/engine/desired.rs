//! The desired state: what a validated config means on disk and in the kernel.

use std::path::PathBuf;

use appliance::config::values::Secret;
use appliance::config::Config;

use crate::files::FileSpec;
use crate::root::Root;

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
}

/// Everything a config asks of the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub config: Config,
    pub files: Vec<FileSpec>,
}

impl Desired {
    /// Renders `config`. Redacted secrets resolve to the secret already stored under `root`.
    pub fn render(config: &Config, root: &Root) -> Result<Desired, DesiredError> {
        let mut files = vec![FileSpec::new(
            CONFIG_PATH,
            config.redacted().to_toml(),
            0o644,
        )];
        files.extend(secret_files(config, root)?);
        Ok(Desired {
            config: config.clone(),
            files,
        })
    }

    pub fn paths(&self) -> impl Iterator<Item = &PathBuf> {
        self.files.iter().map(|f| &f.path)
    }

    /// Whether a path holds a secret (its content is never shown).
    pub fn is_secret(path: &std::path::Path) -> bool {
        path.starts_with(SECRETS_DIR)
    }
}

pub fn berofos_secret_path(name: &str) -> PathBuf {
    PathBuf::from(format!("{SECRETS_DIR}/{name}.password"))
}

fn secret_files(config: &Config, root: &Root) -> Result<Vec<FileSpec>, DesiredError> {
    let mut out = Vec::new();
    for dev in &config.berofos {
        let Some(password) = &dev.password else {
            continue;
        };
        let path = berofos_secret_path(dev.name.as_str());
        let value = if password.is_redacted() {
            stored_secret(root, &path).ok_or_else(|| {
                DesiredError::MissingSecret(dev.name.to_string(), path.display().to_string())
            })?
        } else {
            password.clone()
        };
        out.push(FileSpec::new(path, format!("{}\n", value.expose()), 0o600));
    }
    Ok(out)
}

fn stored_secret(root: &Root, path: &std::path::Path) -> Option<Secret> {
    let text = std::fs::read_to_string(root.path(path)).ok()?;
    text.trim_end().parse().ok()
}
