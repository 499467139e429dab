//! The link dump, read straight off its own netlink socket: of each link's
//! attributes only those a [`Link`] holds are decoded. A link carries
//! some fifty attributes, its per-family settings (`IFLA_AF_SPEC`) alone over
//! a kilobyte; decoding them all, as the rtnetlink connection does with every
//! message, was most of an observe's CPU time.

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};

use rtnetlink::packet_core::{
    DecodeError, DoneBuffer, DoneMessage, ErrorBuffer, ErrorMessage, NetlinkBuffer, NetlinkHeader,
    NetlinkMessage, NetlinkPayload, NlasIterator, Parseable, ParseableParametrized, NLMSG_ALIGNTO,
    NLMSG_DONE, NLMSG_ERROR, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use rtnetlink::packet_route::link::{
    InfoData, InfoKind, InfoVlan, LinkAttribute, LinkExtentMask, LinkFlags, LinkHeader, LinkInfo,
    LinkMessage,
};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::sys::{
    protocols::NETLINK_ROUTE, AsyncSocket, AsyncSocketExt, SocketAddr, TokioSocket,
};

use crate::network::Link;

/// `RTM_NEWLINK`: each link of the dump comes as one.
const RTM_NEWLINK: u16 = 16;
/// `sizeof(struct ifinfomsg)`: the attributes follow it.
const IFINFOMSG_LEN: usize = 16;
/// The attributes [`link_from`] reads: `IFLA_ADDRESS`, `IFLA_IFNAME`,
/// `IFLA_MTU`, `IFLA_LINK`, `IFLA_OPERSTATE`, `IFLA_LINKINFO`, `IFLA_IFALIAS`.
const WANTED: [u16; 7] = [1, 3, 4, 5, 16, 18, 20];
/// `IFLA_LINKINFO`, and in it `IFLA_INFO_KIND` and `IFLA_INFO_DATA`.
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
/// A dump the kernel marks interrupted (a link changed under it) is asked again.
const ATTEMPTS: usize = 3;

/// A netlink socket that only ever dumps links.
pub struct LinkDump {
    socket: tokio::sync::Mutex<TokioSocket>,
    sequence: AtomicU32,
}

impl LinkDump {
    /// Opens the socket in the network namespace of the calling thread.
    pub fn open() -> io::Result<LinkDump> {
        let mut socket = TokioSocket::new(NETLINK_ROUTE)?;
        socket.socket_mut().connect(&SocketAddr::new(0, 0))?;
        Ok(LinkDump {
            socket: tokio::sync::Mutex::new(socket),
            sequence: AtomicU32::new(1),
        })
    }

    /// Every link, as the kernel has it now.
    pub async fn links(&self) -> io::Result<Vec<Link>> {
        let socket = self.socket.lock().await;
        for _ in 0..ATTEMPTS {
            let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
            socket.send(&request(sequence)).await?;
            if let Some(links) = receive(&socket, sequence).await? {
                return Ok(links.iter().filter_map(link_from).collect());
            }
        }
        Err(io::Error::other(
            "links kept changing during the dump; try again",
        ))
    }
}

/// `RTM_GETLINK` dump, without the counters (a third of the bytes).
fn request(sequence: u32) -> Vec<u8> {
    let mut get = LinkMessage::default();
    get.attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = sequence;
    let mut message = NetlinkMessage::new(
        header,
        NetlinkPayload::from(RouteNetlinkMessage::GetLink(get)),
    );
    message.finalize();
    let mut bytes = vec![0; message.buffer_len()];
    message.serialize(&mut bytes);
    bytes
}

/// Reads the answer to dump `sequence`: the links, or `None` when the
/// kernel marked the dump interrupted.
async fn receive(socket: &TokioSocket, sequence: u32) -> io::Result<Option<Vec<LinkMessage>>> {
    let mut links = Vec::new();
    let mut interrupted = false;
    loop {
        let (datagram, _) = socket.recv_from_full().await?;
        let mut at = 0;
        while at < datagram.len() {
            let message = NetlinkBuffer::new_checked(&datagram[at..]).map_err(invalid)?;
            at += aligned(message.length() as usize);
            if message.sequence_number() != sequence {
                continue;
            }
            interrupted |= message.flags() & NLM_F_DUMP_INTR != 0;
            match message.message_type() {
                RTM_NEWLINK => links.push(link(message.payload()).map_err(invalid)?),
                NLMSG_DONE => {
                    return done(message.payload()).map(|()| (!interrupted).then_some(links))
                }
                NLMSG_ERROR => return Err(kernel_error(message.payload())),
                _ => {}
            }
        }
    }
}

/// One link: its header and the [`WANTED`] attributes, decoded as rtnetlink would.
pub fn link(payload: &[u8]) -> Result<LinkMessage, DecodeError> {
    let header = LinkHeader::parse(payload)?;
    let family = header.interface_family;
    let mut link = LinkMessage::default();
    link.header = header;
    for nla in NlasIterator::new(&payload[IFINFOMSG_LEN..]) {
        let nla = nla?;
        if nla.kind() == IFLA_LINKINFO {
            link.attributes
                .push(LinkAttribute::LinkInfo(link_info(nla.value())?));
        } else if WANTED.contains(&nla.kind()) {
            link.attributes
                .push(LinkAttribute::parse_with_param(&nla, family)?);
        }
    }
    Ok(link)
}

/// `IFLA_LINKINFO` as far as a [`Link`] reads it: the kind, and the
/// data of a VLAN. rtnetlink would decode every kind's data and port data,
/// and panics on some it misreads (a bareudp port of the wrong length).
fn link_info(value: &[u8]) -> Result<Vec<LinkInfo>, DecodeError> {
    let mut infos = Vec::new();
    let mut vlan = false;
    for nla in NlasIterator::new(value) {
        let nla = nla?;
        match nla.kind() {
            IFLA_INFO_KIND => {
                let kind = InfoKind::parse(&nla)?;
                vlan = kind == InfoKind::Vlan;
                infos.push(LinkInfo::Kind(kind));
            }
            IFLA_INFO_DATA if vlan => {
                let data = NlasIterator::new(nla.value())
                    .map(|n| InfoVlan::parse(&n?))
                    .collect::<Result<_, _>>()?;
                infos.push(LinkInfo::Data(InfoData::Vlan(data)));
            }
            _ => {}
        }
    }
    Ok(infos)
}

pub fn link_from(msg: &LinkMessage) -> Option<Link> {
    let mut link = Link::new(msg.header.index, "", 0);
    link.up = msg.header.flags.contains(LinkFlags::Up);
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::IfName(n) => link.name = n.clone(),
            LinkAttribute::Mtu(m) => link.mtu = *m,
            LinkAttribute::Address(a) if !a.is_empty() => link.mac = Some(mac_text(a)),
            LinkAttribute::OperState(s) => link.oper = format!("{s:?}").to_lowercase(),
            LinkAttribute::Link(p) => link.parent = Some(*p),
            LinkAttribute::IfAlias(a) => link.alias = Some(a.clone()),
            LinkAttribute::LinkInfo(infos) => read_link_info(&mut link, infos),
            _ => {}
        }
    }
    (!link.name.is_empty()).then_some(link)
}

