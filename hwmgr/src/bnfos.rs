//! `/etc/bnfos.conf` generated from the `[[berofos]]` entries of appliance.toml.
//!
//! The file is the one the `bnfos` tool reads (`bnfos -f fos1`), so an existing
//! Wazo slave keeps working: one `[fosN]` section per device with its `mac`,
//! `host` and `login = user:password` lines. The text is produced by
//! [`berofos::BnfosConf`], which refuses any value that would not survive one
//! line. The file holds passwords: the caller writes it with mode 0600, and
//! reads each `password_file` with [`read_secret_file`], which refuses a file
//! group or others may read.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use appliance::config::berofos::Berofos;
use berofos::{BnfosConf, ConfDevice, Login, Mac};

/// Reads a password file, refusing it (with the `chmod 600 FILE` fix in the
/// message) when group or others may read it: the `read_secret` to give
/// [`render`], and what `appliance berofos --password-file` reads with.
pub use berofos::read_secret_file;

/// Why `/etc/bnfos.conf` could not be generated. Never holds a password.
#[derive(Debug, thiserror::Error)]
pub enum BnfosError {
    /// bnfos.conf and the device's UDP protocol only know IPv4.
    #[error("berofos {device}: host {host} is not an IPv4 address; a Berofos only speaks IPv4")]
    NotIpv4 { device: String, host: IpAddr },

    /// The password file could not be read.
    #[error("berofos {device}: cannot read password file {}: {source}", path.display())]
    PasswordFile {
        device: String,
        path: PathBuf,
        source: io::Error,
    },

    /// The password file holds no password.
    #[error("berofos {device}: password file {} is empty", path.display())]
    EmptyPassword { device: String, path: PathBuf },

    /// A value bnfos.conf cannot hold on one line.
    #[error("berofos {device}: {source}")]
    Conf {
        device: String,
        source: berofos::Error,
    },
}

/// The content of `/etc/bnfos.conf` for these devices, in their order.
///
/// The login is `user:password`, the password taken inline or read from
/// `password_file` through `read_secret` (one line; its line ending is
/// dropped; on a real system `read_secret` is [`read_secret_file`]). A device with no password gets the commented placeholder
/// `bnfos --scan -x` writes.
pub fn render(
    devices: &[Berofos],
    read_secret: impl Fn(&Path) -> io::Result<String>,
) -> Result<String, BnfosError> {
    let conf = BnfosConf {
        devices: devices
            .iter()
            .map(|device| conf_device(device, &read_secret))
            .collect::<Result<_, _>>()?,
    };
    conf.render().map_err(|source| BnfosError::Conf {
        device: "bnfos.conf".into(),
        source,
    })
}

/// The section of one device.
fn conf_device(
    device: &Berofos,
    read_secret: &impl Fn(&Path) -> io::Result<String>,
) -> Result<ConfDevice, BnfosError> {
    let id = device.name.as_str().to_string();
    let host = ipv4(&id, device.host)?;
    let login = match (&device.user, password(device, read_secret)?) {
        (Some(user), Some(password)) => Some(Login::new(user.as_str(), password)),
        _ => None,
    };
    let section = ConfDevice {
        mac: device.mac.as_ref().map(|mac| Mac(mac.0)),
        host: Some(host),
        login,
        id,
    };
    check(section)
}

/// The section, if it renders on its own lines (the error then names it).
fn check(section: ConfDevice) -> Result<ConfDevice, BnfosError> {
    let single = BnfosConf {
        devices: vec![section],
    };
    match single.render() {
        Ok(_) => Ok(single.devices.into_iter().next().expect("one section")),
        Err(source) => Err(BnfosError::Conf {
            device: single.devices[0].id.clone(),
            source,
        }),
    }
}

fn ipv4(device: &str, host: IpAddr) -> Result<Ipv4Addr, BnfosError> {
    match host {
        IpAddr::V4(v4) => Ok(v4),
        IpAddr::V6(_) => Err(BnfosError::NotIpv4 {
            device: device.to_string(),
            host,
        }),
    }
}

/// The inline password, else the first line of the password file, else none.
fn password(
    device: &Berofos,
    read_secret: &impl Fn(&Path) -> io::Result<String>,
) -> Result<Option<String>, BnfosError> {
    if let Some(secret) = &device.password {
        return Ok(Some(secret.expose().to_string()));
    }
    let Some(file) = &device.password_file else {
        return Ok(None);
    };
    let path = PathBuf::from(file.as_str());
    let device = device.name.as_str().to_string();
    let text = read_secret(&path).map_err(|source| BnfosError::PasswordFile {
        device: device.clone(),
        path: path.clone(),
        source,
    })?;
    let line = strip_line_ending(&text);
    if line.is_empty() {
        return Err(BnfosError::EmptyPassword { device, path });
    }
    Ok(Some(line.to_string()))
}

