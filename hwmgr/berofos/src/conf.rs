//! `/etc/bnfos.conf`, read and written the way the `bnfos` tool does.
//!
//! `bnfos --scan -x` writes, for each device found, a blank line, `[fosN]`,
//! `mac = XX:XX:XX:XX:XX:XX`, `host = <ip>` (`;host = 0.0.0.0` when the device
//! has no address) and `#login = <user>:<password>`; the operator then puts
//! `login = admin:<password>` in place of the last line. `bnfos -f fosN` reads
//! it line by line on the first character: tab, `#`, `;` and empty lines are
//! skipped, `[` opens a section, lines starting with `m`, `h` or `l` must be
//! `mac`, `host` or `login` followed by spaces, tabs or `=` and the value;
//! anything else is a syntax error. This module accepts exactly those files.

use std::fs;
use std::io::Write;
use std::net::Ipv4Addr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::device::{Login, Mac};
use crate::error::{Error, Result};
use crate::gbl4::DeviceInfo;

/// Where the `bnfos` tool keeps its device list.
pub const DEFAULT_PATH: &str = "/etc/bnfos.conf";

/// The placeholder `bnfos --scan -x` writes for the login.
const LOGIN_PLACEHOLDER: &str = "#login = <user>:<password>";

/// The whole file: devices in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BnfosConf {
    pub devices: Vec<ConfDevice>,
}

/// One `[fosN]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfDevice {
    /// Section name, e.g. `fos1` (`bnfos -f fos1`).
    pub id: String,
    pub mac: Option<Mac>,
    pub host: Option<Ipv4Addr>,
    pub login: Option<Login>,
}

impl ConfDevice {
    /// A section with only its name.
    pub fn new(id: impl Into<String>) -> Self {
        ConfDevice {
            id: id.into(),
            mac: None,
            host: None,
            login: None,
        }
    }
}

impl BnfosConf {
    /// The device named `id` (compared without case, as `bnfos` does).
    pub fn device(&self, id: &str) -> Option<&ConfDevice> {
        self.devices.iter().find(|d| d.id.eq_ignore_ascii_case(id))
    }

    /// What `bnfos --scan -x` would write for these scan results.
    pub fn from_scan(found: &[DeviceInfo]) -> BnfosConf {
        let devices = found
            .iter()
            .enumerate()
            .map(|(i, info)| ConfDevice {
                id: format!("fos{}", i + 1),
                mac: Some(info.mac),
                host: (!info.address.is_unspecified()).then_some(info.address),
                login: None,
            })
            .collect();
        BnfosConf { devices }
    }

    /// Parses the file's text; `path` is only used in messages.
    pub fn parse(text: &str, path: &str) -> Result<BnfosConf> {
        let mut conf = BnfosConf::default();
        for (index, raw) in text.split('\n').enumerate() {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            let syntax = |reason: String| Error::ConfSyntax {
                path: path.to_string(),
                line: index + 1,
                reason,
            };
            conf.read_line(line).map_err(syntax)?;
        }
        Ok(conf)
    }

    fn read_line(&mut self, line: &str) -> Result<(), String> {
        match line.as_bytes().first() {
            None | Some(b'\t' | b'#' | b';') => Ok(()),
            Some(b'[') => self.open_section(line),
            Some(b'm' | b'h' | b'l') => self.set_key(line),
            Some(_) => Err(format!(
                "syntax error: {:?} is not a section, a mac, host or login line, or a comment",
                line.chars().take(20).collect::<String>()
            )),
        }
    }

    fn open_section(&mut self, line: &str) -> Result<(), String> {
        let id = line[1..]
            .split_once(']')
            .map(|(id, _)| id)
            .ok_or("section header without ']'")?;
        check_id(id)?;
        if self.device(id).is_some() {
            return Err(format!("section [{id}] appears twice"));
        }
        self.devices.push(ConfDevice::new(id));
        Ok(())
    }

    fn set_key(&mut self, line: &str) -> Result<(), String> {
        let device = self
            .devices
            .last_mut()
            .ok_or("key outside a [fosN] section")?;
        let (key, rest) = ["mac", "host", "login"]
            .into_iter()
            .find_map(|k| line.strip_prefix(k).map(|rest| (k, rest)))
            .ok_or("only mac, host and login keys are allowed")?;
        let value = rest.trim_start_matches([' ', '\t', '=']);
        match key {
            "mac" => {
                let mac = value.get(..17).unwrap_or(value);
                device.mac = Some(mac.parse().map_err(|e: Error| e.to_string())?);
            }
            "host" => {
                let host = value.trim_end();
                device.host = Some(
                    host.parse()
                        .map_err(|_| format!("host {host:?} is not an IPv4 address"))?,
                );
            }
            _ => {
                let login: Login = value.trim_end().parse().map_err(|e: Error| e.to_string())?;
                check_login(&login)?;
                device.login = Some(login);
            }
        }
        Ok(())
    }

