//! The simulated device's memory: settings, relay, watchdog and counters.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Where the relays connect port A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Relay {
    /// Mode 1: A–B, the master's side.
    #[serde(rename = "A-B")]
    AB,
    /// Mode 0: A–D, the slave's side and the unpowered position.
    #[serde(rename = "A-D")]
    AD,
}

impl Relay {
    fn from_bit(bit: bool) -> Relay {
        if bit {
            Relay::AB
        } else {
            Relay::AD
        }
    }

    /// The device's value for this position.
    pub fn bit(self) -> bool {
        self == Relay::AB
    }
}

/// Watchdog states with the device's codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WatchdogState {
    Off = 0,
    On = 1,
    Failure = 2,
}

/// Everything the device remembers, plus what tests want to observe.
#[derive(Debug, Clone)]
pub struct DeviceState {
    pub mac: [u8; 6],
    pub powered: bool,
    pub flash_mode: bool,
    pub relay: Relay,
    pub default_relay: Relay,
    pub bypass: bool,
    pub power: [bool; 2],
    pub power_default: [bool; 2],
    pub hostname: String,
    pub address: Ipv4Addr,
    pub netmask: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub dns: Ipv4Addr,
    pub dhcp: bool,
    pub phy_conf: u8,
    pub http_port: u16,
    pub password_protection: bool,
    pub user: String,
    pub password: String,
    pub mail: [String; 3],
    pub syslog: bool,
    pub syslog_host: Ipv4Addr,
    pub syslog_port: u16,
    pub watchdog: WatchdogState,
    pub watchdog_default: bool,
    pub watchdog_interval: u16,
    pub watchdog_deadline: Option<Instant>,
    pub watchdog_audio: bool,
    pub watchdog_mail: bool,
    pub counters: Counters,
    pub flash: Option<FlashJob>,
}

/// What the device has been asked, for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    pub scans: u64,
    pub pings: u64,
    pub kicks: u64,
    pub netconfs: u64,
    pub resets: u64,
    pub flashed_images: u64,
    pub watchdog_failures: u64,
    pub test_mails: u64,
    /// Relay mode writes received over HTTP (`mode`), changing it or not.
    pub relay_commands: u64,
    /// Times the relays moved: a mode write, a watchdog failure or power.
    pub relay_changes: u64,
    /// Request targets of every HTTP request that got past authentication.
    pub http_requests: Vec<String>,
    /// HTTP requests refused with 401.
    pub unauthorized: u64,
    /// The scheme (`Basic`, `Digest`) of every `Authorization` header received.
    pub authorization_schemes: Vec<String>,
}

/// A firmware upload in progress.
#[derive(Debug, Clone)]
pub struct FlashJob {
    pub pages: u16,
    pub crc: u8,
    pub received: Vec<Option<Vec<u8>>>,
}

impl DeviceState {
    /// A device fresh from the factory, powered on.
    pub fn factory(mac: [u8; 6], address: Ipv4Addr, http_port: u16) -> DeviceState {
        DeviceState {
            mac,
            powered: true,
            flash_mode: false,
            relay: Relay::AD,
            default_relay: Relay::AD,
            bypass: false,
            power: [false; 2],
            power_default: [false; 2],
            hostname: "berofos".into(),
            address,
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            gateway: Ipv4Addr::UNSPECIFIED,
            dns: Ipv4Addr::UNSPECIFIED,
            dhcp: true,
            phy_conf: 0x03,
            http_port,
            password_protection: false,
            user: "admin".into(),
            password: String::new(),
            mail: Default::default(),
            syslog: false,
            syslog_host: Ipv4Addr::UNSPECIFIED,
            syslog_port: 514,
            watchdog: WatchdogState::Off,
            watchdog_default: false,
            watchdog_interval: 60,
            watchdog_deadline: None,
            watchdog_audio: false,
            watchdog_mail: false,
            counters: Counters::default(),
            flash: None,
        }
    }

    /// Erases settings (UDP reset); identity, address and counters stay.
    pub fn reset_settings(&mut self) {
        let fresh = DeviceState::factory(self.mac, self.address, self.http_port);
        let counters = std::mem::take(&mut self.counters);
        *self = DeviceState { counters, ..fresh };
    }

    /// Cuts the power: relays drop to A–D, outlets and watchdog go off.
    pub fn power_off(&mut self) {
        self.powered = false;
        self.relay = Relay::AD;
        self.power = [false; 2];
        self.watchdog = WatchdogState::Off;
        self.watchdog_deadline = None;
    }

