//! Network links, addresses and routes: the pure diff here, the rtnetlink
//! edge in [`crate::os::netlink`].
//!
//! The domain follows the engine's loop:
//!
//! * [`Netlink::connect`] opens one long-lived rtnetlink connection (spawned
//!   on the current tokio runtime, in the network namespace of the calling
//!   thread) and a socket for link dumps, which decodes only the attributes
//!   a [`Link`] holds; [`Netlink::observe`] dumps links, addresses and IPv4
//!   main-table routes into a [`NetState`].
//! * [`plan`]`(&Network, &NetState) -> Vec<NetAction>` is the pure diff; an
//!   up-to-date system gives an empty plan. Each [`NetAction`] serializes for
//!   the apply journal and prints as one line for `appliance config plan`.
//! * [`Netlink::apply`] performs one action ([`Netlink::apply_all`] a plan).
//! * [`verify`] re-plans against a re-observed system and lists what is left.
//! * [`session_address_removed`] tells when a plan takes away the address a
//!   remote session arrives on, so the engine can warn and require a confirm.
//! * [`DhcpClient`] runs and reads `dhclient` for `method = "dhcp"` links.
//!
//! What sysconfd owns, and so may change or remove:
//!
//! * interfaces declared with `managed = true` (absent or unmanaged links are
//!   never touched), and declared VLANs;
//! * IPv4 addresses on those links: undeclared ones are removed, except on
//!   `method = "dhcp"` links, whose addresses belong to the DHCP client;
//!   IPv6 addresses are observed but left alone;
//! * routes carrying the route protocol [`TELBOX_RTPROTO`] (`proto 207` in
//!   `ip route`); no other route is ever removed. The one exception is the
//!   declared gateway: it replaces whatever default route has metric 0;
//! * VLAN links carrying the alias [`TELBOX_ALIAS`], set when sysconfd creates
//!   them; only those are deleted when the config drops them.

mod action;
mod plan;
mod state;

pub use crate::os::dhclient::{
    parse_dhclient_leases, DhclientError, DhclientLease, DhcpClient, DHCLIENT_SCRIPT,
};
#[doc(hidden)]
pub use crate::os::link_dump;
pub use crate::os::netlink::{route_request, vlan_request, Netlink};
pub use action::{NetAction, RouteSpec};
pub use plan::{absent_links, plan, plan_keeping, session_address_removed, verify};
pub use state::{default_destination, Ipv6Prefix, Link, NetState, RouteEntry};

/// The route protocol number on every route sysconfd adds, and the only
/// routes it removes. Unassigned in the kernel's and iproute2's tables.
pub const TELBOX_RTPROTO: u8 = 207;

/// The interface alias marking VLAN links sysconfd created.
pub const TELBOX_ALIAS: &str = "telbox";

/// What can go wrong talking to the kernel.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot open a netlink socket: {0}")]
    Connect(#[source] std::io::Error),
    #[error("cannot read the links from the kernel: {0}")]
    Dump(#[source] std::io::Error),
    #[error("netlink request failed: {0}")]
    Kernel(#[from] rtnetlink::Error),
    #[error("`{action}` failed: {source}")]
    Apply {
        action: String,
        #[source]
        source: rtnetlink::Error,
    },
    #[error("no link named `{0}`")]
    NoSuchLink(String),
}

#[cfg(test)]
mod tests;
