//! Reading Kea's memfile lease CSV back: who has which address, until when.
//!
//! The file is append-only: a later row for an address replaces earlier
//! ones, a row with lifetime 0 deletes the lease. Kea's lease-file cleanup
//! leaves older rows in `<file>.completed`, or `<file>.2` then `<file>.1`,
//! which are read first.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use appliance::config::values::MacAddr;
use serde::Serialize;

use super::vendors::{phone_vendors, vendor_of};
use super::KeaError;

/// A current lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeaLease {
    pub ip: Ipv4Addr,
    /// The client's MAC address, when Kea recorded one.
    pub mac: Option<MacAddr>,
    /// The phone vendor its MAC prefix belongs to (Kea does not record the
    /// vendor-class identifier in the lease file).
    pub vendor: Option<String>,
    /// Host name the client sent or was given.
    pub hostname: Option<String>,
    /// End of the lease, in seconds since the Unix epoch.
    pub expires: u64,
    /// The Kea subnet id (the subnet's network address as a number).
    pub subnet_id: u32,
}

/// The current leases in `lease_file`, ordered by address. A missing file
/// means no leases.
pub fn leases(lease_file: &Path) -> Result<Vec<KeaLease>, KeaError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut text = String::new();
    for file in lease_files(lease_file) {
        match std::fs::read_to_string(&file) {
            Ok(t) => text.push_str(&t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(KeaError::Io(e)),
        }
        text.push('\n');
    }
    parse_kea_leases(&text, now)
}

/// The files holding leases, oldest first.
fn lease_files(lease_file: &Path) -> Vec<PathBuf> {
    let with = |suffix: &str| {
        let mut s = lease_file.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    let completed = with(".completed");
    let mut files = if completed.exists() {
        vec![completed]
    } else {
        vec![with(".2"), with(".1")]
    };
    files.push(lease_file.to_owned());
    files
}

/// Column positions, taken from a header row.
struct Columns {
    address: usize,
    hwaddr: usize,
    valid_lifetime: usize,
    expire: usize,
    subnet_id: usize,
    hostname: usize,
    state: usize,
}

impl Columns {
    fn from_header(line: &str) -> Option<Columns> {
        let names: Vec<&str> = line.split(',').map(str::trim).collect();
        let at = |n: &str| names.iter().position(|c| *c == n);
        Some(Columns {
            address: at("address")?,
            hwaddr: at("hwaddr")?,
            valid_lifetime: at("valid_lifetime")?,
            expire: at("expire")?,
            subnet_id: at("subnet_id")?,
            hostname: at("hostname")?,
            state: at("state")?,
        })
    }
}

/// Parses lease CSV text (possibly several files in a row), keeping leases
/// that are live at `now`.
pub fn parse_kea_leases(text: &str, now: u64) -> Result<Vec<KeaLease>, KeaError> {
    let vendors = phone_vendors();
    let mut cols: Option<Columns> = None;
    let mut latest: BTreeMap<Ipv4Addr, Option<KeaLease>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if line.starts_with("address,") {
            cols = Some(
                Columns::from_header(line)
                    .ok_or_else(|| KeaError::LeaseFile(format!("unknown header: {line}")))?,
            );
            continue;
        }
        let c = cols
            .as_ref()
            .ok_or_else(|| KeaError::LeaseFile("lease row before any header".into()))?;
        let fields: Vec<&str> = line.split(',').collect();
        let (ip, lease) = parse_row(c, &fields, &vendors)
            .ok_or_else(|| KeaError::LeaseFile(format!("bad row: {line}")))?;
        latest.insert(ip, lease);
    }
    Ok(latest
        .into_values()
        .flatten()
        .filter(|l| l.expires > now)
        .collect())
}

/// One row: the address, and the lease it holds (`None` when deleted,
/// declined or reclaimed).
fn parse_row(
    c: &Columns,
    f: &[&str],
    vendors: &[super::vendors::PhoneVendor],
) -> Option<(Ipv4Addr, Option<KeaLease>)> {
    let get = |i: usize| f.get(i).copied().map(str::trim);
    let ip: Ipv4Addr = get(c.address)?.parse().ok()?;
    let lifetime: u64 = get(c.valid_lifetime)?.parse().ok()?;
    let state: u32 = get(c.state)?.parse().ok()?;
    if lifetime == 0 || state != 0 {
        return Some((ip, None));
    }
    let mac: Option<MacAddr> = get(c.hwaddr).and_then(|m| m.parse().ok());
    let hostname = get(c.hostname).filter(|h| !h.is_empty()).map(unescape);
    let lease = KeaLease {
        ip,
        mac,
        vendor: mac
            .and_then(|m| vendor_of(vendors, &m))
            .map(|v| v.name.clone()),
        hostname,
        expires: get(c.expire)?.parse().ok()?,
        subnet_id: get(c.subnet_id)?.parse().ok()?,
    };
    Some((ip, Some(lease)))
}

/// Kea writes commas inside text fields as `&#x2c`.
fn unescape(s: &str) -> String {
    s.replace("&#x2c", ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n";

    #[test]
    fn later_rows_win_and_deleted_or_expired_leases_vanish() {
        let text = format!(
            "{HEADER}\
             10.0.0.100,00:08:5d:00:00:01,,3600,2000,167772160,0,0,phone1,0,\n\
             10.0.0.101,02:11:22:33:44:55,,3600,2000,167772160,0,0,,0,\n\
             10.0.0.100,00:08:5d:00:00:01,,3600,5000,167772160,0,0,phone&#x2c1,0,\n\
             10.0.0.101,02:11:22:33:44:55,,0,2000,167772160,0,0,,0,\n\
             10.0.0.102,02:00:00:00:00:09,,3600,900,167772160,0,0,,0,\n"
        );
        let leases = parse_kea_leases(&text, 1000).unwrap();
        assert_eq!(leases.len(), 1, "{leases:?}");
        let l = &leases[0];
        assert_eq!(l.ip, Ipv4Addr::new(10, 0, 0, 100));
        assert_eq!(l.expires, 5000);
        assert_eq!(l.vendor.as_deref(), Some("aastra"));
        assert_eq!(l.hostname.as_deref(), Some("phone,1"));
        let json = serde_json::to_value(l).unwrap();
        assert_eq!(json["mac"], "00:08:5d:00:00:01");
    }

    #[test]
    fn a_missing_file_has_no_leases() {
        assert!(leases(Path::new("/nonexistent/telbox/leases.csv"))
            .unwrap()
            .is_empty());
    }
}
