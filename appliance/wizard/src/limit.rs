//! Token attempts: a few wrong tries per client address, and a ceiling for
//! all clients together, each per window.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub struct Attempts {
    per_client: usize,
    overall: usize,
    window: Duration,
    clients: HashMap<IpAddr, VecDeque<Instant>>,
    all: VecDeque<Instant>,
}

/// Most client addresses remembered; the quietest are forgotten first.
const MAX_CLIENTS: usize = 4096;

impl Attempts {
    pub fn new(per_client: usize, overall: usize, window: Duration) -> Attempts {
        Attempts {
            per_client,
            overall,
            window,
            clients: HashMap::new(),
            all: VecDeque::new(),
        }
    }

    fn expire(&mut self, now: Instant) {
        let window = self.window;
        let old = |q: &mut VecDeque<Instant>| {
            while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
                q.pop_front();
            }
        };
        old(&mut self.all);
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
        if let Some(wait) = full(&self.all, self.overall) {
            return Err(wait);
        }
        Ok(())
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
        self.clients.entry(client).or_default().push_back(now);
        self.all.push_back(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_waits_after_its_tries_and_others_still_may() {
        let mut a = Attempts::new(3, 5, Duration::from_secs(60));
        let (x, y, z) = (
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            "192.0.2.3".parse().unwrap(),
        );
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(a.check(x, t0).is_ok());
            a.failed(x, t0);
        }
        let wait = a.check(x, t0).unwrap_err();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(59));
        assert!(a.check(y, t0).is_ok());
        a.failed(y, t0);
        a.failed(y, t0);
        // Five wrong tries in all: everyone waits.
        assert!(a.check(z, t0).is_err());
        assert!(a.check(x, t0 + Duration::from_secs(61)).is_ok());
    }
}
