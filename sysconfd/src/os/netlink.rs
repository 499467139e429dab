//! The rtnetlink edge: one long-lived connection that dumps addresses and
//! routes and performs [`NetAction`]s, beside a socket for link dumps.

use std::collections::{HashMap, HashSet};
use std::mem;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;

use appliance::config::values::Ipv4Cidr;
use futures::{future, TryStreamExt};
use nix::errno::Errno;
use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage};
use rtnetlink::packet_route::link::LinkMessage;
use rtnetlink::packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::{AddressMessageBuilder, Handle, LinkUnspec, LinkVlan, RouteMessageBuilder};

use super::link_dump::LinkDump;
use crate::network::{
    default_destination, Ipv6Prefix, Link, NetAction, NetError, NetState, RouteEntry, RouteSpec,
    TELBOX_ALIAS, TELBOX_RTPROTO,
};

/// Errors the kernel answers to a removal of something already gone.
const GONE: [Errno; 3] = [Errno::ESRCH, Errno::EADDRNOTAVAIL, Errno::ENODEV];

/// A connection to the kernel's routing netlink, in the network namespace
/// the calling thread was in when it connected.
pub struct Netlink {
    handle: Handle,
    /// Link dumps go over their own socket, decoded sparingly.
    link_dump: LinkDump,
    /// Link name to index, refreshed by every [`Netlink::observe`].
    indexes: Mutex<HashMap<String, u32>>,
    /// The names of the VLAN links, refreshed by every [`Netlink::observe`]
    /// and added to by the VLANs [`Netlink::apply_all`] creates.
    vlans: Mutex<HashSet<String>>,
    /// Held for each address or route dump: the kernel runs one dump at a
    /// time per socket and refuses a second one meanwhile (EBUSY), so two
    /// callers observing at once (a plan beside a status call) take turns.
    dumping: tokio::sync::Mutex<()>,
}

impl Netlink {
    /// Opens the netlink socket and spawns its connection on the current tokio runtime.
    pub fn connect() -> Result<Netlink, NetError> {
        let (connection, handle, _) =
            rtnetlink::new_connection_with_strict_check().map_err(NetError::Connect)?;
        tokio::spawn(connection);
        Ok(Netlink {
            handle,
            link_dump: LinkDump::open().map_err(NetError::Connect)?,
            indexes: Mutex::new(HashMap::new()),
            vlans: Mutex::new(HashSet::new()),
            dumping: tokio::sync::Mutex::new(()),
        })
    }

    /// Dumps links, addresses and IPv4 main-table routes, one after the
    /// other (the kernel runs one dump at a time per socket).
    pub async fn observe(&self) -> Result<NetState, NetError> {
        let mut links = self.link_dump.links().await.map_err(NetError::Dump)?;
        let addresses = self.dump_addresses().await?;
        let routes = self.dump_routes().await?;
        for msg in &addresses {
            add_address(&mut links, msg);
        }
        let names: HashMap<u32, String> = links.iter().map(|l| (l.index, l.name.clone())).collect();
        let routes = routes
            .iter()
            .filter_map(|r| route_from(r, &names))
            .collect();
        *self.indexes.lock().expect("index cache") =
            names.into_iter().map(|(i, n)| (n, i)).collect();
        *self.vlans.lock().expect("VLAN names") = links
            .iter()
            .filter(|l| l.is_vlan())
            .map(|l| l.name.clone())
            .collect();
        Ok(NetState { links, routes })
    }

