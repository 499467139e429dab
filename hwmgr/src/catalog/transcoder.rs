//! What a TC400 transcoder can carry in each `mode` of its driver.

use appliance::config::telephony::TranscoderMode;
use serde::Serialize;

/// The transcoder's channels for one mode (wctc4xxp `mode`; the counts are
/// the firmware's, as Wazo documents them: 120 G.729a, 92 G.723.1 or 92 mixed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TranscoderCapacity {
    /// The `mode=` value the driver gets (`mixed` when none is configured:
    /// the driver's default, both codecs).
    pub mode: &'static str,
    pub channels: u32,
    /// `G.729a`, `G.723.1` or `G.729a and G.723.1`.
    pub codecs: &'static str,
}

/// The capacity in `mode` (`None`: the driver's default).
pub fn transcoder_capacity(mode: Option<TranscoderMode>) -> TranscoderCapacity {
    match mode {
        Some(TranscoderMode::G729) => TranscoderCapacity {
            mode: "g729",
            channels: 120,
            codecs: "G.729a",
        },
        Some(TranscoderMode::G723) => TranscoderCapacity {
            mode: "g723",
            channels: 92,
            codecs: "G.723.1",
        },
        Some(TranscoderMode::Mixed) | None => TranscoderCapacity {
            mode: "mixed",
            channels: 92,
            codecs: "G.729a and G.723.1",
        },
    }
}
