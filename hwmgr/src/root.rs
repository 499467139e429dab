//! The root prefix every system path goes through, for the whole workspace.
//!
//! In production the root is `/`; tests, the demo and the benchmarks point it
//! at a directory holding a fake `sys/` and `proc/` tree, the same way
//! dahdi-tools honour `DAHDI_VIRT_TOP`.

use std::path::{Path, PathBuf};

/// A directory that stands for `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    dir: PathBuf,
}

impl Root {
    /// A root at `dir`; `/` means the real system.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The real system root.
    pub fn system() -> Self {
        Self::new("/")
    }

    /// Whether this is the real system root (then sysconfd may, say, set
    /// the kernel's host name).
    pub fn is_system(&self) -> bool {
        self.dir == Path::new("/")
    }

    /// The directory standing for `/`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Maps an absolute system path (`/sys/bus/pci`) under the root.
    pub fn path(&self, absolute: impl AsRef<Path>) -> PathBuf {
        let absolute = absolute.as_ref();
        let relative = absolute.strip_prefix("/").unwrap_or(absolute);
        self.dir.join(relative)
    }
}

impl Default for Root {
    fn default() -> Self {
        Self::system()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_absolute_paths_under_the_prefix() {
        let root = Root::new("/tmp/box");
        assert_eq!(
            root.path("/sys/bus/pci"),
            PathBuf::from("/tmp/box/sys/bus/pci")
        );
        assert_eq!(
            Root::system().path("/proc/dahdi"),
            PathBuf::from("/proc/dahdi")
        );
        assert!(Root::system().is_system());
        assert!(!root.is_system());
    }
}
