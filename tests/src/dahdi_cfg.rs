//! The real `dahdi_cfg -t`: checks a system.conf the way DAHDI reads it.

use std::path::Path;
use std::process::Command;

/// Whether `dahdi_cfg -t` can run here (root and the dahdi package); says so loudly when not.
pub fn can_run() -> bool {
    let root = nix::unistd::Uid::effective().is_root();
    let tool = Path::new("/usr/sbin/dahdi_cfg").exists();
    if !(root && tool) {
        eprintln!("\n!!!!!!!! SKIPPED: dahdi_cfg -t needs root and the dahdi package (make deps) !!!!!!!!\n");
    }
    root && tool
}

/// `dahdi_cfg -t -c FILE` in a mount namespace where `/dev/dahdi/ctl` is
/// an empty file: it parses and checks the whole file, configures nothing.
pub fn check(text: &str) -> Result<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("system.conf");
    std::fs::write(&conf, text).unwrap();
    let script = "{ mount -t tmpfs none /dev/dahdi 2>/dev/null || { mkdir -p /dev/dahdi && mount -t tmpfs none /dev/dahdi; }; } \
                  && touch /dev/dahdi/ctl && exec dahdi_cfg -t -c \"$1\"";
    let out = Command::new("unshare")
        .args(["--mount", "sh", "-c", script, "sh"])
        .arg(&conf)
        .output()
        .expect("unshare runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}