    /// Applies a plan in order, stopping at the first failure. A run of
    /// actions of the same kind (the addresses, the routes…) touches
    /// different links or routes, so its requests are sent together and their
    /// answers awaited together: one round trip per run instead of per
    /// action. A run of MTU and admin-state changes goes as one request per
    /// link, as `ip link set dev X mtu N up` sends it, in three waves one
    /// after the other ([`link_waves`]): a VLAN's MTU may not exceed its
    /// parent's and a VLAN does not open on a parent that is down.
    /// After a failure other actions of the same run may have taken effect;
    /// re-observe rather than assume (an engine that journals every step
    /// calls [`Netlink::apply`] one action at a time instead).
    pub async fn apply_all(&self, actions: &[NetAction]) -> Result<(), NetError> {
        let mut rest = actions;
        while let Some(first) = rest.first() {
            let len = if LinkSettings::covers(first) {
                let len = rest.iter().take_while(|a| LinkSettings::covers(a)).count();
                let waves = {
                    let vlans = self.vlans.lock().expect("VLAN names");
                    link_waves(&rest[..len], |l| vlans.contains(l))
                };
                for wave in waves {
                    future::try_join_all(wave.iter().map(|s| self.set_link(s))).await?;
                }
                len
            } else {
                let kind = mem::discriminant(first);
                let len = rest
                    .iter()
                    .take_while(|a| mem::discriminant(*a) == kind)
                    .count();
                future::try_join_all(rest[..len].iter().map(|a| self.apply(a))).await?;
                len
            };
            rest = &rest[len..];
        }
        Ok(())
    }

    async fn set_link(&self, s: &LinkSettings<'_>) -> Result<(), NetError> {
        match self.change_link(s.link, s.mtu, s.up).await {
            Err(NetError::Kernel(source)) => Err(NetError::Apply {
                action: s.actions.join("; "),
                source,
            }),
            other => other,
        }
    }

    /// Sets the MTU and the admin state (up when `Some(true)`) of `link` in one request.
    async fn change_link(
        &self,
        link: &str,
        mtu: Option<u32>,
        up: Option<bool>,
    ) -> Result<(), NetError> {
        let mut change = LinkUnspec::new_with_index(self.index(link).await?);
        if let Some(mtu) = mtu {
            change = change.mtu(mtu);
        }
        change = match up {
            Some(true) => change.up(),
            Some(false) => change.down(),
            None => change,
        };
        Ok(self.handle.link().change(change.build()).execute().await?)
    }

    /// Performs one action. Removing something already gone succeeds, also
    /// when the link it was on is gone.
    pub async fn apply(&self, action: &NetAction) -> Result<(), NetError> {
        let failed = |source| NetError::Apply {
            action: action.to_string(),
            source,
        };
        let result = self.perform(action).await;
        match result {
            Err(NetError::Kernel(e)) if action.is_removal() && is_gone(&e) => Ok(()),
            Err(NetError::NoSuchLink(_)) if action.is_removal() => Ok(()),
            Err(NetError::Kernel(e)) => Err(failed(e)),
            other => other,
        }
    }

    async fn perform(&self, action: &NetAction) -> Result<(), NetError> {
        let h = &self.handle;
        match action {
            NetAction::CreateVlan { name, parent, id } => {
                h.link()
                    .add(vlan_request(name, self.index(parent).await?, *id))
                    .execute()
                    .await?;
                self.vlans.lock().expect("VLAN names").insert(name.clone());
                let marked = LinkUnspec::new_with_index(self.index(name).await?)
                    .alias(TELBOX_ALIAS)
                    .build();
                h.link().change(marked).execute().await?;
            }
            NetAction::DeleteVlan { name } => {
                let index = self.index(name).await?;
                self.indexes.lock().expect("index cache").remove(name);
                h.link().del(index).execute().await?;
            }
            NetAction::SetMtu { link, to, .. } => self.change_link(link, Some(*to), None).await?,
            NetAction::SetUp { link } => self.change_link(link, None, Some(true)).await?,
            NetAction::SetDown { link } => self.change_link(link, None, Some(false)).await?,
            NetAction::AddAddress { link, address } => {
                h.address()
                    .add(
                        self.index(link).await?,
                        IpAddr::V4(address.addr),
                        address.prefix,
                    )
                    .execute()
                    .await?;
            }
            NetAction::RemoveAddress { link, address } => {
                h.address()
                    .del(address_message(self.index(link).await?, *address))
                    .execute()
                    .await?;
            }
            NetAction::AddRoute { route } => {
                h.route()
                    .add(self.route_message(route).await?)
                    .execute()
                    .await?;
            }
            NetAction::RemoveRoute { route } => {
                let mut msg = self.route_message(route).await?;
                msg.header.scope = RouteScope::NoWhere;
                h.route().del(msg).execute().await?;
            }
            NetAction::SetDefaultRoute { via, link } => {
                let route = RouteSpec {
                    destination: default_destination(),
                    via: Some(*via),
                    dev: Some(link.clone()),
                    metric: 0,
                };
                h.route()
                    .add(self.route_message(&route).await?)
                    .replace()
                    .execute()
                    .await?;
            }
        }
        Ok(())
    }

