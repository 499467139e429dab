//! Paths of the workspace's binaries, for tests that run them as a user would.

use std::path::PathBuf;

/// The built binary `name` (from the same target directory as the running test,
/// or from `TELBOX_BIN_DIR` when set: the benchmarks drive release binaries
/// from a debug harness). `make test` builds every binary first; a missing
/// one is a loud failure.
pub fn bin(name: &str) -> PathBuf {
    let dir = match std::env::var_os("TELBOX_BIN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            // A test runs from PROFILE/deps, a harness binary from PROFILE.
            let exe = std::env::current_exe().expect("current test executable");
            let dir = exe.parent().expect("target profile directory");
            match dir.file_name() {
                Some(d) if d == "deps" => dir.parent().unwrap_or(dir).to_owned(),
                _ => dir.to_owned(),
            }
        }
    };
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
