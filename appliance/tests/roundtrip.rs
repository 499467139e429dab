//! Property tests of the config model:
//! * any `Config` the types can hold serializes to TOML and parses back equal;
//! * a valid config survives `to_toml` then `load` (validation included) unchanged.

use std::net::{IpAddr, Ipv4Addr};

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use appliance::config::berofos::Berofos;
use appliance::config::dhcp::{Dhcp, DhcpSubnet, Reservation};
use appliance::config::ha::{Ha, HaRole};
use appliance::config::network::{Interface, Method, Mtu, Network, Role, Route, Vlan, VlanId};
use appliance::config::ntp::Ntp;
use appliance::config::system::{Dns, System, Timezone};
use appliance::config::telephony::{
    self as tel, AnalogOptions, BriPersistence, Card, Coding, EchoCanceller, Framing, Line,
    LineMode, OverlapDial, Port, PortKind, Signalling, Span, Switchtype, Telephony, TranscoderMode,
};
use appliance::config::values::{
    AbsPath, DomainName, HostAddr, Hostname, Ident, InterfaceName, Ipv4Cidr, MacAddr, SafeText,
    Secret,
};
use appliance::config::{self, Config};

/// Lists in generated configs hold 0 to 2 elements.
fn list<T: std::fmt::Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Vec<T>> {
    vec(s, 0..3)
}

/// A typed value built from text its constructor accepts.
fn parsed<T>(pattern: &'static str) -> impl Strategy<Value = T>
where
    T: std::str::FromStr<Err = String> + std::fmt::Debug,
{
    pattern.prop_map(|s| {
        s.parse::<T>()
            .unwrap_or_else(|e| panic!("strategy built `{s}`: {e}"))
    })
}

// ---- values ----

fn hostname() -> impl Strategy<Value = Hostname> {
    parsed("[a-zA-Z0-9]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?")
}

fn domain() -> impl Strategy<Value = DomainName> {
    parsed("[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\\.[a-zA-Z0-9]([a-z0-9-]{0,8}[a-z0-9])?){0,3}")
}

fn host_addr() -> impl Strategy<Value = HostAddr> {
    prop_oneof![
        any::<IpAddr>().prop_map(|ip| ip.to_string().parse().unwrap()),
        domain().prop_map(|d| d.as_str().parse().unwrap()),
    ]
}

fn cidr() -> impl Strategy<Value = Ipv4Cidr> {
    (any::<Ipv4Addr>(), 0u8..=32).prop_map(|(a, p)| Ipv4Cidr::new(a, p).unwrap())
}

fn iface_name() -> impl Strategy<Value = InterfaceName> {
    parsed("[a-z][a-z0-9._@-]{0,14}")
}

fn mac() -> impl Strategy<Value = MacAddr> {
    any::<[u8; 6]>().prop_map(MacAddr)
}

fn abs_path() -> impl Strategy<Value = AbsPath> {
    parsed("(/[a-zA-Z0-9_+-][a-zA-Z0-9._+-]{0,8}){1,4}")
}

fn safe_text() -> impl Strategy<Value = SafeText> {
    parsed("[a-zA-Z0-9 :/.,_()@!?%*+-]{0,40}")
}

fn ident() -> impl Strategy<Value = Ident> {
    parsed("[a-zA-Z0-9_.+-]{1,30}")
}

fn secret() -> impl Strategy<Value = Secret> {
    parsed("[a-zA-Z0-9!\"#$%&'()*+,./;<=>?@\\[\\]^_`{|}~-]{1,40}")
}

fn timezone() -> impl Strategy<Value = Timezone> {
    "(UTC|[A-Z][a-z]{1,10}(/[A-Z][a-zA-Z_+-]{1,12}){1,2})"
        .prop_map(|s| Timezone::try_from(s).expect("a tz name"))
}

fn mtu() -> impl Strategy<Value = Mtu> {
    (68u32..=9216).prop_map(|v| Mtu::try_from(v).unwrap())
}

fn vlan_id() -> impl Strategy<Value = VlanId> {
    (1u16..=4094).prop_map(|v| VlanId::try_from(v).unwrap())
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Voip), Just(Role::Data)]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![Just(Method::Static), Just(Method::Dhcp), Just(Method::Off)]
}

// ---- sections, any typed values ----

