//! Paths of the workspace's binaries, for tests that run them as a user would.

use std::path::PathBuf;

/// The built binary `name` (from the same target directory as the running test).
/// `make test` builds every binary first; a missing one is a loud failure.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current test executable");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target profile directory");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace` (make test does) first",
        path.display()
    );
    path
}

/// Panics with a clear message when the test is not run as root.
pub fn require_root(what: &str) {
    assert!(
        nix::unistd::geteuid().is_root(),
        "{what} needs root (network namespaces, private buses, other users); run `make test` as root"
    );
}
