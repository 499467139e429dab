//! Token attempts: a few wrong tries per client address and window.
//!
//! There is no ceiling for all clients together: it would let strangers
//! lock the owner out by guessing wrong on purpose. The token's 100 bits
//! are what stand against many addresses guessing at once.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Wrong tries as seconds since the Unix epoch, by client address: what a
/// restart keeps, so restarting the server resets no one's count.
pub type Saved = BTreeMap<IpAddr, Vec<u64>>;

pub struct Attempts {
    per_client: usize,
    window: Duration,
    clients: HashMap<IpAddr, VecDeque<Instant>>,
}

/// Most client addresses remembered; the quietest are forgotten first.
const MAX_CLIENTS: usize = 4096;

impl Attempts {
    pub fn new(per_client: usize, window: Duration) -> Attempts {
        Attempts {
            per_client: per_client.max(1),
            window,
            clients: HashMap::new(),
        }
    }

    fn expire(&mut self, now: Instant) {
        let window = self.window;
        let old = |q: &mut VecDeque<Instant>| {
            while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
                q.pop_front();
            }
        };
        self.clients.retain(|_, q| {
            old(q);
            !q.is_empty()
        });
    }

    /// `Err(wait)` when `client` must wait before trying again.
    pub fn check(&mut self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        self.expire(now);
        let full = |q: &VecDeque<Instant>, max: usize| {
            (q.len() >= max).then(|| self.window - now.duration_since(q[q.len() - max]))
        };
        if let Some(wait) = self
            .clients
            .get(&client)
            .and_then(|q| full(q, self.per_client))
        {
            return Err(wait);
        }
        Ok(())
    }

    /// The tries of the current window, to be kept across a restart.
    pub fn saved(&mut self, now: Instant, wall: SystemTime) -> Saved {
        self.expire(now);
        let secs = |t: &Instant| {
            wall.checked_sub(now.duration_since(*t))
                .and_then(|w| w.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs())
        };
        self.clients
            .iter()
            .map(|(ip, tries)| (*ip, tries.iter().map(secs).collect()))
            .collect()
    }

    /// Takes back what [`Attempts::saved`] kept. A try whose age cannot be
    /// told (the clock went back) counts as made now.
    pub fn restore(&mut self, saved: Saved, now: Instant, wall: SystemTime) {
        for (ip, tries) in saved {
            for secs in tries {
                let at = UNIX_EPOCH + Duration::from_secs(secs);
                let ago = wall.duration_since(at).unwrap_or_default();
                if ago < self.window {
                    self.failed(ip, now.checked_sub(ago).unwrap_or(now));
                }
            }
        }
    }

    /// Counts a wrong token from `client`.
    pub fn failed(&mut self, client: IpAddr, now: Instant) {
        if self.clients.len() >= MAX_CLIENTS && !self.clients.contains_key(&client) {
            if let Some(quiet) = self
                .clients
                .iter()
                .min_by_key(|(_, q)| q.back().copied())
                .map(|(ip, _)| *ip)
            {
                self.clients.remove(&quiet);
            }
        }
        let tries = self.clients.entry(client).or_default();
        tries.push_back(now);
        // Only the last `per_client` tries matter to `check`.
        while tries.len() > self.per_client {
            tries.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_waits_after_its_tries_and_others_never_do_for_it() {
        let mut a = Attempts::new(3, Duration::from_secs(60));
        let (x, owner) = ("192.0.2.1".parse().unwrap(), "192.0.2.9".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(a.check(x, t0).is_ok());
            a.failed(x, t0);
        }
        let wait = a.check(x, t0).unwrap_err();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(59));
        // Hundreds of wrong tries from many other addresses: the owner may still.
        for i in 0..200u8 {
            let other = IpAddr::from([198, 51, 100, i]);
            a.failed(other, t0);
            a.failed(other, t0);
        }
        assert!(a.check(owner, t0).is_ok());
        assert!(a.check(x, t0 + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn a_restart_keeps_the_count() {
        let window = Duration::from_secs(60);
        let mut a = Attempts::new(3, window);
        let x: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        let wall = SystemTime::now();
        for _ in 0..3 {
            a.failed(x, t0);
        }
        let saved = a.saved(t0, wall);
        let mut b = Attempts::new(3, window);
        // Ten seconds later, in a new process.
        b.restore(saved.clone(), t0, wall + Duration::from_secs(10));
        let wait = b.check(x, t0).unwrap_err();
        assert!(wait <= Duration::from_secs(50), "{wait:?}");
        let mut c = Attempts::new(3, window);
        c.restore(saved, t0, wall + Duration::from_secs(61));
        assert!(c.check(x, t0).is_ok(), "a window later, nothing is left");
    }
}
