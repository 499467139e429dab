//! Sending GBL4 requests and waiting, within a bounded time, for replies.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use crate::error::{DeviceLabel, Error, Result, Seconds};
use crate::gbl4::{self, Command, DeviceInfo};

/// One UDP request to one device (or to the broadcast address).
pub(crate) struct Exchange<'a> {
    /// Where the request goes.
    pub dest: SocketAddrV4,
    /// How long to wait for the reply (or, scanning by broadcast, for all replies).
    pub timeout: Duration,
    /// How the device is named in errors.
    pub label: &'a DeviceLabel,
    /// What was asked, for errors: `kick`, `ping`…
    pub request: &'a str,
}

impl Exchange<'_> {
    fn io_error(&self, source: io::Error) -> Error {
        Error::Io {
            device: self.label.clone(),
            request: self.request.to_string(),
            source,
        }
    }

    fn no_reply(&self) -> Error {
        Error::NoReply {
            device: self.label.clone(),
            request: self.request.to_string(),
            waited: Seconds(self.timeout),
        }
    }

    fn is_broadcast(&self) -> bool {
        self.dest.ip().is_broadcast()
    }

    /// A socket on an ephemeral port; connected when the target is one host,
    /// so that only its replies are read.
    fn open(&self) -> Result<UdpSocket> {
        let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).map_err(|e| self.io_error(e))?;
        if self.is_broadcast() {
            socket.set_broadcast(true).map_err(|e| self.io_error(e))?;
        } else {
            socket.connect(self.dest).map_err(|e| self.io_error(e))?;
        }
        Ok(socket)
    }

    fn send(&self, socket: &UdpSocket, datagram: &[u8]) -> Result<()> {
        let sent = if self.is_broadcast() {
            socket.send_to(datagram, self.dest)
        } else {
            socket.send(datagram)
        };
        sent.map(drop).map_err(|e| self.io_error(e))
    }

    /// Waits until `deadline` for one datagram; `None` once time is up.
    fn receive(&self, socket: &UdpSocket, deadline: Instant) -> Result<Option<Vec<u8>>> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Ok(None);
        }
        socket
            .set_read_timeout(Some(remaining))
            .map_err(|e| self.io_error(e))?;
        let mut buf = [0u8; 1500];
        match socket.recv(&mut buf) {
            Ok(n) => Ok(Some(buf[..n].to_vec())),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(self.io_error(e)),
        }
    }

    /// Sends `command` and returns the payload of the first valid reply.
    pub fn request(&self, command: Command, payload: &[u8]) -> Result<Vec<u8>> {
        let socket = self.open()?;
        self.send(&socket, &gbl4::encode(command, payload))?;
        let deadline = Instant::now() + self.timeout;
        while let Some(datagram) = self.receive(&socket, deadline)? {
            if let Some(reply) = gbl4::decode(&datagram, command) {
                return Ok(reply.to_vec());
            }
        }
        Err(self.no_reply())
    }

    /// Sends a scan request and gathers Berofos replies. A broadcast scan
    /// listens for the whole timeout and may find nothing; a scan of one host
    /// returns at its first reply and fails if there is none.
    pub fn scan(&self) -> Result<Vec<DeviceInfo>> {
        let socket = self.open()?;
        self.send(&socket, &gbl4::encode(Command::GetNetconf, &[]))?;
        let deadline = Instant::now() + self.timeout;
        let mut found: Vec<DeviceInfo> = Vec::new();
        while let Some(datagram) = self.receive(&socket, deadline)? {
            let info = gbl4::decode(&datagram, Command::GetNetconf).and_then(DeviceInfo::decode);
            match info {
                Some(info) if info.is_berofos() => {
                    if !found.iter().any(|f| f.mac == info.mac) {
                        found.push(info);
                    }
                    if !self.is_broadcast() {
                        return Ok(found);
                    }
                }
                _ => continue,
            }
        }
        if found.is_empty() && !self.is_broadcast() {
            return Err(self.no_reply());
        }
        Ok(found)
    }
}