prop_compose! {
    fn system()(hostname in hostname(), domain in domain(), timezone in timezone()) -> System {
        System { hostname, domain, timezone }
    }
}

prop_compose! {
    fn dns()(nameservers in list(any::<IpAddr>()), search in vec(domain(), 0..8)) -> Dns {
        Dns { nameservers, search }
    }
}

prop_compose! {
    fn interface()(
        name in iface_name(),
        role in role(),
        method in method(),
        address in option::of(cidr()),
        gateway in option::of(any::<Ipv4Addr>()),
        mtu in option::of(mtu()),
        managed in any::<bool>(),
    ) -> Interface {
        Interface { name, role, method, address, gateway, mtu, managed }
    }
}

prop_compose! {
    fn vlan()(
        name in iface_name(),
        parent in iface_name(),
        id in vlan_id(),
        role in role(),
        method in method(),
        address in option::of(cidr()),
        gateway in option::of(any::<Ipv4Addr>()),
        mtu in option::of(mtu()),
    ) -> Vlan {
        Vlan { name, parent, id, role, method, address, gateway, mtu }
    }
}

prop_compose! {
    fn route()(
        destination in cidr(),
        via in any::<Ipv4Addr>(),
        interface in option::of(iface_name()),
    ) -> Route {
        Route { destination, via, interface }
    }
}

prop_compose! {
    fn network()(interface in list(interface()), vlan in list(vlan()), route in list(route())) -> Network {
        Network { interface, vlan, route }
    }
}

prop_compose! {
    fn dhcp_subnet()(
        name in ident(),
        network in cidr(),
        pool_start in any::<Ipv4Addr>(),
        pool_end in any::<Ipv4Addr>(),
        router in any::<Ipv4Addr>(),
    ) -> DhcpSubnet {
        DhcpSubnet { name, network, pool_start, pool_end, router }
    }
}

prop_compose! {
    fn reservation()(
        mac in mac(),
        address in any::<Ipv4Addr>(),
        hostname in option::of(hostname()),
    ) -> Reservation {
        Reservation { mac, address, hostname }
    }
}

prop_compose! {
    fn dhcp()(
        enabled in any::<bool>(),
        interfaces in list(iface_name()),
        pool_start in option::of(any::<Ipv4Addr>()),
        pool_end in option::of(any::<Ipv4Addr>()),
        router in option::of(any::<Ipv4Addr>()),
        lease_time in any::<u32>(),
        unknown_clients in any::<bool>(),
        provisioning_url in option::of(safe_text()),
        subnet in list(dhcp_subnet()),
        reservation in list(reservation()),
    ) -> Dhcp {
        Dhcp {
            enabled, interfaces, pool_start, pool_end, router, lease_time,
            unknown_clients, provisioning_url, subnet, reservation,
        }
    }
}

prop_compose! {
    // No fallback (`None`) is written as `local_stratum = 0`, so 0 is not a stratum.
    fn ntp()(
        servers in list(host_addr()),
        pools in list(host_addr()),
        serve_voip in any::<bool>(),
        local_stratum in proptest::option::of(1u8..),
    ) -> Ntp {
        Ntp { servers, pools, serve_voip, local_stratum }
    }
}

prop_compose! {
    fn berofos()(
        name in ident(),
        host in any::<IpAddr>(),
        mac in option::of(mac()),
        user in option::of(ident()),
        password_file in option::of(abs_path()),
        password in option::of(secret()),
    ) -> Berofos {
        Berofos { name, host, mac, user, password_file, password }
    }
}

fn ha_role() -> impl Strategy<Value = HaRole> {
    prop_oneof![
        Just(HaRole::Master),
        Just(HaRole::Slave),
        Just(HaRole::Disabled)
    ]
}

prop_compose! {
    fn ha()(
        role in ha_role(),
        peer in option::of(any::<Ipv4Addr>()),
        interface in option::of(iface_name()),
        virtual_address in option::of(cidr()),
        shared_key_file in option::of(abs_path()),
        heartbeat_interval_ms in any::<u32>(),
        failover_delay_s in any::<u32>(),
        failback_delay_s in any::<u32>(),
        berofos in option::of(ident()),
        second_peer in option::of(any::<Ipv4Addr>()),
        second_interface in option::of(iface_name()),
        services in vec(ident(), 0..3),
    ) -> Ha {
        Ha {
            role, peer, interface, virtual_address, shared_key_file,
            heartbeat_interval_ms, failover_delay_s, failback_delay_s, berofos,
            second_peer, second_interface, services, check: Vec::new(),
        }
    }
}

