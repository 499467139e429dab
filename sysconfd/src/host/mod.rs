//! Host identity: host name, /etc/hostname, /etc/hosts, /etc/resolv.conf.
//!
//! [`files`] renders the three files from typed values (each already
//! validated, so nothing needs escaping); the engine writes them under its
//! root prefix. [`set_hostname`] sets the kernel's host name, in the UTS
//! namespace of the calling process.

use std::fmt::Write;
use std::net::Ipv4Addr;

use appliance::config::system::{Dns, System};
use appliance::config::values::Hostname;

use crate::files::FileSpec;

const HEADER: &str = "# Written by sysconfd from appliance.toml; edits here are replaced.\n";

/// What can go wrong setting the host name.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot set the host name to `{name}`: {source}")]
    Set { name: String, source: nix::Error },
    #[error("cannot read the host name: {0}")]
    Get(nix::Error),
}

/// `/etc/hostname`, `/etc/hosts` and, when `[dns]` is given, `/etc/resolv.conf`.
///
/// The box's names go on `voip_address` in /etc/hosts, or on 127.0.1.1 (the
/// Debian convention) when there is no static VoIP address. Without `[dns]`,
/// resolv.conf is not sysconfd's (a DHCP client may own it).
pub fn files(system: &System, dns: Option<&Dns>, voip_address: Option<Ipv4Addr>) -> Vec<FileSpec> {
    let mut out = vec![
        FileSpec::new("/etc/hostname", format!("{}\n", system.hostname), 0o644),
        FileSpec::new("/etc/hosts", hosts(system, voip_address), 0o644),
    ];
    if let Some(dns) = dns {
        out.push(FileSpec::new("/etc/resolv.conf", resolv_conf(dns), 0o644));
    }
    out
}

fn hosts(system: &System, voip_address: Option<Ipv4Addr>) -> String {
    let own = voip_address.unwrap_or(Ipv4Addr::new(127, 0, 1, 1));
    let mut s = String::from(HEADER);
    let _ = writeln!(s, "127.0.0.1\tlocalhost");
    let _ = writeln!(
        s,
        "{own}\t{}.{}\t{}",
        system.hostname, system.domain, system.hostname
    );
    let _ = writeln!(s, "::1\tlocalhost ip6-localhost ip6-loopback");
    let _ = writeln!(s, "ff02::1\tip6-allnodes");
    let _ = writeln!(s, "ff02::2\tip6-allrouters");
    s
}

fn resolv_conf(dns: &Dns) -> String {
    let mut s = String::from(HEADER);
    if !dns.search.is_empty() {
        let domains: Vec<&str> = dns.search.iter().map(|d| d.as_str()).collect();
        let _ = writeln!(s, "search {}", domains.join(" "));
    }
    for ns in &dns.nameservers {
        let _ = writeln!(s, "nameserver {ns}");
    }
    s
}

/// Sets the kernel host name (`sethostname(2)`).
pub fn set_hostname(name: &Hostname) -> Result<(), HostError> {
    crate::os::host::set(name.as_str())
}

/// Sets the kernel host name back to `name`, as it was before a failed
/// first apply (it need not be a name sysconfd would accept in a config).
pub fn set_hostname_back(name: &str) -> Result<(), HostError> {
    crate::os::host::set(name)
}

/// The kernel host name now, to decide whether [`set_hostname`] is needed.
pub fn current_hostname() -> Result<String, HostError> {
    crate::os::host::get()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::write_atomic;
    use crate::root::Root;

    fn system() -> System {
        toml::from_str("hostname = \"pbx\"\ndomain = \"example.com\"").unwrap()
    }

    fn dns() -> Dns {
        toml::from_str("nameservers = [\"10.0.0.1\", \"2001:db8::53\"]\nsearch = [\"example.com\", \"lab.example.com\"]")
            .unwrap()
    }

    fn contents(specs: &[FileSpec], path: &str) -> String {
        specs
            .iter()
            .find(|f| f.path.to_str() == Some(path))
            .expect(path)
            .contents
            .clone()
    }

    #[test]
    fn hostname_file_is_the_short_name() {
        assert_eq!(
            contents(&files(&system(), None, None), "/etc/hostname"),
            "pbx\n"
        );
    }

    #[test]
    fn hosts_puts_the_names_on_the_voip_address_or_127_0_1_1() {
        let with = contents(
            &files(&system(), None, Some(Ipv4Addr::new(10, 0, 0, 2))),
            "/etc/hosts",
        );
        assert!(with.contains("\n127.0.0.1\tlocalhost\n"), "{with}");
        assert!(
            with.contains("\n10.0.0.2\tpbx.example.com\tpbx\n"),
            "{with}"
        );
        let without = contents(&files(&system(), None, None), "/etc/hosts");
        assert!(
            without.contains("\n127.0.1.1\tpbx.example.com\tpbx\n"),
            "{without}"
        );
    }

    #[test]
    fn resolv_conf_lists_search_then_nameservers_in_order() {
        let text = contents(&files(&system(), Some(&dns()), None), "/etc/resolv.conf");
        let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            body,
            [
                "search example.com lab.example.com",
                "nameserver 10.0.0.1",
                "nameserver 2001:db8::53"
            ]
        );
    }

    #[test]
    fn without_dns_resolv_conf_is_not_ours() {
        let specs = files(&system(), None, None);
        assert!(specs
            .iter()
            .all(|f| f.path.to_str() != Some("/etc/resolv.conf")));
    }

    #[test]
    fn files_land_under_the_root_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path());
        let specs = files(&system(), Some(&dns()), Some(Ipv4Addr::new(10, 0, 0, 2)));
        for spec in &specs {
            assert!(!spec.is_current(&root));
            write_atomic(&root.path(&spec.path), spec.contents.as_bytes(), spec.mode).unwrap();
            assert!(spec.is_current(&root), "{}", spec.path.display());
        }
        let hostname = std::fs::read_to_string(dir.path().join("etc/hostname")).unwrap();
        assert_eq!(hostname, "pbx\n");
    }
}
