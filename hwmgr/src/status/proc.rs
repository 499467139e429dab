//! The `/proc/dahdi/<span>` file, as `dahdi_seq_show` in dahdi-base.c writes
//! it: a header line, tab-indented counters, a blank line, one line per
//! channel.

use serde::Serialize;

use super::alarm::{Alarm, AlarmSet};
use super::StatusError;

/// Signalling names the kernel prints (`sigstr`); longest first so that
/// `E&M-E1` wins over `E&M`.
const SIGNALLINGS: [&str; 20] = [
    "Hardware-assisted HDLC",
    "SF (ToneOnly)",
    "Unconfigured",
    "DACS+RBS",
    "HDLCRAW",
    "HDLCFCS",
    "HDLCNET",
    "E&M-E1",
    "FXSLS",
    "FXSKS",
    "FXSGS",
    "FXOLS",
    "FXOKS",
    "FXOGS",
    "Clear",
    "Slave",
    "DACS",
    "MTP2",
    "E&M",
    "CAS",
];

/// Error counters of a span; the kernel prints only the non-zero ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Bipolar violations.
    pub bpv: u64,
    /// CRC4 errors (E1 with crc4).
    pub crc4: u64,
    /// E-bit errors (far end reports CRC4 errors).
    pub ebit: u64,
    /// Frame alignment signal errors.
    pub fas: u64,
    /// Interrupts the card's device missed (should stay still: cards need
    /// 1000 interrupts a second).
    pub irq_misses: u64,
    /// Timing slips.
    pub timing_slips: u64,
}

/// One channel line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelStatus {
    /// Global channel number.
    pub number: u32,
    /// Driver name, e.g. `TE4/0/1/16`, `WCTDM/0/3`.
    pub name: String,
    /// Configured signalling as the kernel names it (`FXOKS`, `Clear`,
    /// `Hardware-assisted HDLC`…), `None` when unconfigured.
    pub signalling: Option<String>,
    /// No capability at all: an empty analog slot.
    pub reserved: bool,
    /// Master of an HDLC bundle.
    pub master: bool,
    /// Opened by a program (Asterisk).
    pub in_use: bool,
    pub alarms: AlarmSet,
    /// Attached echo canceller and whether it is active.
    pub echo_canceller: Option<ChannelEchoCanceller>,
}

/// `(EC: <name> - ACTIVE|INACTIVE)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelEchoCanceller {
    pub name: String,
    pub active: bool,
}

/// A parsed `/proc/dahdi/N` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcSpan {
    pub number: u32,
    pub name: String,
    pub description: String,
    /// This span is the DAHDI timing master.
    pub master: bool,
    /// `CCS/HDB3/CRC4`, `ESF/B8ZS`, `AMI/CCS` — once configured.
    pub lineconfig: Option<String>,
    pub alarms: AlarmSet,
    /// The span recovers its clock from its own line.
    pub clock_source: bool,
    pub counters: Counters,
    pub channels: Vec<ChannelStatus>,
}

/// Parses the text of `/proc/dahdi/<number>`.
pub fn parse(number: u32, text: &str) -> Result<ProcSpan, StatusError> {
    let mut lines = text.lines();
    let header = lines.next().ok_or(StatusError::Empty { span: number })?;
    let mut span = parse_header(number, header)?;
    for line in lines {
        if line.trim().is_empty() {
            continue;
        }
        if let Some((key, value)) = counter(line) {
            set_counter(&mut span.counters, key, value);
        } else {
            span.channels.push(parse_channel(number, line)?);
        }
    }
    Ok(span)
}

fn parse_header(number: u32, line: &str) -> Result<ProcSpan, StatusError> {
    let bad = |why: &str| StatusError::BadHeader {
        span: number,
        why: why.into(),
        line: line.into(),
    };
    let rest = line
        .strip_prefix("Span ")
        .ok_or_else(|| bad("no `Span N:` prefix"))?;
    let (num, rest) = rest
        .split_once(": ")
        .ok_or_else(|| bad("no `:` after the number"))?;
    if num.parse::<u32>().ok() != Some(number) {
        return Err(bad("number differs from the file name"));
    }
    let (name, rest) = rest
        .split_once(" \"")
        .ok_or_else(|| bad("no quoted description"))?;
    let (description, tail) = rest
        .rsplit_once('"')
        .ok_or_else(|| bad("unterminated description"))?;
    let mut span = ProcSpan {
        number,
        name: name.to_owned(),
        description: description.to_owned(),
        master: false,
        lineconfig: None,
        alarms: AlarmSet::default(),
        clock_source: false,
        counters: Counters::default(),
        channels: Vec::new(),
    };
    for word in tail.split_whitespace() {
        match word {
            "(MASTER)" => span.master = true,
            "ClockSource" => span.clock_source = true,
            w => match Alarm::from_proc_word(w) {
                Some(alarm) => span.alarms.insert(alarm),
                None if is_lineconfig(w) => span.lineconfig = Some(w.to_owned()),
                None => return Err(bad(&format!("unknown word {w:?}"))),
            },
        }
    }
    Ok(span)
}

