//! A private `dbus-daemon` with system-bus rules and the project's own
//! policy file, for tests and the demo. Stopped when dropped.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The policy file as it is installed on the box.
pub fn project_policy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../buildroot-overlay/rootfs/usr/share/dbus-1/system.d/org.telbox.Sysconfd1.conf")
}

/// A policy that lets anyone call anything on sysconfd: proves the daemon's own check.
pub const ALLOW_ALL_POLICY: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root"><allow own="org.telbox.Sysconfd1"/></policy>
  <policy context="default"><allow send_destination="org.telbox.Sysconfd1"/></policy>
</busconfig>
"#;

pub struct PrivateBus {
    child: Child,
    pub dir: tempfile::TempDir,
    pub address: String,
}

impl PrivateBus {
    /// Starts a bus with the system bus's default rules plus `policy` (the text of a policy file).
    pub fn start(policy: &str) -> PrivateBus {
        let dir = tempfile::Builder::new()
            .prefix("telbox-bus")
            .tempdir()
            .expect("tempdir");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod bus dir");
        let policy_dir = dir.path().join("system.d");
        fs::create_dir(&policy_dir).expect("policy dir");
        fs::write(policy_dir.join("org.telbox.Sysconfd1.conf"), policy).expect("policy file");
        let socket = dir.path().join("system_bus_socket");
        let conf = dir.path().join("bus.conf");
        fs::write(&conf, bus_config(&socket, &policy_dir)).expect("bus config");
        let child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", conf.display()))
            .arg("--nofork")
            .arg("--nopidfile")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("dbus-daemon is installed (make deps)");
        wait_for(&socket, Duration::from_secs(10));
        let address = format!("unix:path={}", socket.display());
        PrivateBus {
            child,
            dir,
            address,
        }
    }

    /// Starts a bus with the project's policy file.
    pub fn with_project_policy() -> PrivateBus {
        let policy = fs::read_to_string(project_policy()).expect("project policy file");
        PrivateBus::start(&policy)
    }
}

impl PrivateBus {
    /// Stops the bus daemon now, as a crash of dbus-daemon would.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(path: &Path, limit: Duration) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < limit,
            "dbus-daemon did not create {} in {limit:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn bus_config(socket: &Path, policy_dir: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path={socket}</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <includedir>{policy_dir}</includedir>
</busconfig>
"#,
        socket = socket.display(),
        policy_dir = policy_dir.display()
    )
}
