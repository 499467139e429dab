//! One device and the requests it answers, over both transports.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use crate::conf::ConfDevice;
use crate::device::{Login, Mac};
use crate::error::{DeviceLabel, Error, Result, Seconds};
use crate::gbl4::{self, Command, DeviceInfo, NetConf};
use crate::http::{self, Failure, Response};
use crate::relay::RelayMode;
use crate::setting::Setting;
use crate::settings::Settings;
use crate::status::Status;
use crate::udp::Exchange;

/// How long to wait for a reply unless told otherwise (the `bnfos` default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a reset may take (the `bnfos` value).
pub const DEFAULT_RESET_TIMEOUT: Duration = Duration::from_secs(8);
/// The shortest timeout accepted; zero would mean "wait forever" to a socket.
const MIN_TIMEOUT: Duration = Duration::from_millis(1);

/// A Berofos at a known address. Every request is bounded by the timeout.
#[derive(Debug, Clone)]
pub struct Berofos {
    name: Option<String>,
    host: Ipv4Addr,
    http_port: u16,
    udp_port: u16,
    mac: Option<Mac>,
    login: Option<Login>,
    timeout: Duration,
    reset_timeout: Duration,
}

impl Berofos {
    /// The device at `host` on the standard ports, no login, 3 s timeout.
    pub fn new(host: Ipv4Addr) -> Self {
        Berofos {
            name: None,
            host,
            http_port: http::DEFAULT_PORT,
            udp_port: gbl4::DEFAULT_PORT,
            mac: None,
            login: None,
            timeout: DEFAULT_TIMEOUT,
            reset_timeout: DEFAULT_RESET_TIMEOUT,
        }
    }

    /// The device of one `/etc/bnfos.conf` section (it needs a `host` line).
    pub fn from_conf(device: &ConfDevice) -> Result<Self> {
        let host = device.host.ok_or_else(|| Error::InvalidValue {
            what: "bnfos.conf device",
            value: device.id.clone(),
            reason: "it has no host line".into(),
        })?;
        let mut berofos = Berofos::new(host).named(&device.id);
        berofos.mac = device.mac;
        berofos.login = device.login.clone();
        Ok(berofos)
    }

    /// Names the device in messages (`fos1`).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The `user:password` the web server asks for.
    pub fn with_login(mut self, login: Login) -> Self {
        self.login = Some(login);
        self
    }

    /// The MAC address the UDP requests carry (found by a scan if not given).
    pub fn with_mac(mut self, mac: Mac) -> Self {
        self.mac = Some(mac);
        self
    }

    /// The web server's port (80 unless changed).
    pub fn with_http_port(mut self, port: u16) -> Self {
        self.http_port = port;
        self
    }

    /// The UDP service's port (50123 on real devices).
    pub fn with_udp_port(mut self, port: u16) -> Self {
        self.udp_port = port;
        self
    }

