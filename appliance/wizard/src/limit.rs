//! Token attempts: a few wrong tries per client address and window.
//!
//! There is no ceiling for all clients together: it would let strangers
//! lock the owner out by guessing wrong on purpose. The token's 100 bits
//! are what stand against many addresses guessing at once.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

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
}
