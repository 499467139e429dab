//! Kernel log lines where a DAHDI driver says a firmware file is missing
//! or broken, read as `dmesg`, `/dev/kmsg`, syslog or `journalctl -k`
//! print them.
//!
//! Each line loses its time stamp or record prefix, then its
//! `<driver> <device>: ` head (`dev_printk`'s), and what is left is matched
//! against the drivers' own messages (dahdi-linux `wct4xxp/base.c`,
//! `wcte13xp-base.c`, `wcte43x-base.c`, `wcaxx-base.c`, `wcxb.c`,
//! `wctc4xxp/base.c`, `wctdm24xxp/base.c`, `voicebus/vpmoct.c`) and the
//! kernel firmware loader's.

/// What the driver said about the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Complaint {
    /// Not in `/lib/firmware` (or not readable).
    Missing,
    /// There, but its header or checksum is wrong.
    Invalid,
}

/// One firmware complaint of a driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmwareLine {
    /// The driver (`wcte43x`), or `firmware_class` for the loader's own lines without a device.
    pub driver: String,
    /// The device it named (`0000:02:00.0`).
    pub device: Option<String>,
    /// `dahdi-fw-oct6114-064.bin`.
    pub file: String,
    pub complaint: Complaint,
    /// The message without its time stamp.
    pub line: String,
}

/// What a log text held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelLog {
    pub lines: Vec<FirmwareLine>,
    /// Lines naming a `dahdi-fw-` file that match no known message.
    pub unread: Vec<String>,
}

/// A driver message, `{f}` standing for the file name and `{n}` for an
/// error number. `implied` is the file for messages that do not name it,
/// `driver` the only driver whose message it is.
struct Template {
    text: &'static str,
    complaint: Complaint,
    implied: Option<&'static str>,
    driver: Option<&'static str>,
}

const fn named(text: &'static str, complaint: Complaint) -> Template {
    Template {
        text,
        complaint,
        implied: None,
        driver: None,
    }
}

const TEMPLATES: &[Template] = &[
    // wct4xxp, wcte13xp, wcte43x, wcaxx: the VPM450/VPMOCT canceller.
    named(
        "VPM450: firmware {f} not available from userspace",
        Complaint::Missing,
    ),
    // wct4xxp: the TE820's FPGA.
    named(
        "firmware {f} not available from userspace",
        Complaint::Missing,
    ),
    // wctc4xxp.
    named(
        "Firmware {f} not available from userspace. ({n})",
        Complaint::Missing,
    ),
    // wcxb (TE13x, TE43x, A4/A8 FPGA).
    named(
        "Firmware '{f}' not available from userspace.",
        Complaint::Missing,
    ),
    named("{f} is invalid. Please reinstall.", Complaint::Invalid),
    // The kernel firmware loader.
    named(
        "Direct firmware load for {f} failed with error {n}",
        Complaint::Missing,
    ),
    named("firmware: failed to load {f} ({n})", Complaint::Missing),
    // wctdm24xxp's Hx8 check names no file.
    Template {
        text: "Failed to load firmware from userspace, skipping check. ({n})",
        complaint: Complaint::Missing,
        implied: Some("dahdi-fw-hx8.bin"),
        driver: Some("wctdm24xxp"),
    },
    // voicebus/vpmoct.c (wctdm24xxp, wcte12xp) names none either.
    Template {
        text: "vpmoct: Failed to load firmware from userspace! {n}",
        complaint: Complaint::Missing,
        implied: Some("dahdi-fw-vpmoct032.bin"),
        driver: None,
    },
];

/// Reads every line of `text`.
pub fn parse(text: &str) -> KernelLog {
    let mut log = KernelLog::default();
    for raw in text.lines() {
        let Some(message) = message(raw) else {
            continue;
        };
        match firmware_line(message) {
            Some(line) if !log.lines.contains(&line) => log.lines.push(line),
            Some(_) => {}
            None if message.contains("dahdi-fw-") => {
                let unread = message.trim().to_owned();
                if !log.unread.contains(&unread) {
                    log.unread.push(unread);
                }
            }
            None => {}
        }
    }
    log
}

