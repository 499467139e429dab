//! Look-ups that keep validation O(n log n) or better in every count: a
//! rule that compares each entry with the others asks one of these instead
//! of scanning the entries before it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;
use std::net::Ipv4Addr;
use std::ops::RangeInclusive;

use super::values::Ipv4Cidr;

/// Remembers where each key was first seen.
pub struct FirstSeen<K>(HashMap<K, usize>);

impl<K: Eq + Hash> FirstSeen<K> {
    pub fn new() -> Self {
        FirstSeen(HashMap::new())
    }

    /// Records `key` at `index`; returns the index it was first seen at, if earlier.
    pub fn seen(&mut self, key: K, index: usize) -> Option<usize> {
        match self.0.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(index);
                None
            }
        }
    }
}

impl<K: Eq + Hash> Default for FirstSeen<K> {
    fn default() -> Self {
        Self::new()
    }
}

/// A set of IPv4 subnets that answers "is this address in one of them?"
/// with one look-up per prefix length present.
pub struct SubnetSet<T> {
    by_prefix: BTreeMap<u8, HashMap<u32, Vec<T>>>,
}

impl<T> SubnetSet<T> {
    pub fn new() -> Self {
        SubnetSet {
            by_prefix: BTreeMap::new(),
        }
    }

    /// Adds `net`, tagged with `tag` (a subnet added twice keeps both tags).
    pub fn insert(&mut self, net: Ipv4Cidr, tag: T) {
        let key = u32::from(net.network());
        self.by_prefix
            .entry(net.prefix)
            .or_default()
            .entry(key)
            .or_default()
            .push(tag);
    }

    /// The tags of every subnet holding `ip`.
    pub fn containing(&self, ip: Ipv4Addr) -> impl Iterator<Item = &T> + '_ {
        let ip = u32::from(ip);
        self.by_prefix.iter().flat_map(move |(prefix, nets)| {
            let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
            nets.get(&(ip & mask)).into_iter().flatten()
        })
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        self.containing(ip).next().is_some()
    }
}

/// Ranges that overlap another, each with the index of one it overlaps,
/// reported on the later entry of the pair where it can be. Every range
/// that overlaps one starting before it is reported, or the one it meets
/// is. Sorts once: O(n log n).
pub fn overlaps<T: Ord + Copy>(ranges: &[RangeInclusive<T>]) -> BTreeMap<usize, usize> {
    let mut order: Vec<usize> = (0..ranges.len()).collect();
    order.sort_by_key(|&i| (*ranges[i].start(), i));
    let mut found = BTreeMap::new();
    let mut reach: Option<(T, usize)> = None;
    for i in order {
        let r = &ranges[i];
        if let Some((end, j)) = reach.filter(|(end, _)| *r.start() <= *end) {
            // The later entry of the pair is the one to fix, unless it
            // already has its own report.
            if i < j && !found.contains_key(&j) {
                found.insert(j, i);
            } else {
                found.insert(i, j);
            }
            if *r.end() <= end {
                continue;
            }
        }
        reach = Some((*r.end(), i));
    }
    found
}

/// The set of keys, for membership tests.
pub fn set_of<K: Eq + Hash>(keys: impl IntoIterator<Item = K>) -> HashSet<K> {
    keys.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_seen_names_the_first_index() {
        let mut f = FirstSeen::new();
        assert_eq!(f.seen("a", 0), None);
        assert_eq!(f.seen("b", 1), None);
        assert_eq!(f.seen("a", 2), Some(0));
        assert_eq!(f.seen("a", 3), Some(0));
    }

    #[test]
    fn subnet_set_finds_every_prefix_length() {
        let mut s = SubnetSet::new();
        s.insert("10.0.0.1/24".parse().unwrap(), "eth0");
        s.insert("192.168.0.0/16".parse().unwrap(), "eth1");
        s.insert("0.0.0.0/0".parse().unwrap(), "any");
        let ip = |t: &str| t.parse::<Ipv4Addr>().unwrap();
        let tags: Vec<_> = s.containing(ip("10.0.0.9")).collect();
        assert_eq!(tags, vec![&"any", &"eth0"]);
        assert!(s.containing(ip("192.168.7.1")).any(|t| *t == "eth1"));
        let mut none = SubnetSet::<()>::new();
        assert!(!none.contains(ip("10.0.0.9")));
        none.insert("10.0.0.9/32".parse().unwrap(), ());
        assert!(none.contains(ip("10.0.0.9")));
    }

    #[test]
    fn overlaps_reports_one_end_of_every_overlapping_pair() {
        let ranges = [1..=31, 40..=40, 20..=45, 50..=60, 60..=60, 61..=70, 3..=3];
        let found = overlaps(&ranges);
        let meet = |a: &RangeInclusive<u16>, b: &RangeInclusive<u16>| {
            a.start() <= b.end() && b.start() <= a.end()
        };
        for (i, j) in &found {
            assert!(i != j && meet(&ranges[*i], &ranges[*j]), "{i} {j}");
        }
        for i in 0..ranges.len() {
            for j in i + 1..ranges.len() {
                if meet(&ranges[i], &ranges[j]) {
                    assert!(found.contains_key(&i) || found.contains_key(&j), "{i} {j}");
                }
            }
        }
        assert!(!found.contains_key(&5) && !found.contains_key(&0));
    }
}
