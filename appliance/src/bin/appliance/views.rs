//! `appliance network show`, `dhcp leases`, `ntp status`, `telephony hardware|spans|propose`:
//! what sysconfd reads fresh from the system.

use serde_json::Value;

use crate::bus::{self, pretty, CallError, CallResult};

fn parse(text: &str) -> Result<Value, CallError> {
    serde_json::from_str(text)
        .map_err(|e| CallError(format!("unreadable answer from sysconfd: {e}")))
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

pub async fn network(json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let text = bus::status(&conn).await?.network().await?;
    if json {
        println!("{}", pretty(&text));
        return Ok(());
    }
    let v = parse(&text)?;
    if v["managed"] == Value::Bool(false) {
        println!("sysconfd does not manage the network here (--no-network)");
        return Ok(());
    }
    println!(
        "{:<16} {:<6} {:<10} {:>6}  {:<18} addresses",
        "link", "role", "state", "mtu", "mac"
    );
    for l in v["links"].as_array().into_iter().flatten() {
        let name = s(&l["name"]);
        let role = v["roles"].get(&name).map(s).unwrap_or_else(|| "-".into());
        let addrs: Vec<String> = l["ipv4"].as_array().into_iter().flatten().map(s).collect();
        println!(
            "{:<16} {:<6} {:<10} {:>6}  {:<18} {}",
            name,
            role,
            s(&l["oper"]),
            s(&l["mtu"]),
            s(&l["mac"]),
            addrs.join(" ")
        );
    }
    println!();
    for r in v["routes"].as_array().into_iter().flatten() {
        let proto = if r["protocol"] == 207 {
            "telbox".to_owned()
        } else {
            s(&r["protocol"])
        };
        println!(
            "route {} via {} dev {} proto {}",
            s(&r["destination"]),
            s(&r["gateway"]),
            s(&r["dev"]),
            proto
        );
    }
    for (link, lease) in v["dhcp_leases"].as_object().into_iter().flatten() {
        match lease["address"].as_str() {
            Some(addr) => println!(
                "DHCP lease on {link}: {addr}, router {}, expires {}",
                s(&lease["routers"][0]),
                s(&lease["expire"])
            ),
            None => println!("DHCP client on {link}: no lease yet"),
        }
    }
    let differs: Vec<String> = v["differs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(s)
        .collect();
    if differs.is_empty() {
        println!("\nthe network matches the configuration");
    } else {
        println!("\ndiffers from the configuration:");
        for d in differs {
            println!("  {d}");
        }
    }
    Ok(())
}

pub async fn leases(json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let text = bus::status(&conn).await?.leases().await?;
    if json {
        println!("{}", pretty(&text));
        return Ok(());
    }
    println!(
        "{:<16} {:<18} {:<10} {:<16} expires (UTC)",
        "address", "mac", "vendor", "hostname"
    );
    for l in parse(&text)?.as_array().into_iter().flatten() {
        let expires = crate::configcmd::utc(l["expires"].as_i64().unwrap_or(0));
        println!(
            "{:<16} {:<18} {:<10} {:<16} {expires}",
            s(&l["ip"]),
            s(&l["mac"]),
            s(&l["vendor"]),
            s(&l["hostname"])
        );
    }
    Ok(())
}

pub async fn ntp(json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let text = bus::status(&conn).await?.ntp().await?;
    if json {
        println!("{}", pretty(&text));
        return Ok(());
    }
    let v = parse(&text)?;
    let t = &v["tracking"];
    let reference = match t["reference_id"].as_str() {
        Some("7F7F0101") => "local clock".to_owned(),
        _ => format!("{} ({})", s(&t["reference"]), s(&t["reference_id"])),
    };
    println!(
        "reference {reference}  stratum {}  leap status {}",
        s(&t["stratum"]),
        s(&t["leap_status"])
    );
    println!(
        "{:<4} {:<10} {:<24} {:>7} {:>5} {:>5}",
        "mode", "state", "source", "stratum", "poll", "reach"
    );
    for src in v["sources"].as_array().into_iter().flatten() {
        println!(
            "{:<4} {:<10} {:<24} {:>7} {:>5} {:>5o}",
            s(&src["mode"]),
            s(&src["state"]),
            s(&src["address"]),
            s(&src["stratum"]),
            s(&src["poll"]),
            src["reach"].as_u64().unwrap_or(0)
        );
    }
    Ok(())
}

pub async fn hardware(json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let text = bus::status(&conn).await?.hardware().await?;
    if json {
        println!("{}", pretty(&text));
        return Ok(());
    }
    let v = parse(&text)?;
    let cards = v["cards"].as_array().cloned().unwrap_or_default();
    if cards.is_empty() {
        println!("no telephony card found");
    }
    println!(
        "{:<18} {:<12} {:<22} {:>5}  description",
        "location", "driver", "id", "spans"
    );
    for c in cards {
        let location = format!("{}:{}", s(&c["bus"]), s(&c["address"]));
        let spans = c["dahdi"]["span_count"].as_u64().unwrap_or(0);
        let driver = if c["bound_driver"].is_null() {
            format!("{} (not loaded)", s(&c["entry"]["driver"]))
        } else {
            s(&c["bound_driver"])
        };
        println!(
            "{:<18} {:<12} {:<22} {:>5}  {}",
            location,
            driver,
            s(&c["id"]),
            spans,
            s(&c["entry"]["description"])
        );
    }
    Ok(())
}

pub async fn spans(json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let text = bus::status(&conn).await?.spans().await?;
    if json {
        println!("{}", pretty(&text));
        return Ok(());
    }
    println!(
        "{:>4}  {:<36} {:<12} {:<14} channels",
        "span", "description", "type", "alarms"
    );
    for sp in parse(&text)?.as_array().into_iter().flatten() {
        let channels = sp["channels"].as_array().map_or(0, Vec::len);
        let alarms: Vec<String> = sp["alarms"]
            .as_array()
            .into_iter()
            .flatten()
            .map(s)
            .collect();
        let alarms = if alarms.is_empty() {
            "OK".to_owned()
        } else {
            alarms.join("/")
        };
        println!(
            "{:>4}  {:<36} {:<12} {:<14} {channels}",
            s(&sp["number"]),
            s(&sp["description"]),
            s(&sp["span_type"]),
            alarms
        );
    }
    Ok(())
}

pub async fn propose() -> CallResult {
    let conn = bus::connect().await?;
    print!("{}", bus::status(&conn).await?.propose().await?);
    Ok(())
}