/// The message of one log line: without `/dev/kmsg`'s `prio,seq,usec,flags;`,
/// `dmesg`'s `[ 12.345678]` or `<4>`, or syslog's `… kernel: `. `None` for
/// `/dev/kmsg` continuation lines (` SUBSYSTEM=pci`).
fn message(raw: &str) -> Option<&str> {
    if raw.starts_with(' ') && raw.trim_start().contains('=') && !raw.contains(": ") {
        return None;
    }
    let mut m = raw.trim_end();
    if let Some(rest) = kmsg_body(m) {
        m = rest;
    }
    if let Some(at) = m.find(" kernel: ") {
        m = &m[at + " kernel: ".len()..];
    }
    loop {
        let t = m.trim_start();
        if let Some(rest) = bracketed(t, '[', ']').or_else(|| bracketed(t, '<', '>')) {
            m = rest;
        } else {
            return Some(t);
        }
    }
}

/// The body of a `/dev/kmsg` record, `6,1234,5678901,-;body`.
fn kmsg_body(line: &str) -> Option<&str> {
    let (head, body) = line.split_once(';')?;
    let fields: Vec<&str> = head.split(',').collect();
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (fields.len() >= 4 && fields[..3].iter().all(|f| numeric(f))).then_some(body)
}

/// `text` after a leading `[…]` (or `<…>`) and the spaces after it.
fn bracketed(text: &str, open: char, close: char) -> Option<&str> {
    let rest = text.strip_prefix(open)?;
    let end = rest.find(close)?;
    let inside = &rest[..end];
    let stamp = !inside.is_empty()
        && inside
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " .:+-".contains(c));
    stamp.then(|| &rest[end + close.len_utf8()..])
}

/// `wcte43x 0000:02:00.0: rest` → (driver, device, rest).
fn device_head(message: &str) -> Option<(&str, &str, &str)> {
    let (driver, rest) = message.split_once(' ')?;
    let (device, text) = rest.split_once(": ")?;
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b))
    };
    (name_ok(driver) && name_ok(device)).then_some((driver, device, text))
}

fn firmware_line(message: &str) -> Option<FirmwareLine> {
    let (driver, device, text) = match device_head(message) {
        Some((d, dev, t)) => (d, Some(dev), t),
        None => ("firmware_class", None, message),
    };
    for t in TEMPLATES {
        if t.driver.is_some_and(|only| only != driver) {
            continue;
        }
        let Some(found) = matches(t.text, text.trim_end()) else {
            continue;
        };
        let file = match (found, t.implied) {
            (Some(f), _) => f,
            (None, Some(implied)) => implied.to_owned(),
            (None, None) => continue,
        };
        if !is_dahdi_firmware(&file) {
            continue;
        }
        return Some(FirmwareLine {
            driver: driver.to_owned(),
            device: device.map(str::to_owned),
            file,
            complaint: t.complaint,
            line: message.to_owned(),
        });
    }
    None
}

/// A DAHDI firmware file name: `dahdi-fw-<name>.bin`, nothing else.
pub fn is_dahdi_firmware(name: &str) -> bool {
    name.starts_with("dahdi-fw-")
        && name.ends_with(".bin")
        && super::catalog::is_firmware_file_name(name)
}

