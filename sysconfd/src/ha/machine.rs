//! The HA state machine: pure logic fed by events (keepalived's state per
//! path, the health checks, Promote and Demote, the passing of time), which
//! answers with the commands to carry out. No I/O, no clock: time comes in
//! as milliseconds, so every rule is tested here without root.
//!
//! The rules:
//!
//! * The box is active when keepalived says MASTER on the advert path and,
//!   with a second path, the peer is not still advertising there (the
//!   split-brain guard: a cut advert path alone moves nothing).
//! * Unhealthy or demoted, the box is not active, and keepalived is told
//!   (FAULT), so the peer takes over at once.
//! * A slave waits `failover_delay` before taking over.
//! * A master that is back waits `failback_delay` in BACKUP before taking
//!   the service back: its priority is held below the slave's until then.
//!   `Promote` ends the wait; on a slave it lifts it above the master.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::settings::{Side, HOLD_BACK, RAISE};

/// keepalived's state of one VRRP instance, as its notify FIFO says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum VrrpState {
    /// Not reported since keepalived started.
    #[default]
    Unknown,
    Backup,
    Master,
    Fault,
    Stop,
}

impl fmt::Display for VrrpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VrrpState::Unknown => "unknown",
            VrrpState::Backup => "BACKUP",
            VrrpState::Master => "MASTER",
            VrrpState::Fault => "FAULT",
            VrrpState::Stop => "STOP",
        })
    }
}

/// Which VRRP instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// The advert path: the one the service follows.
    Advert,
    /// The second path, the split-brain guard's witness.
    Second,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Vrrp(Path, VrrpState),
    /// The health checks' verdict while active; `why` names what failed.
    Health {
        healthy: bool,
        why: String,
    },
    /// `Promote` from an administrator (uid).
    Promote(u32),
    /// `Demote` from an administrator (uid).
    Demote(u32),
    /// Time passed (a deadline the machine asked for).
    Tick,
}

/// What to do, in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Write keepalived's priority file: added to the base priority.
    Priority(i32),
    /// Write keepalived's health file: `true` puts the box in FAULT.
    Fault(bool),
    /// Start the services, throw the relays to this box, record it.
    Activate { reason: String },
    /// Stop the services, give the relays back, record it.
    Standby { reason: String },
}

/// What survives a restart of sysconfd.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub active: bool,
    pub demoted: bool,
    pub advert: VrrpState,
    pub second: VrrpState,
}

/// The machine.
#[derive(Debug, Clone)]
pub struct Machine {
    side: Side,
    has_second: bool,
    failover_delay: u64,
    failback_delay: u64,
    advert: VrrpState,
    second: VrrpState,
    healthy: bool,
    unhealthy_why: String,
    demoted: bool,
    /// `Promote` asked and not yet served.
    promoted: bool,
    active: bool,
    /// Since when the box could have been active (failover delay).
    wanted_since: Option<u64>,
    /// Since when a master has waited in BACKUP, healthy (failback delay).
    waiting_since: Option<u64>,
    /// The failback wait ran out and the box has not been active since:
    /// keepalived is preempting, and the wait does not start again while
    /// the second path catches up with the first.
    failback_served: bool,
    written_fault: Option<bool>,
    written_priority: Option<i32>,
    /// Stood down while keepalived still said MASTER (a failed check,
    /// Demote): not active again before keepalived has left MASTER.
    must_leave_master: bool,
    /// What the last input was, for the reason of a transition.
    trigger: String,
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

impl Machine {
    pub fn new(side: Side, has_second: bool, failover: Duration, failback: Duration) -> Self {
        Machine {
            side,
            has_second,
            failover_delay: ms(failover),
            failback_delay: ms(failback),
            advert: VrrpState::Unknown,
            second: VrrpState::Unknown,
            healthy: true,
            unhealthy_why: String::new(),
            demoted: false,
            promoted: false,
            active: false,
            wanted_since: None,
            waiting_since: None,
            failback_served: false,
            written_fault: None,
            written_priority: None,
            must_leave_master: false,
            trigger: "keepalived's state".into(),
        }
    }

