//! Asking Kea itself whether it accepts a configuration (`kea-dhcp4 -t`).

use std::path::Path;

use super::KeaError;

/// How interface names are checked. Kea's test mode also insists that every
/// listed interface exists in the current network namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterfaceCheck {
    /// Check the file as it is: its interfaces must exist now.
    Strict,
    /// Check a copy listening on `*`: for plan time, before the network
    /// apply has created the interfaces.
    Skip,
}

/// Runs `kea-dhcp4 -t` on the file at `conf_path` as it is. On refusal the
/// error carries Kea's own message.
pub fn check(conf_path: &Path) -> Result<(), KeaError> {
    let args = [std::ffi::OsStr::new("-t"), conf_path.as_os_str()];
    let out = crate::os::process::output("kea-dhcp4", args, &[("KEA_LOCKFILE_DIR", "none")])
        .map_err(|e| KeaError::Run {
            program: "kea-dhcp4",
            source: e,
        })?;
    if out.status.success() {
        return Ok(());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(KeaError::Rejected(kea_message(&stdout, &stderr)))
}

/// Checks configuration text before it is written: through a temporary file,
/// with Kea's message naming the text's line and column.
pub fn check_contents(contents: &str, interfaces: InterfaceCheck) -> Result<(), KeaError> {
    let text = match interfaces {
        InterfaceCheck::Strict => contents.to_owned(),
        InterfaceCheck::Skip => with_any_interface(contents)?,
    };
    let (_dir, path) =
        crate::os::files::scratch("kea-dhcp4.conf", text.as_bytes()).map_err(KeaError::Io)?;
    check(&path).map_err(|e| match e {
        KeaError::Rejected(msg) => {
            KeaError::Rejected(msg.replace(&path.display().to_string(), "kea-dhcp4.conf"))
        }
        other => other,
    })
}

/// The same configuration listening on every interface.
fn with_any_interface(contents: &str) -> Result<String, KeaError> {
    let mut value: serde_json::Value = serde_json::from_str(contents).map_err(KeaError::Json)?;
    if let Some(ifaces) = value.pointer_mut("/Dhcp4/interfaces-config/interfaces") {
        *ifaces = serde_json::json!(["*"]);
    }
    serde_json::to_string_pretty(&value).map_err(KeaError::Json)
}

/// Kea's explanation: its `Error encountered:` line, else the ERROR log
/// lines, else everything it printed.
fn kea_message(stdout: &str, stderr: &str) -> String {
    let all = format!("{stdout}\n{stderr}");
    if let Some(line) = all
        .lines()
        .find_map(|l| l.strip_prefix("Error encountered: "))
    {
        return line.trim().to_owned();
    }
    let errors: Vec<&str> = all
        .lines()
        .filter(|l| l.contains(" ERROR ") || l.contains(" FATAL "))
        .collect();
    if errors.is_empty() {
        all.trim().to_owned()
    } else {
        errors.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kea_message_prefers_the_error_line() {
        let out = "2026 INFO x\n2026 ERROR [kea] DHCP4_PARSER_FAIL bad\n";
        let err = "Error encountered: pool 10.0.0.1 - 10.0.0.2 is outside subnet (f:1:2)\n";
        assert_eq!(
            kea_message(out, err),
            "pool 10.0.0.1 - 10.0.0.2 is outside subnet (f:1:2)"
        );
        assert_eq!(
            kea_message(out, ""),
            "2026 ERROR [kea] DHCP4_PARSER_FAIL bad"
        );
    }

    #[test]
    fn skip_mode_listens_everywhere() {
        let text = r#"{"Dhcp4": {"interfaces-config": {"interfaces": ["eth9"]}}}"#;
        let out = with_any_interface(text).unwrap();
        assert!(out.contains("\"*\"") && !out.contains("eth9"), "{out}");
    }
}
