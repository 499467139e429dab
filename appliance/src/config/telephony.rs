//! `[telephony]`: DAHDI cards, spans and analog ports.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::diag::Check;

/// Telephony hardware.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Telephony {}

impl Telephony {
    pub fn validate(&self, _cx: &mut Check) {}
}