    /// The same machine as it was before a restart.
    pub fn restored(mut self, kept: &Kept) -> Self {
        self.active = kept.active;
        self.demoted = kept.demoted;
        self.advert = kept.advert;
        self.second = kept.second;
        self
    }

    pub fn kept(&self) -> Kept {
        Kept {
            active: self.active,
            demoted: self.demoted,
            advert: self.advert,
            second: self.second,
        }
    }

    pub fn is_active(&self) -> bool {
        self.active
    }
    pub fn is_demoted(&self) -> bool {
        self.demoted
    }
    pub fn is_healthy(&self) -> bool {
        self.healthy
    }
    pub fn vrrp(&self) -> (VrrpState, VrrpState) {
        (self.advert, self.second)
    }

    /// Whether the split-brain guard holds the box back now.
    pub fn guarded(&self) -> bool {
        self.side != Side::Standalone
            && self.advert == VrrpState::Master
            && self.has_second
            && matches!(self.second, VrrpState::Backup | VrrpState::Unknown)
    }

    /// Seconds a master still waits before taking the service back.
    pub fn failback_left(&self, now: u64) -> Option<f64> {
        let since = self.waiting_since?;
        (self.side == Side::Master && !self.promoted)
            .then(|| (since + self.failback_delay).saturating_sub(now) as f64 / 1000.0)
    }

    /// keepalived says the box may hold the service.
    fn elected(&self) -> bool {
        match self.side {
            Side::Standalone => true,
            _ => self.advert == VrrpState::Master && !self.guarded(),
        }
    }

    fn wants_active(&self) -> bool {
        self.elected() && self.healthy && !self.demoted && !self.must_leave_master
    }

    /// When the machine wants a [`Input::Tick`] next, if ever.
    pub fn deadline(&self) -> Option<u64> {
        let failover = self
            .wanted_since
            .filter(|_| !self.active)
            .map(|t| t + self.failover_delay);
        let failback = self
            .waiting_since
            .filter(|_| self.written_priority == Some(HOLD_BACK))
            .map(|t| t + self.failback_delay);
        failover.into_iter().chain(failback).min()
    }

    /// Takes `input` at time `now` (ms, monotonic) and says what to do.
    pub fn step(&mut self, now: u64, input: Input) -> Vec<Command> {
        self.take(input);
        if self.advert != VrrpState::Master {
            self.must_leave_master = false;
        }
        let mut out = Vec::new();
        let want = self.wants_active();
        let delay = if self.side == Side::Slave {
            self.failover_delay
        } else {
            0
        };
        match (want, self.active) {
            (true, false) => {
                let since = *self.wanted_since.get_or_insert(now);
                if now >= since + delay {
                    self.active = true;
                    self.wanted_since = None;
                    self.promoted = false;
                    out.push(Command::Activate {
                        reason: self.activate_reason(),
                    });
                }
            }
            (false, true) => {
                self.active = false;
                self.wanted_since = None;
                self.must_leave_master =
                    self.side != Side::Standalone && self.advert == VrrpState::Master;
                out.push(Command::Standby {
                    reason: self.standby_reason(),
                });
            }
            (false, false) => self.wanted_since = None,
            (true, true) => {}
        }
        self.track_failback(now);
        let mut files = Vec::new();
        if self.side != Side::Standalone {
            let priority = self.priority();
            if self.written_priority != Some(priority) {
                self.written_priority = Some(priority);
                files.push(Command::Priority(priority));
            }
            let fault = self.demoted || !self.healthy;
            if self.written_fault != Some(fault) {
                self.written_fault = Some(fault);
                files.push(Command::Fault(fault));
            }
        }
        files.extend(out);
        files
    }