    /// The file's text, in the layout `bnfos --scan -x` uses, with the
    /// login line filled in where one is known.
    pub fn render(&self) -> Result<String> {
        let mut text = String::new();
        for device in &self.devices {
            self.check(device)?;
            text.push_str(&format!("\n[{}]\n", device.id));
            if let Some(mac) = device.mac {
                text.push_str(&format!("mac = {mac}\n"));
            }
            match device.host {
                Some(host) => text.push_str(&format!("host = {host}\n")),
                None => text.push_str(";host = 0.0.0.0\n"),
            }
            match &device.login {
                Some(login) => text.push_str(&format!("login = {}\n", login.expose())),
                None => text.push_str(&format!("{LOGIN_PLACEHOLDER}\n")),
            }
        }
        Ok(text)
    }

    fn check(&self, device: &ConfDevice) -> Result<()> {
        let checked = check_id(&device.id).and_then(|_| match &device.login {
            Some(login) => check_login(login),
            None => Ok(()),
        });
        checked.map_err(|reason| Error::InvalidValue {
            what: "bnfos.conf device",
            value: device.id.clone(),
            reason,
        })
    }

    /// Reads the file at `path`.
    pub fn load(path: &Path) -> Result<BnfosConf> {
        let shown = path.display().to_string();
        let text = fs::read_to_string(path).map_err(|source| Error::ConfIo {
            path: shown.clone(),
            source,
        })?;
        BnfosConf::parse(&text, &shown)
    }

    /// Writes the file atomically with mode 0600 (it holds passwords).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = self.render()?;
        write_private(path, text.as_bytes()).map_err(|source| Error::ConfIo {
            path: path.display().to_string(),
            source,
        })
    }
}

/// Section names: `fos1`, `fos2`… as `bnfos` expects; letters and digits only.
fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty() && id.len() <= 32 && id.bytes().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "device name {id:?} must be 1 to 32 letters or digits, like fos1"
        ))
    }
}

/// A login must survive one `login = user:password` line unchanged.
fn check_login(login: &Login) -> Result<(), String> {
    let user_ok = !login.user.is_empty() && login.user.bytes().all(|c| c.is_ascii_graphic());
    let password = login.password.expose();
    let password_ok =
        password.bytes().all(|c| c == b' ' || c.is_ascii_graphic()) && !password.ends_with(' ');
    match (user_ok, password_ok) {
        (false, _) => Err(format!(
            "login user {:?} must be printable, without spaces",
            login.user
        )),
        (_, false) => Err(format!(
            "the password of {} must be printable and not end with a space",
            login.user
        )),
        _ => Ok(()),
    }
}

/// Temp file in the same directory, fsync, rename, fsync the directory.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, path)?;
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCANNED: &str =
        "\n[fos1]\nmac = 00:19:32:00:12:1D\nhost = 10.34.1.50\n#login = <user>:<password>\n";

    #[test]
    fn reads_what_scan_writes() {
        let conf = BnfosConf::parse(SCANNED, "bnfos.conf").unwrap();
        let fos1 = conf.device("FOS1").unwrap();
        assert_eq!(fos1.mac.unwrap().to_string(), "00:19:32:00:12:1D");
        assert_eq!(fos1.host, Some(Ipv4Addr::new(10, 34, 1, 50)));
        assert_eq!(fos1.login, None);
        assert_eq!(conf.render().unwrap(), SCANNED);
    }

    #[test]
    fn rejects_what_bnfos_rejects() {
        let err = BnfosConf::parse("[fos1]\n mac = 00:19:32:00:12:1D\n", "f").unwrap_err();
        assert!(err.to_string().starts_with("f:2: syntax error"), "{err}");
        let err = BnfosConf::parse("[fos1]\nmode = 1\n", "f").unwrap_err();
        assert!(err.to_string().contains("f:2"), "{err}");
        assert!(BnfosConf::parse("mac = 00:19:32:00:12:1D\n", "f").is_err());
    }

    #[test]
    fn tolerates_the_separators_bnfos_tolerates() {
        let text = "[fos1]\nmac\t=00:19:32:00:12:1Dxx\nhost=10.0.0.5\nlogin ==admin:pw  \n";
        let fos1 = BnfosConf::parse(text, "f").unwrap().devices.remove(0);
        assert_eq!(fos1.mac.unwrap().to_string(), "00:19:32:00:12:1D");
        assert_eq!(fos1.login.unwrap().password.expose(), "pw");
    }

    #[test]
    fn refuses_to_write_a_login_that_breaks_the_line() {
        let mut device = ConfDevice::new("fos1");
        device.login = Some(Login::new("admin", "a\nhost = 1.2.3.4"));
        let conf = BnfosConf {
            devices: vec![device],
        };
        let err = conf.render().unwrap_err().to_string();
        assert!(!err.contains("1.2.3.4"), "{err}");
    }
}