    /// The index of link `name`, from the cache or asked of the kernel.
    async fn index(&self, name: &str) -> Result<u32, NetError> {
        if let Some(&i) = self.indexes.lock().expect("index cache").get(name) {
            return Ok(i);
        }
        let found = self
            .handle
            .link()
            .get()
            .match_name(name.to_owned())
            .execute()
            .try_next()
            .await;
        let index = match found {
            Ok(Some(msg)) => msg.header.index,
            Ok(None) | Err(_) => return Err(NetError::NoSuchLink(name.to_owned())),
        };
        self.indexes
            .lock()
            .expect("index cache")
            .insert(name.to_owned(), index);
        Ok(index)
    }

    async fn route_message(&self, route: &RouteSpec) -> Result<RouteMessage, NetError> {
        let oif = match &route.dev {
            Some(dev) => Some(self.index(dev).await?),
            None => None,
        };
        Ok(route_request(route, oif))
    }

    async fn dump_addresses(&self) -> Result<Vec<AddressMessage>, NetError> {
        let _turn = self.dumping.lock().await;
        Ok(self.handle.address().get().execute().try_collect().await?)
    }

    async fn dump_routes(&self) -> Result<Vec<RouteMessage>, NetError> {
        // With strict checking the kernel filters the dump by these header
        // fields: main table, unicast, any protocol.
        let _turn = self.dumping.lock().await;
        let mut main_table = RouteMessageBuilder::<Ipv4Addr>::new().build();
        main_table.header.protocol = RouteProtocol::Unspec;
        let routes = self.handle.route().get(main_table).execute();
        Ok(routes.try_collect().await?)
    }
}

/// The MTU and admin state a plan sets on one link, sent as one request
/// (the kernel sets the MTU first, then the admin state).
pub(crate) struct LinkSettings<'a> {
    pub(crate) link: &'a str,
    pub(crate) mtu: Option<u32>,
    pub(crate) up: Option<bool>,
    /// The plan's actions this request carries out, for errors.
    pub(crate) actions: Vec<String>,
}

impl<'a> LinkSettings<'a> {
    pub(crate) fn covers(action: &NetAction) -> bool {
        matches!(
            action,
            NetAction::SetMtu { .. } | NetAction::SetUp { .. } | NetAction::SetDown { .. }
        )
    }

