//! Builds the Kea configuration for a validated `appliance.toml`.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use appliance::config::dhcp::{Dhcp, DhcpSubnet, Reservation};
use appliance::config::values::Ipv4Cidr;
use appliance::config::Config;

use super::kea::*;
use super::vendors::{phone_vendors, PhoneVendor};
use super::KeaError;
use crate::files::FileSpec;

/// Where Kea reads its configuration.
pub const KEA_CONF: &str = "/etc/kea/kea-dhcp4.conf";

/// The client class admitted to the pools when unknown clients are refused:
/// a known phone, or a device with a reservation.
pub const ADMITTED_CLASS: &str = "telbox-phone";

/// Name of the option-160 definition carrying the provisioning URL.
const PROVISIONING_OPTION: &str = "telbox-provisioning-url";

/// How often Kea tries again to listen on an interface that is down (a
/// cable unplugged at boot), and how long it waits in between (ms).
const SOCKET_RETRIES: u32 = 100_000;
const SOCKET_RETRY_WAIT_MS: u32 = 5_000;

/// Run-time paths written into the Kea configuration (real paths, not under the root prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeaPaths {
    /// The memfile lease CSV.
    pub lease_file: PathBuf,
    /// Kea's unix control socket.
    pub control_socket: PathBuf,
}

impl KeaPaths {
    /// The lease file and control socket inside `state_dir`.
    pub fn under(state_dir: &Path) -> Self {
        KeaPaths {
            lease_file: state_dir.join("kea-leases4.csv"),
            control_socket: state_dir.join("kea4-ctrl.sock"),
        }
    }
}

/// What the subnets share: the box's VoIP address and the served options.
struct Served<'a> {
    dhcp: &'a Dhcp,
    voip: Ipv4Cidr,
    admitted: Option<String>,
}

/// Renders `/etc/kea/kea-dhcp4.conf` for `cfg`, listening on `voip_if` and
/// `dhcp.interfaces`.
pub fn render(cfg: &Config, voip_if: &str, paths: &KeaPaths) -> Result<FileSpec, KeaError> {
    let config = kea_config(cfg, voip_if, paths)?;
    let mut text = serde_json::to_string_pretty(&config).map_err(KeaError::Json)?;
    text.push('\n');
    Ok(FileSpec::new(KEA_CONF, text, 0o644))
}

/// The typed Kea configuration for `cfg`.
pub fn kea_config(cfg: &Config, voip_if: &str, paths: &KeaPaths) -> Result<KeaConfig, KeaError> {
    let dhcp = &cfg.dhcp;
    if !dhcp.enabled {
        return Err(KeaError::Disabled);
    }
    let voip = cfg.network.voip_link().ok_or(KeaError::NoVoipLink)?;
    let voip_addr = voip.address.ok_or(KeaError::NoVoipAddress)?;
    let served = Served {
        dhcp,
        voip: voip_addr,
        admitted: (!dhcp.unknown_clients).then(|| ADMITTED_CLASS.to_owned()),
    };
    let vendors = phone_vendors();
    let dhcp4 = Dhcp4 {
        interfaces_config: interfaces(voip_if, dhcp),
        control_socket: ControlSocket {
            socket_type: "unix".into(),
            socket_name: paths.control_socket.clone(),
        },
        lease_database: LeaseDatabase {
            kind: "memfile".into(),
            persist: true,
            name: paths.lease_file.clone(),
            lfc_interval: 3600,
        },
        authoritative: true,
        valid_lifetime: dhcp.lease_time,
        option_def: vec![OptionDef {
            name: PROVISIONING_OPTION.into(),
            code: 160,
            kind: "string".into(),
            space: "dhcp4".into(),
        }],
        option_data: global_options(cfg, voip_addr.addr),
        client_classes: client_classes(&vendors),
        subnet4: subnets(&served, voip_gateway(cfg))?,
        loggers: vec![Logger {
            name: "kea-dhcp4".into(),
            output_options: vec![LogOutput {
                output: "stdout".into(),
            }],
            severity: "INFO".into(),
        }],
    };
    Ok(KeaConfig { dhcp4 })
}

/// The VoIP interface first, then the extra ones, each once.
fn interfaces(voip_if: &str, dhcp: &Dhcp) -> InterfacesConfig {
    let mut names = vec![voip_if.to_owned()];
    for name in &dhcp.interfaces {
        if !names.iter().any(|n| n == name.as_str()) {
            names.push(name.as_str().to_owned());
        }
    }
    InterfacesConfig {
        interfaces: names,
        dhcp_socket_type: "raw".into(),
        service_sockets_max_retries: SOCKET_RETRIES,
        service_sockets_retry_wait_time: SOCKET_RETRY_WAIT_MS,
    }
}