// ---- telephony, any typed values ----

fn echo_canceller() -> impl Strategy<Value = EchoCanceller> {
    prop_oneof![
        Just(EchoCanceller::Hardware),
        Just(EchoCanceller::Mg2),
        Just(EchoCanceller::Oslec),
        Just(EchoCanceller::None),
    ]
}

fn transcoder_mode() -> impl Strategy<Value = TranscoderMode> {
    prop_oneof![
        Just(TranscoderMode::Mixed),
        Just(TranscoderMode::G729),
        Just(TranscoderMode::G723),
    ]
}

fn line_mode() -> impl Strategy<Value = LineMode> {
    prop_oneof![Just(LineMode::E1), Just(LineMode::T1), Just(LineMode::J1)]
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        Just(Line::E1),
        Just(Line::T1),
        Just(Line::J1),
        Just(Line::Bri)
    ]
}

fn span_role() -> impl Strategy<Value = tel::Role> {
    prop_oneof![Just(tel::Role::Provider), Just(tel::Role::Pbx)]
}

fn signalling() -> impl Strategy<Value = Signalling> {
    prop_oneof![
        Just(Signalling::PriCpe),
        Just(Signalling::PriNet),
        Just(Signalling::BriCpe),
        Just(Signalling::BriNet),
        Just(Signalling::BriCpePtmp),
        Just(Signalling::BriNetPtmp),
    ]
}

fn switchtype() -> impl Strategy<Value = Switchtype> {
    prop_oneof![
        Just(Switchtype::Euroisdn),
        Just(Switchtype::National),
        Just(Switchtype::Ni1),
        Just(Switchtype::Dms100),
        Just(Switchtype::FourEss),
        Just(Switchtype::FiveEss),
        Just(Switchtype::Qsig),
    ]
}

fn framing() -> impl Strategy<Value = Framing> {
    prop_oneof![
        Just(Framing::Ccs),
        Just(Framing::Cas),
        Just(Framing::Esf),
        Just(Framing::D4)
    ]
}

fn coding() -> impl Strategy<Value = Coding> {
    prop_oneof![Just(Coding::Hdb3), Just(Coding::B8zs), Just(Coding::Ami)]
}

fn overlap_dial() -> impl Strategy<Value = OverlapDial> {
    prop_oneof![
        Just(OverlapDial::No),
        Just(OverlapDial::Yes),
        Just(OverlapDial::Incoming),
        Just(OverlapDial::Outgoing),
    ]
}

fn bri_persistence() -> impl Strategy<Value = BriPersistence> {
    prop_oneof![
        Just(BriPersistence::LeaveDown),
        Just(BriPersistence::KeepUp)
    ]
}

fn port_kind() -> impl Strategy<Value = PortKind> {
    prop_oneof![Just(PortKind::Fxs), Just(PortKind::Fxo)]
}

prop_compose! {
    // Free-text fields take any string, control characters included: TOML
    // must escape them and give them back.
    fn analog_options()(
        opermode in option::of(any::<String>()),
        fastringer in any::<bool>(),
        boostringer in any::<bool>(),
    ) -> AnalogOptions {
        AnalogOptions { opermode, fastringer, boostringer }
    }
}

prop_compose! {
    fn card()(
        hardware_id in option::of(any::<String>()),
        location in option::of(any::<String>()),
        line_mode in option::of(line_mode()),
        first_span in option::of(any::<u16>()),
    ) -> Card {
        Card { hardware_id, location, line_mode, first_span }
    }
}

prop_compose! {
    fn span()(
        (span, line, first_channel, role, signalling, switchtype, timing) in (
            any::<u16>(), line(), any::<u16>(), span_role(),
            option::of(signalling()), option::of(switchtype()), option::of(any::<u8>()),
        ),
        (framing, coding, crc4, context, groups, overlap_dial, bri_persistence) in (
            option::of(framing()), option::of(coding()), option::of(any::<bool>()), ident(),
            list(any::<u8>()), overlap_dial(), option::of(bri_persistence()),
        ),
    ) -> Span {
        Span {
            span, line, first_channel, role, signalling, switchtype, timing, framing,
            coding, crc4, context, groups, overlap_dial, bri_persistence,
        }
    }
}

