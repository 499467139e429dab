//! What the console shows at the first boot: where to browse to, the
//! setup token and the certificate's fingerprint. Standard output is the
//! console (the serial line on the image) in the unit, never the journal,
//! and each `--console` terminal gets it too, so the token is not logged.
//!
//! The addresses are the box's own, read every [`POLL`]; the banner is shown
//! again whenever they change, so a DHCP lease that arrives after the wizard
//! started, or the address the wizard itself set, is on the screen.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::InterfaceFlags;
use tokio::sync::watch;

/// How often the addresses are read again.
pub const POLL: Duration = Duration::from_secs(2);

/// The box's addresses a browser may use, and the interfaces (not
/// loopback) that could get one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    pub addresses: BTreeSet<IpAddr>,
    pub interfaces: BTreeSet<String>,
}

/// Whether `ip` is worth showing: not loopback, unspecified, link-local or multicast.
pub fn reachable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback() || v4.is_unspecified() || v4.is_link_local() || v4.is_multicast())
        }
        IpAddr::V6(v6) => {
            let link_local = v6.segments()[0] & 0xffc0 == 0xfe80;
            !(v6.is_loopback() || v6.is_unspecified() || link_local || v6.is_multicast())
                && v6.to_ipv4_mapped().is_none()
        }
    }
}

/// The box's addresses now (none when they cannot be read).
pub fn seen() -> Seen {
    let mut out = Seen::default();
    let Ok(addrs) = getifaddrs() else {
        // getifaddrs() speaks netlink, which a sandbox may forbid
        // (RestrictAddressFamilies=); the kernel tells the same otherwise.
        return seen_without_netlink();
    };
    for a in addrs {
        if a.flags.contains(InterfaceFlags::IFF_LOOPBACK) {
            continue;
        }
        out.interfaces.insert(a.interface_name.clone());
        let Some(addr) = a.address else { continue };
        let ip = if let Some(v4) = addr.as_sockaddr_in() {
            IpAddr::V4(v4.ip())
        } else if let Some(v6) = addr.as_sockaddr_in6() {
            IpAddr::V6(v6.ip())
        } else {
            continue;
        };
        if reachable(ip) {
            out.addresses.insert(ip);
        }
    }
    out
}

/// What [`seen`] finds, read without netlink: IPv4 addresses by the
/// SIOCGIFCONF ioctl on an AF_INET socket, IPv6 ones from
/// `/proc/self/net/if_inet6`, the interfaces from `/sys/class/net`.
pub fn seen_without_netlink() -> Seen {
    let mut out = Seen::default();
    if let Ok(dir) = std::fs::read_dir("/sys/class/net") {
        out.interfaces = dir
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n != "lo")
            .collect();
    }
    for (name, ip) in ipv4_by_ioctl().unwrap_or_default() {
        if name != "lo" && reachable(IpAddr::V4(ip)) {
            out.addresses.insert(IpAddr::V4(ip));
        }
    }
    let v6 = std::fs::read_to_string("/proc/self/net/if_inet6").unwrap_or_default();
    out.addresses
        .extend(parse_if_inet6(&v6).into_iter().filter(|ip| reachable(*ip)));
    out
}

/// The addresses of `/proc/net/if_inet6` (`<32 hex digits> <index> <prefix> <scope> <flags> <name>`), but loopback's.
fn parse_if_inet6(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            if fields.len() < 6 || fields[5] == "lo" {
                return None;
            }
            let bits = u128::from_str_radix(fields[0], 16).ok()?;
            Some(IpAddr::V6(std::net::Ipv6Addr::from(bits)))
        })
        .collect()
}

/// Each interface's IPv4 address, by SIOCGIFCONF.
fn ipv4_by_ioctl() -> std::io::Result<Vec<(String, std::net::Ipv4Addr)>> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    const MAX: usize = 256;
    // SAFETY: plain socket and ioctl calls on a descriptor this function
    // owns, with a buffer of `MAX` zeroed ifreq the kernel fills and
    // ifc_len bounds; only AF_INET entries are read as sockaddr_in.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let fd = OwnedFd::from_raw_fd(fd);
        let mut reqs: Vec<libc::ifreq> = vec![std::mem::zeroed(); MAX];
        let mut conf = libc::ifconf {
            ifc_len: (std::mem::size_of::<libc::ifreq>() * MAX) as libc::c_int,
            ifc_ifcu: libc::__c_anonymous_ifc_ifcu {
                ifcu_req: reqs.as_mut_ptr(),
            },
        };
        if libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFCONF, &mut conf) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let n = (conf.ifc_len.max(0) as usize / std::mem::size_of::<libc::ifreq>()).min(MAX);
        let mut out = Vec::new();
        for r in &reqs[..n] {
            let addr = r.ifr_ifru.ifru_addr;
            if i32::from(addr.sa_family) != libc::AF_INET {
                continue;
            }
            let sin: libc::sockaddr_in = std::ptr::read_unaligned(std::ptr::from_ref(&addr).cast());
            let name = std::ffi::CStr::from_ptr(r.ifr_name.as_ptr())
                .to_string_lossy()
                .into_owned();
            out.push((
                name,
                std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
            ));
        }
        Ok(out)
    }
}

