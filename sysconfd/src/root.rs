//! The root prefix every system path goes through: `/` in production, a
//! scratch directory in tests and the demo.

use std::path::{Path, PathBuf};

/// A root directory under which absolute system paths are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root(PathBuf);

impl Root {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Root(dir.into())
    }

    /// The real root, `/`.
    pub fn system() -> Self {
        Root(PathBuf::from("/"))
    }

    pub fn is_system(&self) -> bool {
        self.0 == Path::new("/")
    }

    pub fn dir(&self) -> &Path {
        &self.0
    }

    /// Where the system path `abs` (such as `/etc/hostname`) lives under this root.
    pub fn path(&self, abs: impl AsRef<Path>) -> PathBuf {
        let abs = abs.as_ref();
        let rel = abs.strip_prefix("/").unwrap_or(abs);
        self.0.join(rel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_paths_land_under_the_root() {
        let r = Root::new("/tmp/box");
        assert_eq!(
            r.path("/etc/hostname"),
            PathBuf::from("/tmp/box/etc/hostname")
        );
        assert_eq!(
            Root::system().path("/etc/hostname"),
            PathBuf::from("/etc/hostname")
        );
    }
}
