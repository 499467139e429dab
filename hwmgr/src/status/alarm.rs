//! Span and channel alarms, as the kernel reports them in sysfs (a bit mask)
//! and in `/proc/dahdi/N` (words).

use std::fmt;

use serde::{Serialize, Serializer};

/// One alarm condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Alarm {
    /// Clearing: the alarm is going away.
    Recovering,
    /// Local or remote loopback.
    Loopback,
    /// Far end is in red alarm (RAI).
    Yellow,
    /// No sync with the far end: wiring, framing or coding mismatch.
    Red,
    /// Far end sends all ones (AIS): its upstream failed.
    Blue,
    /// Span not opened (e.g. an Astribank unplugged while in use).
    NotOpen,
    /// Loss of signal (extended, sysfs only).
    Los,
    /// Loss of frame alignment (extended, sysfs only).
    Lfa,
    /// Loss of CRC4 multiframe alignment (extended, sysfs only).
    Lmfa,
}

impl Alarm {
    /// Bit order follows `include/dahdi/user.h`.
    const BITS: [(Alarm, u32); 9] = [
        (Alarm::Recovering, 0x1),
        (Alarm::Loopback, 0x2),
        (Alarm::Yellow, 0x4),
        (Alarm::Red, 0x8),
        (Alarm::Blue, 0x10),
        (Alarm::NotOpen, 0x20),
        (Alarm::Los, 0x100),
        (Alarm::Lfa, 0x200),
        (Alarm::Lmfa, 0x400),
    ];

    /// The kernel's bit for this alarm.
    pub fn bit(self) -> u32 {
        Self::BITS
            .iter()
            .find(|(a, _)| *a == self)
            .map(|(_, b)| *b)
            .unwrap_or(0)
    }

    /// The word `/proc/dahdi/N` prints, if it prints one.
    pub fn proc_word(self) -> Option<&'static str> {
        match self {
            Alarm::Blue => Some("BLUE"),
            Alarm::Yellow => Some("YELLOW"),
            Alarm::Red => Some("RED"),
            Alarm::Loopback => Some("LOOP"),
            Alarm::Recovering => Some("RECOVERING"),
            Alarm::NotOpen => Some("NOTOPEN"),
            Alarm::Los | Alarm::Lfa | Alarm::Lmfa => None,
        }
    }

    /// Reads one `/proc/dahdi` alarm word.
    pub fn from_proc_word(word: &str) -> Option<Alarm> {
        Self::BITS
            .iter()
            .map(|(a, _)| *a)
            .find(|a| a.proc_word() == Some(word))
    }

    /// The name admins see (`RED`, `LOOPBACK`…).
    pub fn name(self) -> &'static str {
        match self {
            Alarm::Recovering => "RECOVERING",
            Alarm::Loopback => "LOOPBACK",
            Alarm::Yellow => "YELLOW",
            Alarm::Red => "RED",
            Alarm::Blue => "BLUE",
            Alarm::NotOpen => "NOTOPEN",
            Alarm::Los => "LOS",
            Alarm::Lfa => "LFA",
            Alarm::Lmfa => "LMFA",
        }
    }
}

/// A set of alarms; empty means OK.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AlarmSet(u32);

impl AlarmSet {
    /// From the sysfs `alarms` mask (`0x8`); unknown bits are kept.
    pub fn from_bits(bits: u32) -> Self {
        Self(bits)
    }

    /// Parses a sysfs `alarms` file (`0x%x`).
    pub fn parse_sysfs(text: &str) -> Option<Self> {
        let t = text.trim();
        let digits = t.strip_prefix("0x").unwrap_or(t);
        u32::from_str_radix(digits, 16).ok().map(Self)
    }

    pub fn bits(self) -> u32 {
        self.0
    }

    pub fn insert(&mut self, alarm: Alarm) {
        self.0 |= alarm.bit();
    }

    pub fn contains(self, alarm: Alarm) -> bool {
        self.0 & alarm.bit() != 0
    }

    pub fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// The alarms present, in the kernel's bit order.
    pub fn iter(self) -> impl Iterator<Item = Alarm> {
        Alarm::BITS
            .into_iter()
            .filter(move |(_, b)| self.0 & b != 0)
            .map(|(a, _)| a)
    }

    /// Bits no known alarm accounts for (`dahdi_scan` shows them as `UUU`).
    pub fn unknown_bits(self) -> u32 {
        Alarm::BITS.iter().fold(self.0, |rest, (_, b)| rest & !b)
    }

    /// Adds every alarm of `other` (proc words and the sysfs mask agree but
    /// only sysfs has LOS/LFA/LMFA).
    pub fn union(self, other: AlarmSet) -> AlarmSet {
        AlarmSet(self.0 | other.0)
    }
}

impl FromIterator<Alarm> for AlarmSet {
    fn from_iter<I: IntoIterator<Item = Alarm>>(iter: I) -> Self {
        let mut set = AlarmSet::default();
        iter.into_iter().for_each(|a| set.insert(a));
        set
    }
}

impl fmt::Display for AlarmSet {
    /// `OK`, or the alarm names joined by `/` (`RED/BLUE`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_ok() {
            return f.write_str("OK");
        }
        let names: Vec<&str> = self.iter().map(Alarm::name).collect();
        f.write_str(&names.join("/"))?;
        if self.unknown_bits() != 0 {
            write!(f, "/UNKNOWN(0x{:x})", self.unknown_bits())?;
        }
        Ok(())
    }
}

impl Serialize for AlarmSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysfs_mask_and_display() {
        let set = AlarmSet::parse_sysfs("0x18\n").unwrap();
        assert!(set.contains(Alarm::Red) && set.contains(Alarm::Blue));
        assert_eq!(set.to_string(), "RED/BLUE");
        assert_eq!(AlarmSet::parse_sysfs("0x0").unwrap().to_string(), "OK");
        assert_eq!(AlarmSet::from_bits(0x308).to_string(), "RED/LOS/LFA");
    }

    #[test]
    fn proc_words_map_back() {
        assert_eq!(Alarm::from_proc_word("LOOP"), Some(Alarm::Loopback));
        assert_eq!(Alarm::from_proc_word("ClockSource"), None);
    }
}