fn read_link_info(link: &mut Link, infos: &[LinkInfo]) {
    for info in infos {
        match info {
            LinkInfo::Kind(k) => link.kind = Some(k.to_string()),
            LinkInfo::Data(InfoData::Vlan(vlan)) => {
                link.vlan_id = vlan.iter().find_map(|v| match v {
                    InfoVlan::Id(id) => Some(*id),
                    _ => None,
                });
            }
            _ => {}
        }
    }
}

fn mac_text(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The end of a dump, which carries an error code when the dump failed.
pub fn done(payload: &[u8]) -> io::Result<()> {
    let done = DoneBuffer::new_checked(&payload)
        .and_then(|b| DoneMessage::parse(&b))
        .map_err(invalid)?;
    match done.code {
        0 => Ok(()),
        code => Err(io::Error::from_raw_os_error(code.saturating_abs())),
    }
}

pub fn kernel_error(payload: &[u8]) -> io::Error {
    match ErrorBuffer::new_checked(&payload).and_then(|b| ErrorMessage::parse(&b)) {
        // Not `to_io`, which negates the code and overflows on the lowest one.
        Ok(e) => io::Error::from_raw_os_error(e.raw_code().saturating_abs()),
        Err(e) => invalid(e),
    }
}

fn aligned(len: usize) -> usize {
    let align = usize::from(NLMSG_ALIGNTO);
    len.max(1).div_ceil(align) * align
}

fn invalid(e: DecodeError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("link dump: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtnetlink::packet_core::Emitable;

    #[test]
    fn the_request_asks_for_a_dump_without_counters() {
        let bytes = request(7);
        let message = NetlinkBuffer::new_checked(&bytes[..]).unwrap();
        assert_eq!(message.sequence_number(), 7);
        assert_eq!(message.flags(), NLM_F_REQUEST | NLM_F_DUMP);
        let get = LinkMessage::parse(message.payload()).unwrap();
        assert_eq!(
            get.attributes,
            [LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats])]
        );
    }

    #[test]
    fn only_the_wanted_attributes_are_decoded() {
        let mut full = LinkMessage::default();
        full.header.index = 4;
        full.attributes = vec![
            LinkAttribute::IfName("v0".into()),
            LinkAttribute::TxQueueLen(1000),
            LinkAttribute::Mtu(9000),
            LinkAttribute::Group(0),
        ];
        let mut bytes = vec![0; full.buffer_len()];
        full.emit(&mut bytes);
        let read = link(&bytes).unwrap();
        assert_eq!(read.header.index, 4);
        assert_eq!(
            read.attributes,
            [LinkAttribute::IfName("v0".into()), LinkAttribute::Mtu(9000)]
        );
    }
}