fn is_lineconfig(word: &str) -> bool {
    const NAMES: [&str; 7] = ["D4", "ESF", "AMI", "B8ZS", "CCS", "HDB3", "CRC4"];
    word.split('/').all(|part| NAMES.contains(&part))
}

fn counter(line: &str) -> Option<(&str, u64)> {
    let (key, value) = line.trim().split_once(": ")?;
    Some((key, value.trim().parse().ok()?))
}

fn set_counter(c: &mut Counters, key: &str, value: u64) {
    match key {
        "BPV count" => c.bpv = value,
        "CRC4 error count" => c.crc4 = value,
        "E-bit error count" => c.ebit = value,
        "FAS error count" => c.fas = value,
        "IRQ misses" => c.irq_misses = value,
        "Timing slips" => c.timing_slips = value,
        _ => {}
    }
}

fn parse_channel(span: u32, line: &str) -> Result<ChannelStatus, StatusError> {
    let bad = || StatusError::BadChannel {
        span,
        line: line.into(),
    };
    let line = line.trim();
    let (num, rest) = line.split_once(char::is_whitespace).ok_or_else(bad)?;
    let number = num.parse().map_err(|_| bad())?;
    let rest = rest.trim_start();
    let (name, mut rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let mut channel = ChannelStatus {
        number,
        name: name.to_owned(),
        signalling: None,
        reserved: false,
        master: false,
        in_use: false,
        alarms: AlarmSet::default(),
        echo_canceller: None,
    };
    rest = rest.trim_start();
    if let Some(sig) = SIGNALLINGS.iter().find(|s| rest.starts_with(**s)) {
        channel.signalling = Some((*sig).to_owned());
        rest = &rest[sig.len()..];
    }
    read_flags(&mut channel, rest).ok_or_else(bad)?;
    Ok(channel)
}

/// Reads what follows the signalling: flags, alarm words, the EC note.
fn read_flags(channel: &mut ChannelStatus, mut rest: &str) -> Option<()> {
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Some(());
        }
        if let Some(ec) = rest.strip_prefix("(EC: ") {
            let (inner, after) = ec.split_once(')')?;
            let (name, state) = inner.rsplit_once(" - ")?;
            channel.echo_canceller = Some(ChannelEchoCanceller {
                name: name.to_owned(),
                active: state == "ACTIVE",
            });
            rest = after;
            continue;
        }
        let (word, after) = match rest.strip_prefix('(') {
            Some(paren) => paren.split_once(')')?,
            None => rest.split_once(char::is_whitespace).unwrap_or((rest, "")),
        };
        match word {
            "Master" => channel.master = true,
            "Reserved" => channel.reserved = true,
            "In use" => channel.in_use = true,
            "no pcm" => {}
            w => channel.alarms.insert(Alarm::from_proc_word(w)?),
        }
        rest = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const E1: &str = "Span 1: TE4/0/1 \"T4XXP (PCI) Card 0 Span 1\" (MASTER) CCS/HDB3/CRC4 RED \n\
        \tBPV count: 12\n\tCRC4 error count: 3\n\tIRQ misses: 7\n\n\
        \t   1 TE4/0/1/1 Clear (In use) (EC: VPMOCT128 - INACTIVE) \n\
        \t  16 TE4/0/1/16 Hardware-assisted HDLC (In use) \n\
        \t  17 TE4/0/1/17 RED \n";

    #[test]
    fn reads_header_counters_and_channels() {
        let s = parse(1, E1).unwrap();
        assert_eq!(s.name, "TE4/0/1");
        assert_eq!(s.description, "T4XXP (PCI) Card 0 Span 1");
        assert!(s.master);
        assert_eq!(s.lineconfig.as_deref(), Some("CCS/HDB3/CRC4"));
        assert!(s.alarms.contains(Alarm::Red));
        assert_eq!(
            (s.counters.bpv, s.counters.crc4, s.counters.irq_misses),
            (12, 3, 7)
        );
        assert_eq!(s.channels.len(), 3);
        let ec = s.channels[0].echo_canceller.as_ref().unwrap();
        assert_eq!((ec.name.as_str(), ec.active), ("VPMOCT128", false));
        assert_eq!(
            s.channels[1].signalling.as_deref(),
            Some("Hardware-assisted HDLC")
        );
        assert!(s.channels[1].in_use);
        assert!(s.channels[2].alarms.contains(Alarm::Red));
    }

    #[test]
    fn reads_the_seed_irq_example() {
        let text = "Span 1: WCTDM/0 \"Wildcard TDM800P Board 1\" (MASTER) \nIRQ misses: 1762187\n  1 WCTDM/0/0 FXOKS (In use)\n  2 WCTDM/0/1 FXOKS (In use)\n";
        let s = parse(1, text).unwrap();
        assert_eq!(s.counters.irq_misses, 1_762_187);
        assert!(s.alarms.is_ok());
        assert_eq!(s.channels[1].signalling.as_deref(), Some("FXOKS"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse(2, "Span 1: X \"y\" \n").is_err());
        assert!(parse(1, "").is_err());
        assert!(parse(1, "Span 1: X \"y\" \n\n\t 1 X/1 BOGUS\n").is_err());
    }
}
