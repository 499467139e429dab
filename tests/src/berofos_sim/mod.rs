//! A simulated beroNet Berofos failover switch.
//!
//! It speaks both of the device's protocols on loopback (or any address):
//! GBL4 over UDP (scan, netconf, ping, kick, reset, flash) and HTTP
//! (`GET /config.txt`, `GET /?cmd=N&…`, a Basic or Digest login when password
//! protection is on, 401 otherwise). It models the relay (mode 1 = A–B, mode 0 = A–D),
//! the default mode applied at power-on, the A–D position without power, and
//! the watchdog: once armed, a whole interval without a kick turns its state
//! to "failure" and throws the relays to A–D.
//!
//! The wire format is written here from the protocol description, not shared
//! with the client crate, so that a misreading on one side shows up in tests.
//!
//! Like different firmware, it can demand Digest instead of Basic
//! ([`SimConfig::with_digest_login`]), leave keys out of `config.txt`
//! ([`SimConfig::without_keys`]) and send another layout version
//! ([`SimConfig::with_magic`]).
//!
//! Tests start it in-process with [`start`] and read its state through
//! [`SimHandle`]; the `berofos-sim` binary can also publish it as JSON to a
//! state file that it rewrites whenever it changes.

mod auth;
mod form;
mod state;
mod udp;
mod web;
mod wire;

use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use serde::Serialize;

pub use auth::Scheme;
pub use form::{Layout, MAGIC_VERSION};
pub use state::{Counters, Relay, WatchdogState};

use auth::Guard;
use state::DeviceState;

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address both services bind to.
    pub bind: Ipv4Addr,
    /// UDP port (50123 on a real device; 0 picks a free one).
    pub udp_port: u16,
    /// HTTP port (80 on a real device; 0 picks a free one).
    pub http_port: u16,
    /// `user:password`; when given, the web server asks for it.
    pub login: Option<(String, String)>,
    /// How the web server asks for the login.
    pub auth: Scheme,
    /// How `config.txt` is written: magic version and keys left out.
    pub layout: Layout,
    /// The device's MAC address.
    pub mac: [u8; 6],
    /// A JSON file rewritten with the state whenever it changes.
    pub state_file: Option<PathBuf>,
}

impl SimConfig {
    /// On 127.0.0.1, free ports, no login, MAC 00:19:32:00:00:01.
    pub fn loopback() -> Self {
        SimConfig {
            bind: Ipv4Addr::LOCALHOST,
            udp_port: 0,
            http_port: 0,
            login: None,
            auth: Scheme::Basic,
            layout: Layout::default(),
            mac: [0x00, 0x19, 0x32, 0x00, 0x00, 0x01],
            state_file: None,
        }
    }

    /// The same, with a web login.
    pub fn with_login(mut self, user: &str, password: &str) -> Self {
        self.login = Some((user.to_string(), password.to_string()));
        self
    }

    /// The same, with a web login the server asks for by Digest (MD5,
    /// qop=auth) and checks as RFC 7616 says; Basic is refused.
    pub fn with_digest_login(mut self, user: &str, password: &str) -> Self {
        self.auth = Scheme::Digest;
        self.with_login(user, password)
    }

    /// The same, with `config.txt` lacking these keys (e.g. `6_wstate`).
    pub fn without_keys(mut self, keys: &[&str]) -> Self {
        let keys = keys.iter().map(|k| k.to_string());
        self.layout.omitted_keys.extend(keys);
        self
    }

    /// The same, with `bnfos_confmap_magic` set to `version` instead of 0.1.
    pub fn with_magic(mut self, version: &str) -> Self {
        self.layout.magic = version.to_string();
        self
    }
}

/// What both service threads share.
pub(crate) struct Shared {
    device: Mutex<DeviceState>,
    stop: AtomicBool,
    state_file: Option<PathBuf>,
    published: Mutex<String>,
    guard: Guard,
    layout: Layout,
}

impl Shared {
    /// The device, with the watchdog clock brought up to now.
    fn state(&self) -> MutexGuard<'_, DeviceState> {
        let mut device = self.device.lock().unwrap_or_else(|e| e.into_inner());
        device.tick(Instant::now());
        device
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::of(&self.state(), Instant::now())
    }

    /// Rewrites the state file if the state changed since the last write.
    fn publish(&self) {
        let Some(path) = &self.state_file else {
            return;
        };
        let json = serde_json::to_string_pretty(&self.snapshot()).unwrap_or_default();
        let mut last = self.published.lock().unwrap_or_else(|e| e.into_inner());
        if *last != json {
            let tmp = path.with_extension("tmp");
            if fs::write(&tmp, &json)
                .and_then(|_| fs::rename(&tmp, path))
                .is_ok()
            {
                *last = json;
            }
        }
    }
}

/// The observable state, as tests and the state file see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    pub mac: String,
    pub powered: bool,
    pub relay: Relay,
    pub default_relay: Relay,
    pub scenario: &'static str,
    pub watchdog: WatchdogState,
    pub watchdog_default: bool,
    pub watchdog_interval_secs: u16,
    pub watchdog_remaining_secs: u64,
    pub address: Ipv4Addr,
    pub netmask: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub dhcp: bool,
    pub http_port: u16,
    pub password_protection: bool,
    pub counters: Counters,
}

