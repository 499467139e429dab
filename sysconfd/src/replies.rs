//! sysconfd's own observations turned into the contract's reply types
//! (`appliance::views`): the only shapes that go on the bus.

use appliance::views::{
    CardInfo, CardSummary, ClientLease, HardwareView, LinkInfo, Nic, NtpSource, NtpTracking,
    NtpView, PhoneLease, RouteInfo, SpanInfo,
};

use crate::{dhcp, network, ntp};

pub fn link(l: network::Link) -> LinkInfo {
    LinkInfo {
        name: l.name,
        mac: l.mac,
        up: l.up,
        oper: l.oper,
        mtu: l.mtu,
        kind: l.kind,
        vlan_id: l.vlan_id,
        ipv4: l.ipv4,
    }
}

pub fn route(r: network::RouteEntry) -> RouteInfo {
    RouteInfo {
        destination: r.destination,
        gateway: r.gateway,
        dev: r.dev,
        protocol: r.protocol,
        metric: r.metric,
    }
}

pub fn client_lease(l: network::DhclientLease) -> ClientLease {
    ClientLease {
        address: l.address,
        routers: l.routers,
        nameservers: l.nameservers,
        expire: l.expire,
    }
}

pub fn phone_lease(l: dhcp::KeaLease) -> PhoneLease {
    PhoneLease {
        ip: l.ip,
        mac: l.mac,
        vendor: l.vendor,
        hostname: l.hostname,
        expires: l.expires,
        subnet_id: l.subnet_id,
    }
}

/// A unit enum's serde name (`server`, `selected`…).
fn word<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

pub fn ntp(s: ntp::NtpStatus) -> NtpView {
    let t = s.tracking;
    NtpView {
        tracking: NtpTracking {
            reference_id: t.reference_id,
            reference: t.reference,
            stratum: t.stratum,
            system_offset: t.system_offset,
            leap_status: t.leap_status,
            synchronized: t.synchronized,
        },
        sources: s
            .sources
            .into_iter()
            .map(|src| NtpSource {
                mode: word(&src.mode),
                state: word(&src.state),
                address: src.address,
                stratum: src.stratum,
                poll: src.poll,
                reach: src.reach,
            })
            .collect(),
    }
}

pub fn hardware(inv: hwmgr::detect::Inventory) -> HardwareView {
    let cards = inv
        .cards
        .iter()
        .map(|c| CardInfo {
            location: c.location(),
            id: c.id(),
            driver: c.driver().name().to_owned(),
            bound_driver: c.bound_driver().map(str::to_owned),
            description: c.description().to_owned(),
            spans: c.span_count().unwrap_or(0) as usize,
        })
        .collect();
    HardwareView {
        cards,
        transcoders: Vec::new(),
    }
}

pub fn span(s: hwmgr::status::SpanStatus) -> SpanInfo {
    SpanInfo {
        number: s.number,
        name: s.name,
        description: s.description,
        span_type: s.span_type.map(|t| t.to_string()),
        alarms: s.alarms.to_string(),
        clock_source: s.clock_source,
        channels: s.channels.len(),
    }
}

pub fn nic(l: network::Link) -> Nic {
    Nic {
        name: l.name,
        mac: l.mac,
        operstate: l.oper,
        mtu: l.mtu,
        addresses: l.ipv4,
    }
}

pub fn card_summary(c: &hwmgr::detect::Card) -> CardSummary {
    CardSummary {
        location: c.location(),
        driver: c.driver().name().to_owned(),
        description: c.description().to_owned(),
        spans: c.span_count().unwrap_or(0) as usize,
    }
}