    fn take(&mut self, input: Input) {
        self.trigger = match &input {
            Input::Vrrp(path, state) => {
                let name = match path {
                    Path::Advert => "the advert path",
                    Path::Second => "the second path",
                };
                match path {
                    Path::Advert => self.advert = *state,
                    Path::Second => self.second = *state,
                }
                format!("keepalived: {state} on {name}")
            }
            Input::Health { healthy, why } => {
                self.healthy = *healthy;
                self.unhealthy_why = why.clone();
                if *healthy {
                    "the health checks pass again".into()
                } else {
                    format!("health check failed: {why}")
                }
            }
            Input::Promote(uid) => {
                self.demoted = false;
                self.promoted = true;
                format!("promoted by uid {uid}")
            }
            Input::Demote(uid) => {
                self.demoted = true;
                self.promoted = false;
                format!("demoted by uid {uid}")
            }
            Input::Tick => return,
        };
    }

    fn activate_reason(&self) -> String {
        let why = match self.side {
            Side::Standalone => "no HA pair: this box runs the services".to_owned(),
            Side::Slave if self.has_second => {
                "the peer is silent on both paths: taking over".to_owned()
            }
            Side::Slave => "the peer is silent: taking over".to_owned(),
            Side::Master => "this box holds the highest priority".to_owned(),
        };
        format!("{why} ({})", self.trigger)
    }

    fn standby_reason(&self) -> String {
        if self.demoted {
            format!("demoted for maintenance ({})", self.trigger)
        } else if !self.healthy {
            format!("unhealthy: {}", self.unhealthy_why)
        } else {
            format!("the peer holds the service ({})", self.trigger)
        }
    }

    /// A master waiting in BACKUP, healthy and in service, counts its failback delay.
    fn track_failback(&mut self, now: u64) {
        let waiting = self.side == Side::Master
            && !self.active
            && self.advert == VrrpState::Backup
            && self.healthy
            && !self.demoted;
        if !waiting {
            self.waiting_since = None;
        } else if self.waiting_since.is_none() {
            self.waiting_since = Some(now);
        }
        if self
            .waiting_since
            .is_some_and(|t| now >= t + self.failback_delay)
        {
            self.failback_served = true;
        }
        if self.active || self.demoted || !self.healthy {
            self.failback_served = false;
        }
    }

