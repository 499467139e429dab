//! chrony's view of time: `chronyc -n -c sources` and `tracking`, parsed
//! from chronyc's CSV mode.

use std::path::Path;

use serde::Serialize;

use super::NtpError;

/// Sources and sync state, for `appliance ntp status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NtpStatus {
    pub tracking: Tracking,
    pub sources: Vec<Source>,
}

impl NtpStatus {
    /// The source chronyd synchronises to, if any.
    pub fn selected(&self) -> Option<&Source> {
        self.sources
            .iter()
            .find(|s| s.state == SourceState::Selected)
    }
}

/// The clock's sync state (`chronyc tracking`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tracking {
    /// Reference id in hex; `7F7F0101` is the local clock.
    pub reference_id: String,
    /// Address of the reference, empty for the local clock.
    pub reference: String,
    pub stratum: u8,
    /// System clock minus true time, in seconds.
    pub system_offset: f64,
    pub last_offset: f64,
    pub rms_offset: f64,
    pub frequency_ppm: f64,
    pub root_delay: f64,
    pub root_dispersion: f64,
    /// `Normal`, `Insert second`, `Delete second` or `Not synchronised`.
    pub leap_status: String,
    pub synchronized: bool,
}

/// How chronyd talks to a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceMode {
    Server,
    Peer,
    Refclock,
}

/// What chronyd makes of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    /// `*`: the source the clock follows.
    Selected,
    /// `+`: combined with the selected one.
    Combined,
    /// `-`: acceptable but left out.
    NotCombined,
    /// `?`: unreachable or too few samples.
    Unusable,
    /// `x`: disagrees with the others.
    Falseticker,
    /// `~`: too variable.
    TooVariable,
}

/// One time source (`chronyc sources`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub mode: SourceMode,
    pub state: SourceState,
    pub address: String,
    pub stratum: u8,
    /// Polling interval as a power of two, in seconds.
    pub poll: i8,
    /// Reachability register of the last eight polls.
    pub reach: u8,
    /// Seconds since the last sample; `None` before the first one.
    pub last_rx: Option<u64>,
    /// Offset of the last sample, in seconds.
    pub offset: f64,
    /// Error bound of that sample, in seconds.
    pub error: f64,
}

/// Asks the chronyd behind `socket` for its tracking state and sources.
pub fn status(socket: &Path) -> Result<NtpStatus, NtpError> {
    let tracking = parse_tracking(&chronyc(socket, "tracking")?)?;
    let sources = parse_sources(&chronyc(socket, "sources")?)?;
    Ok(NtpStatus { tracking, sources })
}

fn chronyc(socket: &Path, command: &'static str) -> Result<String, NtpError> {
    let args = [
        std::ffi::OsStr::new("-h"),
        socket.as_os_str(),
        "-n".as_ref(),
        "-c".as_ref(),
        command.as_ref(),
    ];
    let out = crate::os::process::output("chronyc", args, &[] as &[(&str, &str)]).map_err(|e| {
        NtpError::Run {
            program: "chronyc",
            source: e,
        }
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() && !stdout.contains("Could not open connection") {
        Ok(stdout)
    } else {
        let message = format!(
            "{}{}",
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Err(NtpError::Chronyc { command, message })
    }
}

/// chronyc's "last sample" for a source never heard from.
const NEVER: u64 = u32::MAX as u64;

fn num<T: std::str::FromStr>(fields: &[&str], i: usize, line: &str) -> Result<T, NtpError> {
    fields
        .get(i)
        .and_then(|f| f.trim().parse().ok())
        .ok_or_else(|| NtpError::Parse(format!("field {i} of `{line}`")))
}

/// Parses `chronyc -c tracking`.
pub fn parse_tracking(text: &str) -> Result<Tracking, NtpError> {
    let line = text.lines().next().unwrap_or("").trim();
    let f: Vec<&str> = line.split(',').collect();
    if f.len() < 14 {
        return Err(NtpError::Parse(format!("tracking: `{line}`")));
    }
    let leap_status = f[13].to_owned();
    Ok(Tracking {
        reference_id: f[0].to_owned(),
        reference: f[1].to_owned(),
        stratum: num(&f, 2, line)?,
        system_offset: num(&f, 4, line)?,
        last_offset: num(&f, 5, line)?,
        rms_offset: num(&f, 6, line)?,
        frequency_ppm: num(&f, 7, line)?,
        root_delay: num(&f, 10, line)?,
        root_dispersion: num(&f, 11, line)?,
        synchronized: leap_status != "Not synchronised" && f[0] != "00000000",
        leap_status,
    })
}

/// Parses `chronyc -c sources`.
pub fn parse_sources(text: &str) -> Result<Vec<Source>, NtpError> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(parse_source)
        .collect()
}

fn parse_source(line: &str) -> Result<Source, NtpError> {
    let f: Vec<&str> = line.split(',').collect();
    if f.len() < 10 {
        return Err(NtpError::Parse(format!("source: `{line}`")));
    }
    let mode = match f[0] {
        "^" => SourceMode::Server,
        "=" => SourceMode::Peer,
        "#" => SourceMode::Refclock,
        other => return Err(NtpError::Parse(format!("source mode `{other}`"))),
    };
    let state = match f[1] {
        "*" => SourceState::Selected,
        "+" => SourceState::Combined,
        "-" => SourceState::NotCombined,
        "?" => SourceState::Unusable,
        "x" => SourceState::Falseticker,
        "~" => SourceState::TooVariable,
        other => return Err(NtpError::Parse(format!("source state `{other}`"))),
    };
    let reach = u8::from_str_radix(f[5].trim(), 8)
        .map_err(|_| NtpError::Parse(format!("reach in `{line}`")))?;
    Ok(Source {
        mode,
        state,
        address: f[2].to_owned(),
        stratum: num(&f, 3, line)?,
        poll: num(&f, 4, line)?,
        reach,
        last_rx: Some(num::<u64>(&f, 6, line)?).filter(|&s| s != NEVER),
        offset: num(&f, 7, line)?,
        error: num(&f, 9, line)?,
    })
}
