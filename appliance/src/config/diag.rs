//! Diagnostics: what is wrong, where in the config tree, and how to fix it.
//!
//! Validation speaks in [`ConfigPath`]s (`network.interface[1].gateway`);
//! [`super::locate`] turns them into file, line and column at the edge.

use std::fmt;

use serde::Serialize;

/// One step into the config tree: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl From<&str> for Seg {
    fn from(key: &str) -> Self {
        Seg::Key(key.to_owned())
    }
}

impl From<String> for Seg {
    fn from(key: String) -> Self {
        Seg::Key(key)
    }
}

impl From<usize> for Seg {
    fn from(index: usize) -> Self {
        Seg::Index(index)
    }
}

/// Where a value sits in the config tree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct ConfigPath(pub Vec<Seg>);

impl ConfigPath {
    pub fn root() -> Self {
        ConfigPath(Vec::new())
    }

    /// This path with one more step.
    pub fn join(&self, seg: impl Into<Seg>) -> Self {
        let mut segs = self.0.clone();
        segs.push(seg.into());
        ConfigPath(segs)
    }

    /// The path of the table or array holding this value.
    pub fn parent(&self) -> ConfigPath {
        let mut segs = self.0.clone();
        segs.pop();
        ConfigPath(segs)
    }

    /// Whether `prefix` is this path or one of its ancestors.
    pub fn starts_with(&self, prefix: &ConfigPath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    pub fn segs(&self) -> &[Seg] {
        &self.0
    }

    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for ConfigPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Builds a [`ConfigPath`] from keys and indexes: `path!["dns", "nameservers", 2]`.
#[macro_export]
macro_rules! path {
    ($($seg:expr),* $(,)?) => {
        $crate::config::ConfigPath(vec![$($crate::config::Seg::from($seg)),*])
    };
}

/// Whether a diagnostic points at the key itself or at its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Key,
    Value,
}

/// One problem found in a config, located by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: ConfigPath,
    pub anchor: Anchor,
    pub message: String,
    pub help: Option<String>,
}

/// Collects every problem a config has, so all are reported at once.
#[derive(Debug, Default)]
pub struct Check {
    diagnostics: Vec<Diagnostic>,
}

impl Check {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error on the value at `path`.
    pub fn error(&mut self, path: ConfigPath, message: impl Into<String>) {
        self.push(path, Anchor::Value, message.into(), None);
    }

    /// Records an error on the value at `path`, with advice on the fix.
    pub fn error_help(
        &mut self,
        path: ConfigPath,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.push(path, Anchor::Value, message.into(), Some(help.into()));
    }

    /// Records an error on the key at `path` (for keys that should not be there).
    pub fn error_key(
        &mut self,
        path: ConfigPath,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        self.push(path, Anchor::Key, message.into(), help);
    }

    fn push(&mut self, path: ConfigPath, anchor: Anchor, message: String, help: Option<String>) {
        self.diagnostics.push(Diagnostic {
            path,
            anchor,
            message,
            help,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }

    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }
}
