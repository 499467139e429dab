//! `appliance network show`, `dhcp leases`, `ntp status`, `telephony hardware|spans|propose`:
//! what sysconfd reads fresh from the system, as the contract's types.

use appliance::config::network::Role;
use appliance::views::{
    HardwareView, NetworkView, NtpView, PhoneLease, SpanInfo, LOCAL_CLOCK_REFID,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::bus::{self, CallError, CallResult};

/// A reply as its contract type.
pub fn read<T: DeserializeOwned>(text: &str) -> Result<T, CallError> {
    serde_json::from_str(text)
        .map_err(|e| CallError(format!("unreadable answer from sysconfd: {e}")))
}

/// A reply for `--json`: the contract type, pretty.
pub fn print_json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("replies serialize")
    );
}

fn or_dash(v: Option<impl ToString>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

pub async fn network(json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let v: NetworkView = read(&bus::status(&conn).await?.network().await?)?;
    if json {
        print_json(&v);
        return Ok(());
    }
    if !v.managed {
        println!("sysconfd does not manage the network here (--no-network)");
        return Ok(());
    }
    println!(
        "{:<16} {:<6} {:<10} {:>6}  {:<18} addresses",
        "link", "role", "state", "mtu", "mac"
    );
    for l in &v.links {
        let role = match v.roles.get(&l.name) {
            Some(Role::Voip) => "voip",
            Some(Role::Data) => "data",
            None => "-",
        };
        let addrs: Vec<String> = l.ipv4.iter().map(ToString::to_string).collect();
        println!(
            "{:<16} {:<6} {:<10} {:>6}  {:<18} {}",
            l.name,
            role,
            l.oper,
            l.mtu,
            or_dash(l.mac.as_ref()),
            addrs.join(" ")
        );
    }
    println!();
    for r in &v.routes {
        println!(
            "route {} via {} dev {} proto {}",
            r.destination,
            or_dash(r.gateway),
            or_dash(r.dev.as_ref()),
            r.origin()
        );
    }
    for (link, lease) in &v.dhcp_leases {
        match &lease.address {
            Some(addr) => println!(
                "DHCP lease on {link}: {addr}, router {}, expires {}",
                or_dash(lease.routers.first()),
                or_dash(lease.expire.as_ref())
            ),
            None => println!("DHCP client on {link}: no lease yet"),
        }
    }
    if v.differs.is_empty() {
        println!("\nthe network matches the configuration");
    } else {
        println!("\ndiffers from the configuration:");
        for d in &v.differs {
            println!("  {d}");
        }
    }
    Ok(())
}

pub async fn leases(json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let leases: Vec<PhoneLease> = read(&bus::status(&conn).await?.leases().await?)?;
    if json {
        print_json(&leases);
        return Ok(());
    }
    println!(
        "{:<16} {:<18} {:<10} {:<16} expires (UTC)",
        "address", "mac", "vendor", "hostname"
    );
    for l in &leases {
        let expires = crate::configcmd::utc(l.expires.min(i64::MAX as u64) as i64);
        println!(
            "{:<16} {:<18} {:<10} {:<16} {expires}",
            l.ip,
            or_dash(l.mac.as_ref()),
            or_dash(l.vendor.as_ref()),
            or_dash(l.hostname.as_ref())
        );
    }
    Ok(())
}

pub async fn ntp(json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let v: NtpView = read(&bus::status(&conn).await?.ntp().await?)?;
    if json {
        print_json(&v);
        return Ok(());
    }
    let t = &v.tracking;
    let reference = if t.reference_id == LOCAL_CLOCK_REFID {
        "local clock".to_owned()
    } else {
        format!("{} ({})", t.reference, t.reference_id)
    };
    println!(
        "reference {reference}  stratum {}  leap status {}",
        t.stratum, t.leap_status
    );
    println!(
        "{:<4} {:<10} {:<24} {:>7} {:>5} {:>5}",
        "mode", "state", "source", "stratum", "poll", "reach"
    );
    for src in &v.sources {
        println!(
            "{:<4} {:<10} {:<24} {:>7} {:>5} {:>5o}",
            src.mode, src.state, src.address, src.stratum, src.poll, src.reach
        );
    }
    Ok(())
}

pub async fn hardware(json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let v: HardwareView = read(&bus::status(&conn).await?.hardware().await?)?;
    if json {
        print_json(&v);
        return Ok(());
    }
    if v.cards.is_empty() {
        println!("no telephony card found");
        return Ok(());
    }
    println!(
        "{:<18} {:<20} {:<12} {:>5}  description",
        "location", "driver", "id", "spans"
    );
    for c in &v.cards {
        let driver = match &c.bound_driver {
            Some(d) => d.clone(),
            None => format!("{} (not loaded)", c.driver),
        };
        println!(
            "{:<18} {:<20} {:<12} {:>5}  {}",
            c.location, driver, c.id, c.spans, c.description
        );
    }
    for t in &v.transcoders {
        let firmware = if t.firmware_installed {
            ""
        } else {
            ", firmware not installed"
        };
        println!(
            "transcoder {}: {} channels of {} (mode {}{firmware})",
            t.location, t.channels, t.codecs, t.mode
        );
    }
    Ok(())
}

pub async fn spans(json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let spans: Vec<SpanInfo> = read(&bus::status(&conn).await?.spans().await?)?;
    if json {
        print_json(&spans);
        return Ok(());
    }
    println!(
        "{:>4}  {:<36} {:<12} {:<14} channels",
        "span", "description", "type", "alarms"
    );
    for sp in &spans {
        println!(
            "{:>4}  {:<36} {:<12} {:<14} {}",
            sp.number,
            sp.description,
            or_dash(sp.span_type.as_ref()),
            sp.alarms,
            sp.channels
        );
    }
    Ok(())
}

pub async fn propose() -> CallResult {
    let conn = bus::connect().await?;
    print!("{}", bus::status(&conn).await?.propose().await?);
    Ok(())
}