/// The banner's text for `seen`.
pub fn text(seen: &Seen, port: u16, token: &str, fingerprint: &str) -> String {
    let port = match port {
        443 => String::new(),
        p => format!(":{p}"),
    };
    let mut t = String::from("\n telbox first-boot setup: ");
    if seen.addresses.is_empty() {
        let on = if seen.interfaces.is_empty() {
            "no network interface yet".to_owned()
        } else {
            let names: Vec<&str> = seen.interfaces.iter().map(String::as_str).collect();
            format!("DHCP on {}", names.join(", "))
        };
        t.push_str(&format!(
            "waiting for an address ({on})…\n this is shown again once the box has one\n"
        ));
    } else {
        t.push_str("open one of these in a browser\n");
        for ip in &seen.addresses {
            match ip {
                IpAddr::V4(v4) => t.push_str(&format!("   https://{v4}{port}/\n")),
                IpAddr::V6(v6) => t.push_str(&format!("   https://[{v6}]{port}/\n")),
            }
        }
    }
    t.push_str(&format!(
        " setup token:             {token}\n \
         certificate fingerprint: SHA-256 {fingerprint}\n \
         (as root: appliance wizard token)\n\n"
    ));
    t
}

fn show(text: &str, consoles: &[PathBuf]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    for tty in consoles {
        let written = std::fs::OpenOptions::new()
            .write(true)
            .open(tty)
            .and_then(|mut t| t.write_all(text.replace('\n', "\r\n").as_bytes()));
        if let Err(e) = written {
            tracing::warn!(console = %tty.display(), error = %e, "could not show the setup banner there");
        }
    }
}

/// Shows the banner, and again whenever the box's addresses change, until
/// the wizard is done. `listening` is the server's address: when it is not
/// an unspecified one, only it is shown.
pub async fn keep_shown(
    token: String,
    fingerprint: String,
    listening: std::net::SocketAddr,
    consoles: Vec<PathBuf>,
    mut done: watch::Receiver<bool>,
) {
    let port = listening.port();
    let consoles = std::sync::Arc::new(consoles);
    let mut shown: Option<Seen> = None;
    while !*done.borrow() {
        let mut now = seen();
        if !listening.ip().is_unspecified() {
            now.addresses.retain(|a| *a == listening.ip());
        }
        if !now.addresses.is_empty() {
            // Interfaces only matter while there is no address to show.
            now.interfaces.clear();
        }
        if shown.as_ref() != Some(&now) {
            if shown.is_some() {
                tracing::info!(addresses = ?now.addresses, "the box's addresses changed; the banner is shown again");
            }
            let t = text(&now, port, &token, &fingerprint);
            let consoles = consoles.clone();
            // A terminal may block (a serial line under flow control).
            let _ = tokio::task::spawn_blocking(move || show(&t, &consoles)).await;
            shown = Some(now);
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = done.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_lists_every_address_or_says_it_waits_for_one() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let mut s = Seen::default();
        s.interfaces.insert("eth0".into());
        let t = text(&s, 443, "TOKEN", "AB:CD");
        assert!(t.contains("waiting for an address (DHCP on eth0)"), "{t}");
        assert!(
            !t.contains('<') && t.contains("TOKEN") && t.contains("SHA-256 AB:CD"),
            "{t}"
        );
        s.addresses.insert(ip("192.0.2.10"));
        s.addresses.insert(ip("2001:db8::10"));
        let t = text(&s, 8443, "TOKEN", "AB:CD");
        assert!(t.contains("   https://192.0.2.10:8443/\n"), "{t}");
        assert!(t.contains("   https://[2001:db8::10]:8443/\n"), "{t}");
        assert!(!t.contains("waiting"), "{t}");
        for (addr, shown) in [
            ("127.0.0.1", false),
            ("169.254.1.2", false),
            ("fe80::1", false),
            ("::1", false),
            ("10.1.2.3", true),
            ("fd00::5", true),
        ] {
            assert_eq!(reachable(ip(addr)), shown, "{addr}");
        }
        // This machine's own loopback is never listed, and the two ways of
        // reading the addresses agree.
        let (netlink, kernel) = (seen(), seen_without_netlink());
        assert!(netlink.addresses.iter().all(|a| !a.is_loopback()));
        assert_eq!(netlink.addresses, kernel.addresses);
        let v6 = "20010db8000000000000000000000010 03 40 00 80     eth0\n\
                  00000000000000000000000000000001 01 80 10 80       lo\n";
        assert_eq!(parse_if_inet6(v6), vec![ip("2001:db8::10")]);
    }
}