    /// How long any one request may take.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(MIN_TIMEOUT);
        self
    }

    /// How long a reset may take.
    pub fn with_reset_timeout(mut self, timeout: Duration) -> Self {
        self.reset_timeout = timeout.max(MIN_TIMEOUT);
        self
    }

    /// How the device is named in messages: `fos1 (10.0.0.5)`.
    pub fn label(&self) -> DeviceLabel {
        DeviceLabel {
            name: self.name.clone(),
            address: self.host,
        }
    }

    /// The device's address.
    pub fn host(&self) -> Ipv4Addr {
        self.host
    }

    /// The MAC address, when known.
    pub fn mac(&self) -> Option<Mac> {
        self.mac
    }

    /// The timeout of one request.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    // ---- HTTP ----

    /// Reads every setting (`GET /config.txt`).
    pub fn settings(&self) -> Result<Settings> {
        let request = "GET /config.txt";
        let reply = self.http_get("/config.txt", request)?;
        Settings::parse(&reply.body).map_err(|detail| Error::Malformed {
            device: self.label(),
            request: request.into(),
            detail,
        })
    }

    /// Writes one setting (`GET /?cmd=N&param=value`).
    pub fn set(&self, setting: &Setting) -> Result<()> {
        let request = format!("set {setting}");
        self.http_get(&setting.request_path(), &request).map(drop)
    }

    /// Throws the relays: [`RelayMode::Master`] is A–B, [`RelayMode::Slave`] A–D.
    pub fn set_relay_mode(&self, mode: RelayMode) -> Result<()> {
        self.set(&Setting::RelayMode(mode))
    }

    /// Relay, watchdog and power state, ready for display or `--json`.
    pub fn status(&self) -> Result<Status> {
        Ok(Status::new(self.name.clone(), self.host, &self.settings()?))
    }

    fn http_get(&self, path: &str, request: &str) -> Result<Response> {
        let addr = SocketAddrV4::new(self.host, self.http_port);
        let reply = http::get(addr, path, self.login.as_ref(), self.timeout)
            .map_err(|failure| self.http_failure(failure, request))?;
        match reply.status {
            200..=299 => Ok(reply),
            401 => Err(Error::BadCredentials {
                device: self.label(),
                request: request.into(),
            }),
            status => Err(Error::HttpStatus {
                device: self.label(),
                request: request.into(),
                status,
                reason: reply.reason,
            }),
        }
    }

    fn http_failure(&self, failure: Failure, request: &str) -> Error {
        let device = self.label();
        let request = request.to_string();
        match failure {
            Failure::Connect(source) => Error::Connect {
                device,
                port: self.http_port,
                request,
                source,
            },
            Failure::TimedOut => Error::NoReply {
                device,
                request,
                waited: Seconds(self.timeout),
            },
            Failure::Io(source) => Error::Io {
                device,
                request,
                source,
            },
            Failure::Malformed(detail) => Error::Malformed {
                device,
                request,
                detail,
            },
        }
    }

    // ---- UDP ----

    fn exchange<'a>(&self, label: &'a DeviceLabel, request: &'a str) -> Exchange<'a> {
        Exchange {
            dest: SocketAddrV4::new(self.host, self.udp_port),
            timeout: self.timeout,
            label,
            request,
        }
    }

    /// Asks this one device for its network configuration (a directed scan).
    pub fn info(&self) -> Result<DeviceInfo> {
        let label = self.label();
        let found = self.exchange(&label, "scan").scan()?;
        let wanted = |info: &&DeviceInfo| self.mac.is_none_or(|mac| info.mac == mac);
        found
            .iter()
            .find(wanted)
            .cloned()
            .ok_or_else(|| Error::NoReply {
                device: label.clone(),
                request: "scan".into(),
                waited: Seconds(self.timeout),
            })
    }

    /// The MAC address, asking the device for it if it is not known.
    fn mac_for(&self, request: &str) -> Result<Mac> {
        if let Some(mac) = self.mac {
            return Ok(mac);
        }
        if self.host.is_broadcast() {
            return Err(Error::MacUnknown {
                device: self.label(),
                request: request.into(),
            });
        }
        Ok(self.info()?.mac)
    }

    fn udp_request(&self, request: &str, command: Command, payload: &[u8]) -> Result<Vec<u8>> {
        let label = self.label();
        self.exchange(&label, request).request(command, payload)
    }

    /// Checks the device answers on UDP.
    pub fn ping(&self) -> Result<()> {
        let mac = self.mac_for("ping")?;
        let payload = gbl4::mac_payload(Command::Ping, mac);
        self.udp_request("ping", Command::Ping, &payload).map(drop)
    }

    /// Restarts the watchdog countdown.
    pub fn kick(&self) -> Result<()> {
        let mac = self.mac_for("kick")?;
        let payload = gbl4::mac_payload(Command::KickWatchdog, mac);
        self.udp_request("kick", Command::KickWatchdog, &payload)
            .map(drop)
    }

    /// Writes the network configuration over UDP.
    pub fn netconf(&self, conf: &NetConf) -> Result<()> {
        let mac = self.mac_for("netconf")?;
        let reply = self.udp_request("netconf", Command::SetNetconf, &conf.encode(mac))?;
        self.check_errcode("netconf", &reply)
    }

    /// Erases firmware and settings (the device then needs flashing).
    pub fn reset(&self) -> Result<()> {
        let mac = self.mac_for("reset")?;
        let payload = gbl4::mac_payload(Command::Reset, mac);
        let slow = self.clone().with_timeout(self.reset_timeout);
        let reply = slow.udp_request("reset", Command::Reset, &payload)?;
        self.check_errcode("reset", &reply)
    }

    /// Uploads a firmware image, page by page (device in flash mode).
    pub fn flash(&self, image: &[u8]) -> Result<()> {
        let mac = self.mac_for("flash")?;
        let prep = gbl4::flash_prep_payload(mac, image);
        self.udp_request("flash (prepare)", Command::FlashPrep, &prep)?;
        for (index, chunk) in image.chunks(gbl4::FLASH_PAGE_SIZE).enumerate() {
            let page = gbl4::flash_page_payload(mac, index as u16, chunk);
            let request = format!("flash (page {index})");
            self.udp_request(&request, Command::FlashPage, &page)?;
        }
        Ok(())
    }

    fn check_errcode(&self, request: &str, reply: &[u8]) -> Result<()> {
        match reply.get(6) {
            Some(0) => Ok(()),
            Some(&code) => Err(Error::Rejected {
                device: self.label(),
                request: request.into(),
                code,
            }),
            None => Err(Error::Malformed {
                device: self.label(),
                request: request.into(),
                detail: format!(
                    "{} bytes where a MAC and an error code were expected",
                    reply.len()
                ),
            }),
        }
    }
}

/// Scans for devices: every Berofos that answers at `dest` within `timeout`.
///
/// With a host address, the first reply ends the scan and no reply is an
/// error; with 255.255.255.255 the scan listens for the whole timeout.
pub fn scan(dest: SocketAddrV4, timeout: Duration) -> Result<Vec<DeviceInfo>> {
    let label = DeviceLabel {
        name: None,
        address: *dest.ip(),
    };
    Exchange {
        dest,
        timeout: timeout.max(MIN_TIMEOUT),
        label: &label,
        request: "scan",
    }
    .scan()
}

/// Scans the local network by broadcast on the standard port.
pub fn scan_broadcast(timeout: Duration) -> Result<Vec<DeviceInfo>> {
    scan(
        SocketAddrV4::new(Ipv4Addr::BROADCAST, gbl4::DEFAULT_PORT),
        timeout,
    )
}
