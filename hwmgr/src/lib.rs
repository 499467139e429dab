//! Telephony hardware knowledge for telbox: DAHDI cards, spans and the
//! files that `dahdi_cfg`, Asterisk's chan_dahdi and modprobe read.
//!
//! * [`catalog`]: every PCI/USB id dahdi-tools knows, with driver, span
//!   layout, echo canceller and firmware facts.
//! * [`detect`]: what is plugged in, read from sysfs and `/proc/dahdi`
//!   under a [`Root`].
//! * [`status`]: span alarms, counters and channels.
//! * [`render`]: the DAHDI, Asterisk and modprobe files for a `[telephony]`
//!   config on the detected hardware, and the steps that apply them.
//! * [`propose`]: a `[telephony]` config for the detected hardware.
//! * [`firmware`]: the firmware packages the cards need, and installing,
//!   removing and upgrading them in `/lib/firmware`.

pub mod bnfos;
pub mod catalog;
pub mod detect;
pub mod firmware;
pub mod propose;
pub mod render;
pub mod root;
pub mod status;
mod sysfs;

pub use root::Root;