    fn priority(&self) -> i32 {
        match self.side {
            Side::Standalone => 0,
            Side::Slave => {
                if self.promoted && !self.active {
                    RAISE
                } else {
                    0
                }
            }
            Side::Master => {
                if self.active || self.promoted || self.failback_served {
                    0
                } else {
                    HOLD_BACK
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Command::*;
    use VrrpState::{Backup, Master};

    fn slave() -> Machine {
        Machine::new(Side::Slave, true, Duration::ZERO, Duration::from_secs(3))
    }

    fn master() -> Machine {
        Machine::new(Side::Master, true, Duration::ZERO, Duration::from_secs(3))
    }

    fn vrrp(m: &mut Machine, now: u64, path: Path, state: VrrpState) -> Vec<Command> {
        m.step(now, Input::Vrrp(path, state))
    }

    fn transitions(cmds: &[Command]) -> Vec<&'static str> {
        cmds.iter()
            .filter_map(|c| match c {
                Activate { .. } => Some("activate"),
                Standby { .. } => Some("standby"),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_slave_takes_over_once_the_peer_is_silent_on_both_paths() {
        let mut m = slave();
        assert_eq!(m.step(0, Input::Tick), [Priority(0), Fault(false)]);
        vrrp(&mut m, 10, Path::Advert, Backup);
        vrrp(&mut m, 10, Path::Second, Backup);
        assert!(!m.is_active());
        // The advert path times out a moment before the second one.
        assert!(vrrp(&mut m, 1000, Path::Advert, Master).is_empty());
        assert!(m.guarded());
        let cmds = vrrp(&mut m, 1003, Path::Second, Master);
        assert_eq!(transitions(&cmds), ["activate"]);
        assert!(m.is_active() && !m.guarded());
        // Repeated news changes nothing.
        assert!(vrrp(&mut m, 1100, Path::Second, Master).is_empty());
    }

    #[test]
    fn a_cut_advert_path_with_the_peer_on_the_second_path_moves_nothing() {
        let mut m = slave();
        vrrp(&mut m, 0, Path::Advert, Backup);
        vrrp(&mut m, 0, Path::Second, Backup);
        assert!(vrrp(&mut m, 700, Path::Advert, Master).is_empty());
        assert!(m.guarded());
        assert!(m.step(60_000, Input::Tick).is_empty());
        // The path heals: the master's adverts win.
        assert!(vrrp(&mut m, 61_000, Path::Advert, Backup).is_empty());
        assert!(!m.guarded() && !m.is_active());
    }

    #[test]
    fn the_slave_steps_down_when_the_master_takes_back_and_the_master_waits_first() {
        let mut s = slave();
        let mut m = master();
        assert_eq!(m.step(0, Input::Tick), [Priority(HOLD_BACK), Fault(false)]);
        s.step(0, Input::Tick);
        vrrp(&mut s, 0, Path::Advert, Master);
        vrrp(&mut s, 0, Path::Second, Master);
        assert!(s.is_active());
        // The master comes back and hears the slave: it holds back for 3 s.
        vrrp(&mut m, 100, Path::Advert, Backup);
        vrrp(&mut m, 100, Path::Second, Backup);
        assert_eq!(m.deadline(), Some(3100));
        assert!(m.step(3000, Input::Tick).is_empty());
        assert_eq!(m.failback_left(3000), Some(0.1));
        assert_eq!(m.step(3100, Input::Tick), [Priority(0)]);
        // keepalived preempts with the full priority.
        vrrp(&mut m, 3200, Path::Second, Master);
        let cmds = vrrp(&mut m, 3201, Path::Advert, Master);
        assert_eq!(transitions(&cmds), ["activate"]);
        let cmds = vrrp(&mut s, 3200, Path::Advert, Backup);
        assert_eq!(transitions(&cmds), ["standby"]);
        vrrp(&mut s, 3201, Path::Second, Backup);
        assert!(!s.is_active() && m.is_active());
    }

    #[test]
    fn a_master_that_served_its_wait_keeps_its_priority_while_the_second_path_catches_up() {
        let mut m = master();
        m.step(0, Input::Tick);
        vrrp(&mut m, 100, Path::Advert, Backup);
        vrrp(&mut m, 100, Path::Second, Backup);
        assert_eq!(m.step(3100, Input::Tick), [Priority(0)]);
        // The advert path preempts first: the guard holds the box back for a
        // moment, and the wait it has served must not start again.
        assert!(vrrp(&mut m, 3200, Path::Advert, Master).is_empty());
        assert!(m.guarded());
        assert_eq!(m.deadline(), None);
        let cmds = vrrp(&mut m, 3210, Path::Second, Master);
        assert_eq!(transitions(&cmds), ["activate"]);
        // Once it has been active, a later return waits again.
        m.step(
            9000,
            Input::Health {
                healthy: false,
                why: "asterisk".into(),
            },
        );
        vrrp(&mut m, 9100, Path::Advert, Backup);
        vrrp(&mut m, 9100, Path::Second, Backup);
        m.step(
            9200,
            Input::Health {
                healthy: true,
                why: String::new(),
            },
        );
        assert_eq!(m.failback_left(9200), Some(3.0));
        assert!(!m.is_active());
    }

    #[test]
    fn a_master_without_a_peer_takes_the_service_at_its_held_priority_then_lifts_it() {
        let mut m = master();
        m.step(0, Input::Tick);
        vrrp(&mut m, 0, Path::Advert, Backup);
        vrrp(&mut m, 700, Path::Second, Master);
        let cmds = vrrp(&mut m, 760, Path::Advert, Master);
        assert_eq!(cmds[0], Priority(0));
        assert_eq!(transitions(&cmds), ["activate"]);
    }

    #[test]
    fn an_unhealthy_active_box_faults_first_then_stops_and_recovers_held_back() {
        let mut m = master();
        m.step(0, Input::Tick);
        vrrp(&mut m, 0, Path::Advert, Master);
        vrrp(&mut m, 0, Path::Second, Master);
        assert!(m.is_active());
        let cmds = m.step(
            10,
            Input::Health {
                healthy: false,
                why: "asterisk: check failed".into(),
            },
        );
        assert_eq!(cmds[0], Priority(HOLD_BACK));
        assert_eq!(cmds[1], Fault(true));
        assert!(matches!(&cmds[2], Standby { reason } if reason.contains("asterisk")));
        // Stopped, the services are no longer checked: healthy again, but
        // the priority stays held so it does not take straight back.
        let cmds = m.step(
            20,
            Input::Health {
                healthy: true,
                why: String::new(),
            },
        );
        assert_eq!(cmds, [Fault(false)]);
        // keepalived's FAULT, then BACKUP: standby, waiting to fail back.
        assert!(vrrp(&mut m, 30, Path::Advert, VrrpState::Fault).is_empty());
        assert!(vrrp(&mut m, 40, Path::Advert, Backup).is_empty());
        assert!(!m.is_active());
        assert!(m.failback_left(40).is_some());
    }

    #[test]
    fn demote_holds_the_box_out_until_promote() {
        let mut m = master();
        m.step(0, Input::Tick);
        vrrp(&mut m, 0, Path::Advert, Master);
        vrrp(&mut m, 0, Path::Second, Master);
        let cmds = m.step(5, Input::Demote(0));
        assert!(cmds.contains(&Fault(true)));
        assert_eq!(transitions(&cmds), ["standby"]);
        vrrp(&mut m, 10, Path::Advert, VrrpState::Fault);
        vrrp(&mut m, 10, Path::Second, VrrpState::Fault);
        assert!(m.is_demoted());
        let cmds = m.step(20, Input::Promote(0));
        assert!(cmds.contains(&Fault(false)));
        assert!(
            cmds.contains(&Priority(0)),
            "promote skips the failback wait: {cmds:?}"
        );
        let kept = m.kept();
        assert!(!kept.demoted && !kept.active);
    }

    #[test]
    fn a_promoted_slave_outranks_the_master_until_it_is_active() {
        let mut s = slave();
        s.step(0, Input::Tick);
        vrrp(&mut s, 0, Path::Advert, Backup);
        vrrp(&mut s, 0, Path::Second, Backup);
        assert_eq!(s.step(10, Input::Promote(0)), [Priority(RAISE)]);
        vrrp(&mut s, 200, Path::Advert, Master);
        let cmds = vrrp(&mut s, 201, Path::Second, Master);
        assert_eq!(cmds[0], Priority(0));
        assert_eq!(transitions(&cmds), ["activate"]);
    }

    #[test]
    fn the_failover_delay_postpones_the_takeover_and_a_return_cancels_it() {
        let mut s = Machine::new(Side::Slave, false, Duration::from_secs(2), Duration::ZERO);
        s.step(0, Input::Tick);
        assert!(vrrp(&mut s, 100, Path::Advert, Master).is_empty());
        assert_eq!(s.deadline(), Some(2100));
        assert!(vrrp(&mut s, 1500, Path::Advert, Backup).is_empty());
        assert_eq!(s.deadline(), None);
        vrrp(&mut s, 3000, Path::Advert, Master);
        let cmds = s.step(5000, Input::Tick);
        assert_eq!(transitions(&cmds), ["activate"]);
    }

    #[test]
    fn a_restart_restores_what_was_done_and_repeats_nothing() {
        let mut s = slave();
        s.step(0, Input::Tick);
        vrrp(&mut s, 0, Path::Advert, Master);
        vrrp(&mut s, 0, Path::Second, Master);
        let kept = s.kept();
        let mut again = slave().restored(&kept);
        let cmds = again.step(10, Input::Tick);
        assert_eq!(transitions(&cmds), Vec::<&str>::new());
        assert!(again.is_active());
        // keepalived's news buffered while sysconfd was down still counts.
        let cmds = vrrp(&mut again, 20, Path::Advert, Backup);
        assert_eq!(transitions(&cmds), ["standby"]);
    }

    #[test]
    fn a_standalone_box_is_active_and_never_touches_keepalived() {
        let mut b = Machine::new(Side::Standalone, false, Duration::ZERO, Duration::ZERO);
        let cmds = b.step(0, Input::Tick);
        assert_eq!(transitions(&cmds), ["activate"]);
        assert!(!cmds.iter().any(|c| matches!(c, Priority(_) | Fault(_))));
    }
}