    /// One entry per link, in the order the links first appear.
    fn merge(actions: impl IntoIterator<Item = &'a NetAction>) -> Vec<LinkSettings<'a>> {
        let mut out: Vec<LinkSettings<'a>> = Vec::new();
        for action in actions {
            let (link, mtu, up) = match action {
                NetAction::SetMtu { link, to, .. } => (link, Some(*to), None),
                NetAction::SetUp { link } => (link, None, Some(true)),
                NetAction::SetDown { link } => (link, None, Some(false)),
                _ => continue,
            };
            let at = match out.iter().position(|s| s.link == link) {
                Some(at) => at,
                None => {
                    out.push(LinkSettings {
                        link,
                        mtu: None,
                        up: None,
                        actions: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            let entry = &mut out[at];
            entry.mtu = mtu.or(entry.mtu);
            entry.up = up.or(entry.up);
            entry.actions.push(action.to_string());
        }
        out
    }
}

/// A run of link settings in the waves the kernel takes them in, each
/// wave's requests independent of one another:
///
/// 1. VLANs lowering their MTU (before their parent lowers its own);
/// 2. every other link: MTU and admin state (a parent raises its MTU and
///    comes up before its VLANs do);
/// 3. VLANs raising their MTU and taking their admin state: up only once the
///    parent is (`ENETDOWN` otherwise), down only after a parent coming up
///    has reopened them.
pub(crate) fn link_waves<'a>(
    actions: &'a [NetAction],
    is_vlan: impl Fn(&str) -> bool,
) -> Vec<Vec<LinkSettings<'a>>> {
    let wave = |a: &NetAction| match a {
        NetAction::SetMtu { link, from, to } if is_vlan(link) && to < from => 0,
        a if a.link().is_some_and(|l| !is_vlan(l)) => 1,
        _ => 2,
    };
    (0..3)
        .map(|w| LinkSettings::merge(actions.iter().filter(|a| wave(a) == w)))
        .filter(|s| !s.is_empty())
        .collect()
}

fn is_gone(e: &rtnetlink::Error) -> bool {
    matches!(e, rtnetlink::Error::NetlinkError(m) if GONE.contains(&Errno::from_raw(m.raw_code().abs())))
}

/// The `RTM_NEWLINK` request that creates VLAN `name` with tag `id` on the link `parent_index`.
pub fn vlan_request(name: &str, parent_index: u32, id: u16) -> LinkMessage {
    LinkVlan::new(name, parent_index, id).build()
}

/// The route message sysconfd adds or deletes: main table, [`TELBOX_RTPROTO`].
pub fn route_request(route: &RouteSpec, oif: Option<u32>) -> RouteMessage {
    let mut b = RouteMessageBuilder::<Ipv4Addr>::new()
        .destination_prefix(route.destination.addr, route.destination.prefix)
        .protocol(RouteProtocol::from(TELBOX_RTPROTO));
    if let Some(via) = route.via {
        b = b.gateway(via);
    }
    if let Some(oif) = oif {
        b = b.output_interface(oif);
    }
    if route.metric != 0 {
        b = b.priority(route.metric);
    }
    b.build()
}

fn address_message(index: u32, address: Ipv4Cidr) -> AddressMessage {
    AddressMessageBuilder::<Ipv4Addr>::new()
        .index(index)
        .address(address.addr, address.prefix)
        .build()
}

fn add_address(links: &mut [Link], msg: &AddressMessage) {
    let Some(link) = links.iter_mut().find(|l| l.index == msg.header.index) else {
        return;
    };
    let local = msg.attributes.iter().find_map(|a| match a {
        AddressAttribute::Local(ip) => Some(*ip),
        _ => None,
    });
    let address = msg.attributes.iter().find_map(|a| match a {
        AddressAttribute::Address(ip) => Some(*ip),
        _ => None,
    });
    match (msg.header.family, local.or(address)) {
        (AddressFamily::Inet, Some(IpAddr::V4(addr))) => {
            link.ipv4.extend(Ipv4Cidr::new(addr, msg.header.prefix_len));
        }
        (AddressFamily::Inet6, Some(IpAddr::V6(addr))) => {
            link.ipv6.push(Ipv6Prefix {
                addr,
                prefix: msg.header.prefix_len,
            });
        }
        _ => {}
    }
}

fn route_from(msg: &RouteMessage, names: &HashMap<u32, String>) -> Option<RouteEntry> {
    let h = &msg.header;
    let main = h.table == RouteHeader::RT_TABLE_MAIN;
    if h.address_family != AddressFamily::Inet || !main || h.kind != RouteType::Unicast {
        return None;
    }
    let mut destination = Ipv4Addr::UNSPECIFIED;
    let mut entry = RouteEntry {
        destination: default_destination(),
        gateway: None,
        dev: None,
        protocol: u8::from(h.protocol),
        metric: 0,
    };
    for attr in &msg.attributes {
        match attr {
            RouteAttribute::Destination(RouteAddress::Inet(d)) => destination = *d,
            RouteAttribute::Gateway(RouteAddress::Inet(g)) => entry.gateway = Some(*g),
            RouteAttribute::Oif(i) => entry.dev = names.get(i).cloned(),
            RouteAttribute::Priority(p) => entry.metric = *p,
            _ => {}
        }
    }
    entry.destination = Ipv4Cidr::new(destination, h.destination_prefix_length)?;
    Some(entry)
}

#[cfg(test)]
mod link_settings_tests {
    use super::*;

    #[test]
    fn mtu_and_admin_state_of_a_link_go_as_one_request() {
        let plan = [
            NetAction::SetMtu {
                link: "eth0".into(),
                from: 1500,
                to: 9000,
            },
            NetAction::SetMtu {
                link: "eth1".into(),
                from: 1500,
                to: 1400,
            },
            NetAction::SetUp {
                link: "eth0".into(),
            },
            NetAction::SetDown {
                link: "eth2".into(),
            },
        ];
        let merged = LinkSettings::merge(&plan);
        let summary: Vec<_> = merged.iter().map(|s| (s.link, s.mtu, s.up)).collect();
        assert_eq!(
            summary,
            [
                ("eth0", Some(9000), Some(true)),
                ("eth1", Some(1400), None),
                ("eth2", None, Some(false)),
            ]
        );
        assert_eq!(merged[0].actions.len(), 2, "{:?}", merged[0].actions);
        assert!(plan.iter().all(LinkSettings::covers));
    }

    /// One request: the link, its MTU, its admin state.
    type Request<'a> = (&'a str, Option<u32>, Option<bool>);

    fn waves(plan: &[NetAction]) -> Vec<Vec<Request<'_>>> {
        link_waves(plan, |l| l.contains('.'))
            .iter()
            .map(|w| w.iter().map(|s| (s.link, s.mtu, s.up)).collect())
            .collect()
    }

    #[test]
    fn a_vlan_comes_up_and_raises_its_mtu_only_after_its_parent() {
        // The plan of a new VLAN with its own MTU on a parent coming up:
        // sent per link in plan order, the VLAN's "mtu + up" reached the
        // kernel before the parent's "up" and failed with ENETDOWN.
        let plan = [
            NetAction::SetMtu {
                link: "eth1.10".into(),
                from: 1500,
                to: 9000,
            },
            NetAction::SetMtu {
                link: "eth1".into(),
                from: 1500,
                to: 9000,
            },
            NetAction::SetUp {
                link: "eth1.10".into(),
            },
            NetAction::SetUp {
                link: "eth1".into(),
            },
        ];
        assert_eq!(
            waves(&plan),
            [
                vec![("eth1", Some(9000), Some(true))],
                vec![("eth1.10", Some(9000), Some(true))],
            ]
        );
    }

    #[test]
    fn a_vlan_lowers_its_mtu_before_its_parent_and_goes_down_after_it_comes_up() {
        let plan = [
            NetAction::SetMtu {
                link: "eth1".into(),
                from: 9000,
                to: 1500,
            },
            NetAction::SetMtu {
                link: "eth1.10".into(),
                from: 9000,
                to: 1400,
            },
            NetAction::SetUp {
                link: "eth1".into(),
            },
            NetAction::SetDown {
                link: "eth1.10".into(),
            },
        ];
        assert_eq!(
            waves(&plan),
            [
                vec![("eth1.10", Some(1400), None)],
                vec![("eth1", Some(1500), Some(true))],
                vec![("eth1.10", None, Some(false))],
            ]
        );
    }
}