prop_compose! {
    fn port()(
        channel in any::<u16>(),
        kind in port_kind(),
        context in ident(),
        group in option::of(any::<u8>()),
        callerid_name in option::of(safe_text()),
        callerid_number in option::of(any::<String>()),
        mailbox in option::of(any::<String>()),
    ) -> Port {
        Port { channel, kind, context, group, callerid_name, callerid_number, mailbox }
    }
}

prop_compose! {
    fn telephony()(
        echo_canceller in echo_canceller(),
        hwec_dtmf in any::<bool>(),
        sync_cable in any::<bool>(),
        bri_persistent_layer1 in option::of(any::<bool>()),
        tone_zone in option::of(ident()),
        analog in analog_options(),
        transcoder_mode in option::of(transcoder_mode()),
        card in list(card()),
        span in list(span()),
        port in list(port()),
    ) -> Telephony {
        Telephony {
            echo_canceller, hwec_dtmf, sync_cable, bri_persistent_layer1, tone_zone,
            analog, transcoder_mode, card, span, port,
        }
    }
}

prop_compose! {
    fn any_config()(
        system in system(),
        dns in option::of(dns()),
        network in network(),
        dhcp in dhcp(),
        ntp in ntp(),
        telephony in telephony(),
        berofos in list(berofos()),
        ha in ha(),
    ) -> Config {
        Config { system, dns, network, dhcp, ntp, telephony, berofos, ha }
    }
}

// ---- a family of valid configs ----

/// The box on `10.A.B.0/24`: `.1` gateway, `.2` the box, `.3` its HA peer,
/// `.10–.59` reservations, `.100–` the pool, `.254` the router to other sites.
fn voip_host(net: [u8; 2], host: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, net[0], net[1], host)
}

prop_compose! {
    fn valid_network(net: [u8; 2])(
        mtu in option::of(mtu()),
        data in any::<bool>(),
        data_net in 0u8..=255,
        vlan in option::of((vlan_id(), method())),
        routes in 0usize..3,
    ) -> Network {
        let mut n = Network::default();
        n.interface.push(Interface {
            name: "eth0".parse().unwrap(),
            role: Role::Voip,
            method: Method::Static,
            address: Ipv4Cidr::new(voip_host(net, 2), 24),
            gateway: Some(voip_host(net, 1)),
            mtu,
            managed: true,
        });
        if data {
            n.interface.push(Interface {
                name: "eth1".parse().unwrap(),
                role: Role::Data,
                method: Method::Static,
                address: Ipv4Cidr::new(Ipv4Addr::new(192, 168, data_net, 2), 24),
                gateway: None,
                mtu: None,
                managed: true,
            });
        }
        if let Some((id, method)) = vlan {
            n.vlan.push(Vlan {
                name: format!("eth0.{}", id.get()).parse().unwrap(),
                parent: "eth0".parse().unwrap(),
                id,
                role: Role::Data,
                method,
                address: (method == Method::Static)
                    .then(|| Ipv4Cidr::new(Ipv4Addr::new(172, 16, 0, 2), 24).unwrap()),
                gateway: None,
                mtu: None,
            });
        }
        for i in 0..routes {
            n.route.push(Route {
                destination: Ipv4Cidr::new(Ipv4Addr::new(10, 200 + i as u8, 0, 0), 16).unwrap(),
                via: voip_host(net, 254),
                interface: (i == 1).then(|| "eth0".parse().unwrap()),
            });
        }
        n
    }
}

prop_compose! {
    fn valid_dhcp(net: [u8; 2])(
        enabled in any::<bool>(),
        pool_size in 0u8..100,
        router in any::<bool>(),
        lease_time in 60u32..=31_536_000,
        unknown_clients in any::<bool>(),
        provisioning_url in option::of(safe_text()),
        subnets in 0u8..3,
        reservations in vec((mac(), 10u8..60, option::of(hostname())), 0..4),
    ) -> Dhcp {
        let mut subnet = Vec::new();
        for i in 0..subnets {
            let host = |h| Ipv4Addr::new(10, 250, i, h);
            subnet.push(DhcpSubnet {
                name: format!("site-{i}").parse().unwrap(),
                network: Ipv4Cidr::new(host(0), 24).unwrap(),
                pool_start: host(100),
                pool_end: host(200),
                router: host(1),
            });
        }
        let mut reservation: Vec<Reservation> = Vec::new();
        for (mac, host, hostname) in reservations {
            let address = voip_host(net, host);
            if reservation.iter().all(|r| r.mac != mac && r.address != address) {
                reservation.push(Reservation { mac, address, hostname });
            }
        }
        Dhcp {
            enabled,
            interfaces: Vec::new(),
            pool_start: Some(voip_host(net, 100)),
            pool_end: Some(voip_host(net, 100 + pool_size)),
            router: router.then(|| voip_host(net, 1)),
            lease_time,
            unknown_clients,
            provisioning_url,
            subnet,
            reservation,
        }
    }
}