impl Snapshot {
    fn of(d: &DeviceState, now: Instant) -> Snapshot {
        let m = d.mac;
        Snapshot {
            mac: format!(
                "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
            powered: d.powered,
            relay: d.relay,
            default_relay: d.default_relay,
            scenario: if d.bypass { "bypass" } else { "fallback" },
            watchdog: d.watchdog,
            watchdog_default: d.watchdog_default,
            watchdog_interval_secs: d.watchdog_interval,
            watchdog_remaining_secs: d.watchdog_remaining(now),
            address: d.address,
            netmask: d.netmask,
            gateway: d.gateway,
            dhcp: d.dhcp,
            http_port: d.http_port,
            password_protection: d.password_protection,
            counters: d.counters.clone(),
        }
    }
}

/// A running simulator; dropping it stops both services.
pub struct SimHandle {
    shared: Arc<Shared>,
    udp_addr: SocketAddrV4,
    http_addr: SocketAddrV4,
    threads: Vec<JoinHandle<()>>,
}

/// Binds both services and starts them in background threads.
pub fn start(config: SimConfig) -> io::Result<SimHandle> {
    let udp = UdpSocket::bind((config.bind, config.udp_port))?;
    let http = TcpListener::bind((config.bind, config.http_port))?;
    let udp_addr = v4(udp.local_addr()?);
    let http_addr = v4(http.local_addr()?);
    let address = if config.bind.is_unspecified() {
        Ipv4Addr::new(192, 168, 0, 2)
    } else {
        config.bind
    };
    let mut device = DeviceState::factory(config.mac, address, http_addr.port());
    if let Some((user, password)) = config.login {
        device.password_protection = true;
        device.user = user;
        device.password = password;
    }
    let shared = Arc::new(Shared {
        device: Mutex::new(device),
        stop: AtomicBool::new(false),
        state_file: config.state_file,
        published: Mutex::new(String::new()),
        guard: Guard::new(config.auth),
        layout: config.layout,
    });
    shared.publish();
    let (s1, s2) = (Arc::clone(&shared), Arc::clone(&shared));
    let threads = vec![
        thread::spawn(move || udp::serve(udp, s1)),
        thread::spawn(move || web::serve(http, s2)),
    ];
    Ok(SimHandle {
        shared,
        udp_addr,
        http_addr,
        threads,
    })
}

fn v4(addr: SocketAddr) -> SocketAddrV4 {
    match addr {
        SocketAddr::V4(v4) => v4,
        SocketAddr::V6(_) => unreachable!("bound to an IPv4 address"),
    }
}

impl SimHandle {
    /// Where the UDP service listens.
    pub fn udp_addr(&self) -> SocketAddrV4 {
        self.udp_addr
    }

    /// Where the web server listens.
    pub fn http_addr(&self) -> SocketAddrV4 {
        self.http_addr
    }

    /// Everything observable, at this instant.
    pub fn snapshot(&self) -> Snapshot {
        self.shared.snapshot()
    }

    /// Where the relays connect port A now.
    pub fn relay_mode(&self) -> Relay {
        self.shared.state().relay
    }

    /// Watchdog kicks received over UDP.
    pub fn kicks_received(&self) -> u64 {
        self.shared.state().counters.kicks
    }

    /// Relay mode writes received over HTTP.
    pub fn relay_commands(&self) -> u64 {
        self.shared.state().counters.relay_commands
    }

    /// Times the relays moved.
    pub fn relay_changes(&self) -> u64 {
        self.shared.state().counters.relay_changes
    }

    /// Sets up the device as the seed's PBX bypass: scenario bypass, relays
    /// A–B, watchdog armed with `interval_secs`.
    pub fn arm_bypass_watchdog(&self, interval_secs: u16) {
        let now = Instant::now();
        let mut d = self.shared.state();
        d.bypass = true;
        d.set_relay_bit(true);
        d.watchdog_interval = interval_secs;
        d.set_watchdog(true, now);
    }

    /// The watchdog's state now.
    pub fn watchdog_state(&self) -> WatchdogState {
        self.shared.state().watchdog
    }

    /// The MAC address as `bnfos` prints it.
    pub fn mac(&self) -> String {
        self.snapshot().mac
    }

    /// Throws the relays directly, as the front-panel or a power cycle would.
    pub fn set_relay_mode(&self, relay: Relay) {
        self.shared.state().set_relay_bit(relay.bit());
    }

    /// Cuts the power: relays to A–D; UDP and HTTP fall silent.
    pub fn power_off(&self) {
        self.shared.state().power_off();
        self.shared.publish();
    }

    /// Restores power: the default relay mode and watchdog setting apply.
    pub fn power_on(&self) {
        self.shared.state().power_on(Instant::now());
        self.shared.publish();
    }

    /// Puts the device in (or out of) flash mode, as the black button does.
    pub fn set_flash_mode(&self, on: bool) {
        self.shared.state().flash_mode = on;
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