/// The VoIP interface's gateway from `[network]`, if it has one.
fn voip_gateway(cfg: &Config) -> Option<Ipv4Addr> {
    cfg.network.voip_link().and_then(|l| l.gateway)
}

/// Options every subnet shares: DNS, domain, NTP (the box), provisioning.
fn global_options(cfg: &Config, box_ip: Ipv4Addr) -> Vec<OptionData> {
    let dns: Vec<String> = cfg
        .dns
        .iter()
        .flat_map(|d| &d.nameservers)
        .filter_map(|ns| match ns {
            IpAddr::V4(v4) => Some(v4.to_string()),
            IpAddr::V6(_) => None,
        })
        .collect();
    let dns = if dns.is_empty() {
        box_ip.to_string()
    } else {
        dns.join(", ")
    };
    let mut options = vec![
        OptionData::new("domain-name-servers", dns),
        OptionData::text("domain-name", cfg.system.domain.as_str()),
    ];
    if cfg.ntp.serve_voip {
        options.push(OptionData::new("ntp-servers", box_ip.to_string()));
    }
    match &cfg.dhcp.provisioning_url {
        Some(url) => {
            options.push(OptionData::text("tftp-server-name", url.as_str()));
            options.push(OptionData::text(PROVISIONING_OPTION, url.as_str()));
        }
        None => options.push(OptionData::new("tftp-server-name", box_ip.to_string())),
    }
    options
}

/// One class per vendor, and the class the pools admit: any vendor, or a
/// device with a reservation (Kea's built-in `KNOWN`).
fn client_classes(vendors: &[PhoneVendor]) -> Vec<ClientClass> {
    let mut classes: Vec<ClientClass> = vendors
        .iter()
        .map(|v| ClientClass {
            name: v.class_name(),
            test: v.kea_test(),
        })
        .collect();
    let members = vendors
        .iter()
        .map(|v| format!("member('{}')", v.class_name()))
        .chain(std::iter::once("member('KNOWN')".to_owned()))
        .collect::<Vec<_>>()
        .join(" or ");
    classes.push(ClientClass {
        name: ADMITTED_CLASS.into(),
        test: members,
    });
    classes
}

/// The VoIP subnet, then each extra subnet, with the reservations that fall in each.
fn subnets(served: &Served<'_>, gateway: Option<Ipv4Addr>) -> Result<Vec<Subnet4>, KeaError> {
    let dhcp = served.dhcp;
    let (Some(start), Some(end)) = (dhcp.pool_start, dhcp.pool_end) else {
        return Err(KeaError::NoPool);
    };
    let router = dhcp.router.or(gateway).unwrap_or(served.voip.addr);
    let mut out = vec![subnet(served, served.voip.subnet(), start, end, router)];
    for site in &dhcp.subnet {
        out.push(site_subnet(served, site));
    }
    Ok(out)
}

fn site_subnet(served: &Served<'_>, site: &DhcpSubnet) -> Subnet4 {
    subnet(
        served,
        site.network.subnet(),
        site.pool_start,
        site.pool_end,
        site.router,
    )
}

fn subnet(
    served: &Served<'_>,
    net: Ipv4Cidr,
    start: Ipv4Addr,
    end: Ipv4Addr,
    router: Ipv4Addr,
) -> Subnet4 {
    Subnet4 {
        id: subnet_id(net),
        subnet: net.to_string(),
        pools: vec![Pool {
            pool: format!("{start} - {end}"),
            client_class: served.admitted.clone(),
        }],
        option_data: vec![OptionData::new("routers", router.to_string())],
        reservations: served
            .dhcp
            .reservation
            .iter()
            .filter(|r| net.contains(r.address))
            .map(reservation)
            .collect(),
    }
}

/// A subnet's id is its network address as a number: stable across edits of
/// other subnets (leases refer to it) and unique, since subnets never overlap.
fn subnet_id(net: Ipv4Cidr) -> u32 {
    u32::from(net.network()).max(1)
}

fn reservation(r: &Reservation) -> HostReservation {
    HostReservation {
        hw_address: r.mac.to_string(),
        ip_address: r.address.to_string(),
        hostname: r.hostname.as_ref().map(|h| h.as_str().to_owned()),
    }
}