prop_compose! {
    fn valid_ntp()(
        servers in vec(host_addr(), 0..3),
        pools in vec(domain(), 0..3),
        local_stratum in 1u8..=15,
    ) -> Ntp {
        let mut ntp = Ntp {
            local_stratum: Some(local_stratum),
            ..Ntp::default()
        };
        for s in servers {
            if !ntp.servers.contains(&s) {
                ntp.servers.push(s);
            }
        }
        for p in pools {
            let p: HostAddr = p.as_str().parse().unwrap();
            if !ntp.pools.contains(&p) {
                ntp.pools.push(p);
            }
        }
        ntp
    }
}

prop_compose! {
    fn valid_berofos(net: [u8; 2])(
        count in 0usize..3,
        mac in option::of(mac()),
        login in option::of((ident(), prop_oneof![
            abs_path().prop_map(Ok),
            secret().prop_map(Err),
        ])),
    ) -> Vec<Berofos> {
        (1..=count)
            .map(|n| {
                let (user, password_file, password) = match &login {
                    None => (None, None, None),
                    Some((u, Ok(file))) => (Some(u.clone()), Some(file.clone()), None),
                    Some((u, Err(secret))) => (Some(u.clone()), None, Some(secret.clone())),
                };
                Berofos {
                    name: format!("fos{n}").parse().unwrap(),
                    host: IpAddr::V4(voip_host(net, 60 + n as u8)),
                    mac,
                    user,
                    password_file,
                    password,
                }
            })
            .collect()
    }
}

prop_compose! {
    fn valid_ha(net: [u8; 2], berofos: usize)(
        role in ha_role(),
        interface in any::<bool>(),
        virtual_address in any::<bool>(),
        key in abs_path(),
        heartbeat_interval_ms in 100u32..=10_000,
        failover_delay_s in 0u32..=300,
        failback_delay_s in 0u32..=3600,
        use_berofos in any::<bool>(),
    ) -> Ha {
        let paired = role != HaRole::Disabled;
        Ha {
            role,
            peer: paired.then(|| voip_host(net, 3)),
            interface: interface.then(|| "eth0".parse().unwrap()),
            virtual_address: virtual_address.then(|| Ipv4Cidr::new(voip_host(net, 9), 24).unwrap()),
            shared_key_file: paired.then_some(key),
            heartbeat_interval_ms,
            failover_delay_s,
            failback_delay_s,
            berofos: (use_berofos && berofos > 0).then(|| "fos1".parse().unwrap()),
            ..Ha::default()
        }
    }
}

