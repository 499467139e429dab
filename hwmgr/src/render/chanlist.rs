//! Channel lists as `dahdi_cfg` and chan_dahdi read them: `1-15,17-31`.

use std::fmt;

/// A sorted set of global channel numbers, printed as comma-separated
/// runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelList(Vec<u16>);

impl ChannelList {
    /// The channels `first..=last` except those in `skip`.
    pub fn range_without(first: u16, last: u16, skip: &[u16]) -> Self {
        ChannelList((first..=last).filter(|c| !skip.contains(c)).collect())
    }

    pub fn single(channel: u16) -> Self {
        ChannelList(vec![channel])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Consecutive runs as `(start, end)`.
    fn runs(&self) -> Vec<(u16, u16)> {
        let mut runs: Vec<(u16, u16)> = Vec::new();
        for &c in &self.0 {
            match runs.last_mut() {
                Some((_, end)) if *end + 1 == c => *end = c,
                _ => runs.push((c, c)),
            }
        }
        runs
    }
}

impl fmt::Display for ChannelList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (a, b)) in self.runs().into_iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if a == b {
                write!(f, "{a}")?;
            } else {
                write!(f, "{a}-{b}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_runs_around_the_d_channel() {
        assert_eq!(
            ChannelList::range_without(1, 31, &[16]).to_string(),
            "1-15,17-31"
        );
        assert_eq!(ChannelList::range_without(56, 57, &[]).to_string(), "56-57");
        assert_eq!(ChannelList::single(32).to_string(), "32");
        assert_eq!(ChannelList::range_without(5, 5, &[5]).to_string(), "");
    }
}