/// Matches `text` against `template`: `Some(file)` when it matched (the
/// file is `None` for a template without `{f}`).
fn matches(template: &str, text: &str) -> Option<Option<String>> {
    let mut file = None;
    let mut rest = text;
    let mut tpl = template;
    loop {
        let Some(at) = tpl.find('{') else {
            return (rest == tpl).then_some(file);
        };
        rest = rest.strip_prefix(&tpl[..at])?;
        let hole = &tpl[at..at + 3];
        tpl = &tpl[at + 3..];
        let next_lit = &tpl[..tpl.find('{').unwrap_or(tpl.len())];
        let end = if next_lit.is_empty() {
            rest.len()
        } else {
            rest.find(next_lit)?
        };
        let value = &rest[..end];
        match hole {
            "{f}" if !value.is_empty() && !value.contains(' ') => file = Some(value.to_owned()),
            "{n}"
                if value
                    .strip_prefix('-')
                    .unwrap_or(value)
                    .parse::<u32>()
                    .is_ok() => {}
            _ => return None,
        }
        rest = &rest[end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drivers_own_lines_in_every_log_format() {
        let text = "\
[   12.345678] wcte43x 0000:02:00.0: VPM450: firmware dahdi-fw-oct6114-064.bin not available from userspace
4,1021,88123456,-;wctc4xxp 0000:05:00.0: Firmware dahdi-fw-tc400m.bin not available from userspace. (-2)
 SUBSYSTEM=pci
 DEVICE=+pci:0000:05:00.0
Mar 05 10:00:01 telbox kernel: wcte13xp 0000:03:00.0: Firmware 'dahdi-fw-te133.bin' not available from userspace.
<6>[   13.0] wcte43x 0000:04:00.0: dahdi-fw-te435.bin is invalid. Please reinstall.
[Tue Mar  5 10:00:02 2024] wct4xxp 0000:06:00.0: firmware dahdi-fw-te820.bin not available from userspace
wcaxx 0000:07:00.0: Direct firmware load for dahdi-fw-a8b.bin failed with error -2
wctdm24xxp 0000:08:00.0: Failed to load firmware from userspace, skipping check. (-2)
wcte12xp 0000:09:00.0: vpmoct: Failed to load firmware from userspace! -2
iwlwifi 0000:00:14.3: Direct firmware load for iwlwifi-so-a0-gf-a0-86.ucode failed with error -2
wct4xxp 0000:06:00.0: dahdi-fw-oct6114-256.bin looks odd today
";
        let log = parse(text);
        let got: Vec<(&str, Option<&str>, &str, Complaint)> = log
            .lines
            .iter()
            .map(|l| {
                (
                    l.driver.as_str(),
                    l.device.as_deref(),
                    l.file.as_str(),
                    l.complaint,
                )
            })
            .collect();
        use Complaint::*;
        assert_eq!(
            got,
            vec![
                (
                    "wcte43x",
                    Some("0000:02:00.0"),
                    "dahdi-fw-oct6114-064.bin",
                    Missing
                ),
                (
                    "wctc4xxp",
                    Some("0000:05:00.0"),
                    "dahdi-fw-tc400m.bin",
                    Missing
                ),
                (
                    "wcte13xp",
                    Some("0000:03:00.0"),
                    "dahdi-fw-te133.bin",
                    Missing
                ),
                (
                    "wcte43x",
                    Some("0000:04:00.0"),
                    "dahdi-fw-te435.bin",
                    Invalid
                ),
                (
                    "wct4xxp",
                    Some("0000:06:00.0"),
                    "dahdi-fw-te820.bin",
                    Missing
                ),
                ("wcaxx", Some("0000:07:00.0"), "dahdi-fw-a8b.bin", Missing),
                (
                    "wctdm24xxp",
                    Some("0000:08:00.0"),
                    "dahdi-fw-hx8.bin",
                    Missing
                ),
                (
                    "wcte12xp",
                    Some("0000:09:00.0"),
                    "dahdi-fw-vpmoct032.bin",
                    Missing
                ),
            ]
        );
        assert_eq!(
            log.unread,
            vec!["wct4xxp 0000:06:00.0: dahdi-fw-oct6114-256.bin looks odd today"]
        );
        assert_eq!(
            log.lines[0].line,
            "wcte43x 0000:02:00.0: VPM450: firmware dahdi-fw-oct6114-064.bin not available from userspace"
        );
    }

    #[test]
    fn a_name_that_is_not_a_plain_firmware_file_is_not_taken() {
        let log = parse(
            "wcte43x 0000:02:00.0: VPM450: firmware ../../etc/dahdi-fw-x.bin not available from userspace\n\
             wcte43x 0000:02:00.0: VPM450: firmware dahdi-fw-oct6114-064.bin not available from userspace, really\n",
        );
        assert!(log.lines.is_empty(), "{log:?}");
        assert_eq!(log.unread.len(), 2);
    }

    #[test]
    fn the_same_complaint_twice_is_one_line() {
        let line = "wcte43x 0000:02:00.0: VPM450: firmware dahdi-fw-oct6114-064.bin not available from userspace\n";
        assert_eq!(parse(&line.repeat(3)).lines.len(), 1);
    }
}