/// Spans of one line type numbered from 1, channels packed after each
/// other, providers first (clock 1, 2…), then PBX links (clock 0); analog
/// ports take the channels after the spans.
fn valid_telephony() -> impl Strategy<Value = Telephony> {
    let span_opts = (
        any::<bool>(),
        option::of(switchtype()),
        prop_oneof![Just("from-extern"), Just("from-pabx"), Just("default")],
        vec(0u8..64, 0..3),
        overlap_dial(),
        option::of(bri_persistence()),
        option::of(any::<bool>()),
    );
    let port_opts = (
        port_kind(),
        option::of(0u8..64),
        option::of(safe_text()),
        option::of("[0-9]{1,20}"),
        option::of("[0-9]{1,6}(@[a-z-]{1,10})?"),
    );
    (
        (line(), 0usize..3, 0usize..3, vec(span_opts, 4)),
        vec(port_opts, 0..4),
        (
            echo_canceller(),
            any::<bool>(),
            any::<bool>(),
            option::of(any::<bool>()),
        ),
        (
            option::of(prop_oneof![Just("fr"), Just("us"), Just("de")]),
            any::<bool>(),
            any::<bool>(),
            option::of(proptest::sample::select(tel::OPERMODES)),
            option::of(transcoder_mode()),
            option::of(line_mode()),
        ),
    )
        .prop_map(|((line, providers, pbxs, opts), ports, globals, extra)| {
            let (echo_canceller, hwec_dtmf, sync_cable, bri_persistent_layer1) = globals;
            let (tone_zone, fastringer, boostringer, opermode, transcoder_mode, line_mode) = extra;
            let mut channel = 1u16;
            let mut span = Vec::new();
            for (i, (explicit, switchtype, context, groups, overlap_dial, persistence, crc4)) in
                opts.into_iter().take(providers + pbxs).enumerate()
            {
                let role = if i < providers {
                    tel::Role::Provider
                } else {
                    tel::Role::Pbx
                };
                let timing = if i < providers { i as u8 + 1 } else { 0 };
                span.push(Span {
                    span: i as u16 + 1,
                    line,
                    first_channel: channel,
                    role,
                    signalling: explicit.then(|| Signalling::default_for(role, line)),
                    switchtype,
                    timing: explicit.then_some(timing),
                    framing: None,
                    coding: None,
                    crc4: crc4.filter(|_| line == Line::E1),
                    context: context.parse().unwrap(),
                    groups,
                    overlap_dial,
                    bri_persistence: persistence.filter(|_| line == Line::Bri),
                });
                channel += line.channels();
            }
            let port = ports
                .into_iter()
                .enumerate()
                .map(|(i, (kind, group, name, number, mailbox))| {
                    let fxs = kind == PortKind::Fxs;
                    Port {
                        channel: channel + i as u16,
                        kind,
                        context: "default".parse().unwrap(),
                        group,
                        callerid_name: name.filter(|_| fxs),
                        callerid_number: number.filter(|_| fxs),
                        mailbox: mailbox.filter(|_| fxs),
                    }
                })
                .collect();
            let card = line_mode
                .map(|m| Card {
                    hardware_id: None,
                    location: Some("pci:0000:02:00.0".to_owned()),
                    line_mode: Some(m),
                    first_span: Some(1),
                })
                .into_iter()
                .collect();
            Telephony {
                echo_canceller,
                hwec_dtmf: hwec_dtmf && echo_canceller == EchoCanceller::Hardware,
                sync_cable,
                bri_persistent_layer1,
                tone_zone: tone_zone.map(|z| z.parse().unwrap()),
                analog: AnalogOptions {
                    opermode: opermode.map(str::to_owned),
                    fastringer,
                    boostringer,
                },
                transcoder_mode,
                card,
                span,
                port,
            }
        })
}

fn valid_config() -> impl Strategy<Value = Config> {
    // 10.200.0.0/16 and up are taken by routes and extra DHCP subnets.
    (0u8..200, any::<u8>()).prop_flat_map(|(a, b)| {
        let net = [a, b];
        (
            system(),
            option::of((vec(1u8..255, 1..4), vec(domain(), 0..7))),
            valid_network(net),
            valid_dhcp(net),
            valid_ntp(),
            valid_berofos(net),
            valid_telephony(),
        )
            .prop_flat_map(
                move |(system, dns, network, dhcp, ntp, berofos, telephony)| {
                    let dns = dns.map(|(hosts, search)| Dns {
                        nameservers: hosts
                            .into_iter()
                            .map(|h| IpAddr::V4(voip_host(net, h)))
                            .collect(),
                        search,
                    });
                    let n = berofos.len();
                    (
                        Just(Config {
                            system,
                            dns,
                            network,
                            dhcp,
                            ntp,
                            telephony,
                            berofos,
                            ha: Ha::default(),
                        }),
                        valid_ha(net, n),
                    )
                        .prop_map(|(c, ha)| Config { ha, ..c })
                },
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_config_survives_toml(c in any_config()) {
        let text = c.to_toml();
        let back: Config = toml::from_str(&text)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, c, "{}", text);
    }

    #[test]
    fn a_valid_config_loads_back_unchanged(c in valid_config()) {
        let text = c.to_toml();
        match config::load(&text, "x") {
            Ok(back) => prop_assert_eq!(back, c, "{}", text),
            Err(report) => prop_assert!(false, "rejected:\n{}\n{}", report, text),
        }
    }
}