    /// Boots: relays, outlets and watchdog take their default settings.
    pub fn power_on(&mut self, now: Instant) {
        self.powered = true;
        self.relay = self.default_relay;
        self.power = self.power_default;
        self.set_watchdog(self.watchdog_default, now);
    }

    /// Sets the relays from the device's mode bit.
    pub fn set_relay_bit(&mut self, bit: bool) {
        self.move_relay(Relay::from_bit(bit));
    }

    /// A mode write over HTTP: counted, then the relays follow.
    pub fn command_relay_bit(&mut self, bit: bool) {
        self.counters.relay_commands += 1;
        self.set_relay_bit(bit);
    }

    fn move_relay(&mut self, to: Relay) {
        if self.relay != to {
            self.counters.relay_changes += 1;
        }
        self.relay = to;
    }

    /// Sets the default relays from the device's mode bit.
    pub fn set_default_relay_bit(&mut self, bit: bool) {
        self.default_relay = Relay::from_bit(bit);
    }

    /// Arms (the countdown restarts) or disarms the watchdog.
    pub fn set_watchdog(&mut self, enabled: bool, now: Instant) {
        if enabled {
            self.watchdog = WatchdogState::On;
            self.watchdog_deadline = Some(now + self.interval());
        } else {
            self.watchdog = WatchdogState::Off;
            self.watchdog_deadline = None;
        }
    }

    /// Changes the interval; an armed countdown restarts with it.
    pub fn set_watchdog_interval(&mut self, secs: u16, now: Instant) {
        self.watchdog_interval = secs;
        if self.watchdog == WatchdogState::On {
            self.watchdog_deadline = Some(now + self.interval());
        }
    }

    fn interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.watchdog_interval))
    }

    /// A kick: counted always; restarts the countdown while armed. After a
    /// failure the watchdog stays failed until it is armed again.
    pub fn kick(&mut self, now: Instant) {
        self.counters.kicks += 1;
        if self.watchdog == WatchdogState::On {
            self.watchdog_deadline = Some(now + self.interval());
        }
    }

    /// Lets time pass: an expired countdown fails over to A–D.
    pub fn tick(&mut self, now: Instant) {
        let expired = self.watchdog_deadline.is_some_and(|d| now >= d);
        if self.watchdog == WatchdogState::On && expired {
            self.watchdog = WatchdogState::Failure;
            self.watchdog_deadline = None;
            self.move_relay(Relay::AD);
            self.counters.watchdog_failures += 1;
        }
    }

    /// Whole seconds left before failure (0 unless armed).
    pub fn watchdog_remaining(&self, now: Instant) -> u64 {
        match (self.watchdog, self.watchdog_deadline) {
            (WatchdogState::On, Some(deadline)) => {
                let left = deadline.saturating_duration_since(now);
                left.as_millis().div_ceil(1000) as u64
            }
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> DeviceState {
        DeviceState::factory([0, 0x19, 0x32, 0, 0, 1], Ipv4Addr::LOCALHOST, 80)
    }

    #[test]
    fn watchdog_fails_over_when_kicks_stop() {
        let t0 = Instant::now();
        let mut d = device();
        d.relay = Relay::AB;
        d.watchdog_interval = 10;
        d.set_watchdog(true, t0);
        d.kick(t0 + Duration::from_secs(8));
        d.tick(t0 + Duration::from_secs(17));
        assert_eq!((d.watchdog, d.relay), (WatchdogState::On, Relay::AB));
        assert_eq!(d.watchdog_remaining(t0 + Duration::from_secs(17)), 1);
        d.tick(t0 + Duration::from_secs(18));
        assert_eq!((d.watchdog, d.relay), (WatchdogState::Failure, Relay::AD));
        d.kick(t0 + Duration::from_secs(19));
        assert_eq!(d.watchdog, WatchdogState::Failure);
        assert_eq!(d.counters.kicks, 2);
    }

    #[test]
    fn power_cycle_uses_defaults() {
        let mut d = device();
        d.relay = Relay::AB;
        d.default_relay = Relay::AB;
        d.power_off();
        assert_eq!(d.relay, Relay::AD);
        d.power_on(Instant::now());
        assert_eq!(d.relay, Relay::AB);
        assert_eq!(d.watchdog, WatchdogState::Off);
    }
}