/// The text without one trailing `\n` or `\r\n` (what an editor adds).
fn strip_line_ending(text: &str) -> &str {
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.strip_suffix('\r').unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use appliance::config::values::Secret;

    fn device(name: &str, host: &str) -> Berofos {
        Berofos {
            name: name.parse().unwrap(),
            host: host.parse().unwrap(),
            mac: None,
            user: None,
            password_file: None,
            password: None,
        }
    }

    fn with_login(
        mut dev: Berofos,
        user: &str,
        password: Option<&str>,
        file: Option<&str>,
    ) -> Berofos {
        dev.user = Some(user.parse().unwrap());
        dev.password = password.map(|p| p.parse::<Secret>().unwrap());
        dev.password_file = file.map(|f| f.parse().unwrap());
        dev
    }

    fn no_files(path: &Path) -> io::Result<String> {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} not found", path.display()),
        ))
    }

    fn secrets(path: &Path) -> io::Result<String> {
        match path.to_str() {
            Some("/etc/telbox/secrets/fos2") => Ok("file-pw\n".into()),
            Some("/etc/telbox/secrets/empty") => Ok("\n".into()),
            _ => no_files(path),
        }
    }

    /// Reads a bnfos.conf section back as the `[[berofos]]` entry it came from.
    fn import(device: &ConfDevice) -> Berofos {
        let mut dev = device_from_host(&device.id, device.host.unwrap());
        dev.mac = device
            .mac
            .map(|mac| appliance::config::values::MacAddr(mac.octets()));
        if let Some(login) = &device.login {
            dev = with_login(dev, &login.user, Some(login.password.expose()), None);
        }
        dev
    }

    fn device_from_host(name: &str, host: Ipv4Addr) -> Berofos {
        device(name, &host.to_string())
    }

    #[test]
    fn output_parses_back_to_the_same_devices() {
        let mut fos1 = with_login(device("fos1", "10.0.0.5"), "admin", Some("inline-pw"), None);
        fos1.mac = Some("00:19:32:00:12:1d".parse().unwrap());
        let fos2 = with_login(
            device("fos2", "10.0.0.6"),
            "admin",
            None,
            Some("/etc/telbox/secrets/fos2"),
        );
        let fos3 = device("fos3", "10.0.0.7");
        let text = render(&[fos1, fos2, fos3], secrets).unwrap();
        let conf = BnfosConf::parse(&text, "bnfos.conf").unwrap();
        let ids: Vec<&str> = conf.devices.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["fos1", "fos2", "fos3"]);
        let fos1 = conf.device("fos1").unwrap();
        assert_eq!(fos1.host, Some(Ipv4Addr::new(10, 0, 0, 5)));
        assert_eq!(fos1.mac.unwrap().to_string(), "00:19:32:00:12:1D");
        assert_eq!(fos1.login, Some(Login::new("admin", "inline-pw")));
        let fos2 = conf.device("fos2").unwrap();
        assert_eq!(fos2.login, Some(Login::new("admin", "file-pw")));
        assert_eq!(fos2.mac, None);
        assert_eq!(conf.device("fos3").unwrap().login, None);
        assert!(text.ends_with("\n[fos3]\nhost = 10.0.0.7\n#login = <user>:<password>\n"));
    }

    #[test]
    fn a_wazo_slave_file_round_trips() {
        // What `bnfos --scan -x` writes, with the login line filled in as the
        // Wazo documentation tells the operator to.
        let wazo = "\n[fos1]\nmac = 00:19:32:00:12:1D\nhost = 10.34.1.50\nlogin = admin:berofos\n\
                    \n[fos2]\nmac = 00:19:32:00:12:2E\nhost = 10.34.1.51\nlogin = admin:other\n";
        let conf = BnfosConf::parse(wazo, "bnfos.conf").unwrap();
        let devices: Vec<Berofos> = conf.devices.iter().map(import).collect();
        assert_eq!(render(&devices, no_files).unwrap(), wazo);
    }

    #[test]
    fn errors_name_the_device_and_never_the_password() {
        let missing = with_login(
            device("fos1", "10.0.0.5"),
            "admin",
            None,
            Some("/etc/telbox/secrets/none"),
        );
        let err = render(&[missing], secrets).unwrap_err().to_string();
        assert!(
            err.starts_with("berofos fos1: cannot read password file /etc/telbox/secrets/none"),
            "{err}"
        );
        let empty = with_login(
            device("fos1", "10.0.0.5"),
            "admin",
            None,
            Some("/etc/telbox/secrets/empty"),
        );
        let err = render(&[empty], secrets).unwrap_err().to_string();
        assert!(err.contains("is empty"), "{err}");
        let v6 = device("fos1", "fe80::1");
        let err = render(&[v6], no_files).unwrap_err().to_string();
        assert!(err.contains("not an IPv4 address"), "{err}");
    }

    #[test]
    fn a_password_file_that_would_break_the_line_is_refused() {
        let breaking = |_: &Path| Ok("pw\nhost = 6.6.6.6\n".to_string());
        let fos2 = with_login(
            device("fos2", "10.0.0.6"),
            "admin",
            None,
            Some("/etc/telbox/secrets/fos2"),
        );
        let ok = device("fos1", "10.0.0.5");
        let err = render(&[ok, fos2], breaking).unwrap_err().to_string();
        assert!(err.starts_with("berofos fos2:"), "{err}");
        assert!(!err.contains("6.6.6.6") && !err.contains("pw\n"), "{err}");
    }

    #[test]
    fn a_password_file_open_to_others_is_refused_and_an_owner_only_one_read() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fos1");
        std::fs::write(&file, "file-pw\n").unwrap();
        let fos1 = with_login(
            device("fos1", "10.0.0.5"),
            "admin",
            None,
            Some(file.to_str().unwrap()),
        );
        let devices = [fos1];
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = render(&devices, read_secret_file).unwrap_err().to_string();
        let shown = file.display().to_string();
        assert!(
            err.starts_with(&format!("berofos fos1: cannot read password file {shown}")),
            "{err}"
        );
        assert!(err.contains(&format!("chmod 600 {shown}")), "{err}");
        assert!(!err.contains("file-pw"), "{err}");

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let text = render(&devices, read_secret_file).unwrap();
        assert!(text.contains("login = admin:file-pw\n"), "{text}");
    }
}
