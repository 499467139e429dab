//! Span status: alarms, error counters and channels, read from
//! `/proc/dahdi/N` and `/sys/bus/dahdi_spans/devices/span-N`.

mod alarm;
mod proc;

use std::path::PathBuf;

use serde::Serialize;

pub use alarm::{Alarm, AlarmSet};
pub use proc::{parse as parse_proc_span, ChannelEchoCanceller, ChannelStatus, Counters, ProcSpan};

use crate::catalog::SpanType;
use crate::{sysfs, Root};

/// Errors reading span status.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("/proc/dahdi/{span} is empty")]
    Empty { span: u32 },
    #[error("/proc/dahdi/{span}: bad header ({why}): {line:?}")]
    BadHeader {
        span: u32,
        why: String,
        line: String,
    },
    #[error("/proc/dahdi/{span}: bad channel line {line:?}")]
    BadChannel { span: u32, line: String },
}

/// The overall condition of a span, as `dahdi show status` sums it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SpanState {
    /// No alarm and configured channels.
    Ok,
    /// No alarm, but no channel is configured yet.
    Unconfigured,
    /// At least one alarm.
    Alarm,
}

/// Everything known about a running span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpanStatus {
    pub number: u32,
    pub name: String,
    pub description: String,
    /// From sysfs; `None` on kernels without the span bus.
    pub span_type: Option<SpanType>,
    pub state: SpanState,
    /// Union of the proc words and the sysfs mask (which adds LOS/LFA/LMFA).
    pub alarms: AlarmSet,
    pub master: bool,
    pub clock_source: bool,
    pub lineconfig: Option<String>,
    pub counters: Counters,
    pub basechan: Option<u32>,
    pub channels: Vec<ChannelStatus>,
}

impl SpanStatus {
    fn new(
        proc_span: ProcSpan,
        span_type: Option<SpanType>,
        sys_alarms: AlarmSet,
        basechan: Option<u32>,
    ) -> Self {
        let alarms = proc_span.alarms.union(sys_alarms);
        let configured = proc_span.channels.iter().any(|c| c.signalling.is_some());
        let state = match (alarms.is_ok(), configured) {
            (false, _) => SpanState::Alarm,
            (true, true) => SpanState::Ok,
            (true, false) => SpanState::Unconfigured,
        };
        Self {
            number: proc_span.number,
            name: proc_span.name,
            description: proc_span.description,
            span_type,
            state,
            alarms,
            master: proc_span.master,
            clock_source: proc_span.clock_source,
            lineconfig: proc_span.lineconfig,
            counters: proc_span.counters,
            basechan: basechan.or_else(|| proc_span.channels.first().map(|c| c.number)),
            channels: proc_span.channels,
        }
    }
}

/// Reads the status of span `number`.
pub fn read_span(root: &Root, number: u32) -> Result<SpanStatus, StatusError> {
    let path = root.path(format!("/proc/dahdi/{number}"));
    let text = std::fs::read_to_string(&path).map_err(|source| StatusError::Io { path, source })?;
    let proc_span = proc::parse(number, &text)?;
    let dir = root.path(format!("/sys/bus/dahdi_spans/devices/span-{number}"));
    let span_type = sysfs::attr(&dir, "spantype").and_then(|t| t.parse().ok());
    let alarms = sysfs::attr(&dir, "alarms")
        .and_then(|a| AlarmSet::parse_sysfs(&a))
        .unwrap_or_default();
    let basechan = sysfs::attr_u32(&dir, "basechan");
    Ok(SpanStatus::new(proc_span, span_type, alarms, basechan))
}

/// The numbers of the assigned spans (`/proc/dahdi/<N>` files), ascending.
pub fn span_numbers(root: &Root) -> Result<Vec<u32>, StatusError> {
    let dir = root.path("/proc/dahdi");
    let entries = sysfs::entries(&dir).map_err(|source| StatusError::Io { path: dir, source })?;
    let mut numbers: Vec<u32> = entries
        .iter()
        .filter_map(|p| sysfs::file_name(p).parse().ok())
        .collect();
    numbers.sort_unstable();
    Ok(numbers)
}

/// Reads the status of every assigned span.
pub fn read_spans(root: &Root) -> Result<Vec<SpanStatus>, StatusError> {
    span_numbers(root)?
        .into_iter()
        .map(|n| read_span(root, n))
        .collect()
}
