//! The device's UDP service: answers GBL4 requests addressed to its MAC.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::state::{DeviceState, FlashJob};
use super::wire::{self, code, Request};
use super::Shared;

/// Hardware magic of a Berofos.
const HW_MAGIC: u16 = 0x0050;
/// Bootloader version reported.
const BOOTLOADER: [u8; 2] = [1, 2];
/// Firmware version reported (`bnfos_v153.bin`).
const FIRMWARE: [u8; 2] = [1, 53];
/// Link up, 100 Mbit/s, full duplex.
const PHY_STATE: u8 = 0x07;
/// How often the loop looks at the clock when no datagram comes.
const TICK: Duration = Duration::from_millis(20);

/// Receives and answers until the simulator stops; also runs the watchdog clock.
pub fn serve(socket: UdpSocket, shared: Arc<Shared>) {
    socket.set_read_timeout(Some(TICK)).expect("read timeout");
    let mut buf = [0u8; 1500];
    while !shared.stop.load(Ordering::Relaxed) {
        match socket.recv_from(&mut buf) {
            Ok((n, peer)) => answer(&socket, &shared, &buf[..n], peer),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {}
        }
        shared.state().tick(Instant::now());
        shared.publish();
    }
}

fn answer(socket: &UdpSocket, shared: &Shared, datagram: &[u8], peer: SocketAddr) {
    let Some(request) = wire::parse(datagram) else {
        return;
    };
    let reply = {
        let mut device = shared.state();
        if !device.powered {
            return;
        }
        handle(&mut device, &request, Instant::now())
    };
    if let Some(payload) = reply {
        let _ = socket.send_to(&wire::reply(request.command, &payload), peer);
    }
}

/// The reply payload, or `None` when the device stays silent.
fn handle(d: &mut DeviceState, r: &Request, now: Instant) -> Option<Vec<u8>> {
    if r.command == code::GET_NETCONF {
        d.counters.scans += 1;
        return Some(netconf_reply(d));
    }
    // Everything else names the device by MAC; other devices' requests are ignored.
    if r.payload.len() < 6 || r.payload[..6] != d.mac {
        return None;
    }
    let mac = d.mac.to_vec();
    let with_code = |code: u8| [mac.as_slice(), &[code]].concat();
    match r.command {
        code::PING => {
            d.counters.pings += 1;
            Some([mac.as_slice(), &[0, 0]].concat())
        }
        code::KICK_WDOG => {
            d.kick(now);
            Some(mac.clone())
        }
        code::SET_NETCONF => Some(with_code(set_netconf(d, &r.payload))),
        code::RESET => {
            d.counters.resets += 1;
            d.reset_settings();
            Some(with_code(0))
        }
        code::FLASH_PREP => Some(with_code(flash_prep(d, &r.payload))),
        code::FLASH_PAGE => Some(with_code(flash_page(d, &r.payload))),
        _ => None,
    }
}

/// The 30-byte scan reply.
fn netconf_reply(d: &DeviceState) -> Vec<u8> {
    let mut p = d.mac.to_vec();
    p.extend_from_slice(&HW_MAGIC.to_be_bytes());
    p.extend_from_slice(&BOOTLOADER);
    p.extend_from_slice(&FIRMWARE);
    p.push(u8::from(d.flash_mode));
    p.extend_from_slice(&d.address.octets());
    p.extend_from_slice(&d.netmask.octets());
    p.extend_from_slice(&d.gateway.octets());
    p.push(d.phy_conf);
    p.push(PHY_STATE);
    p.push(u8::from(d.dhcp) | (u8::from(d.password_protection) << 1));
    p.extend_from_slice(&d.http_port.to_be_bytes());
    p
}

fn ipv4(b: &[u8]) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

/// mac[6] ip[4] netmask[4] gateway[4] phy options port[2]; error code 1 if short.
fn set_netconf(d: &mut DeviceState, p: &[u8]) -> u8 {
    if p.len() < 22 {
        return 1;
    }
    d.counters.netconfs += 1;
    d.address = ipv4(&p[6..10]);
    d.netmask = ipv4(&p[10..14]);
    d.gateway = ipv4(&p[14..18]);
    d.phy_conf = p[18];
    d.dhcp = p[19] & 0x01 != 0;
    d.password_protection = p[19] & 0x02 != 0;
    d.http_port = wire::be16(p, 20);
    0
}

/// mac[6] pages[2] crc: starts an upload.
fn flash_prep(d: &mut DeviceState, p: &[u8]) -> u8 {
    if p.len() < 9 {
        return 1;
    }
    let pages = wire::be16(p, 6);
    d.flash = Some(FlashJob {
        pages,
        crc: p[8],
        received: vec![None; usize::from(pages)],
    });
    0
}

/// mac[6] page[2] data[512]: stores a page; the last one checks the image.
fn flash_page(d: &mut DeviceState, p: &[u8]) -> u8 {
    if p.len() != 8 + 512 {
        return 1;
    }
    let Some(job) = d.flash.as_mut() else {
        return 2;
    };
    let page = usize::from(wire::be16(p, 6));
    if page >= job.received.len() {
        return 1;
    }
    job.received[page] = Some(p[8..].to_vec());
    if job.received.iter().all(Option::is_some) {
        let crc = job
            .received
            .iter()
            .flatten()
            .flatten()
            .fold(0u8, |acc, b| acc ^ b);
        let ok = crc == job.crc && job.pages > 0;
        d.flash = None;
        if !ok {
            return 3;
        }
        d.counters.flashed_images += 1;
    }
    0
}
