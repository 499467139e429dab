//! Builds the sysfs and procfs trees DAHDI drivers create, under a root
//! directory, for a list of cards — the trees `hwmgr` detection reads and
//! that dahdi-tools read through `DAHDI_VIRT_TOP`.
//!
//! ```text
//! dahdi-fixture --root DIR te420 te435:e1 b410p:te,te,nt,nt tdm2400:fxs*8,fxo*4 tc400
//! dahdi-fixture --root DIR mixed
//! ```
//!
//! Card spec: `MODEL[:OPTION,...]`. Models: te420, te205p, te435, te133,
//! b410p, tdm2400, tdm410p, tc400. Options: `e1`/`t1`/`j1` (line mode), `te`/`nt`
//! (BRI port roles in order), `fxs*N`/`fxo*N`/`empty*N` (analog modules in
//! order, the rest empty), `red`/`yellow`/`blue` (alarm on every span),
//! `bus=N` (PCI bus, so removing another card moves nothing),
//! `at=SPAN:CHAN` (first span and channel number), `unassigned`,
//! `unbound` (no driver loaded), `hwid=TEXT`.
//! Presets: `mixed` (te420, b410p, tdm2400, tc400).

mod model;
mod spec;
mod stubs;
mod writer;

use std::path::{Path, PathBuf};

pub use model::{linecompat, BriRole, Model, Port};
pub use spec::{Assign, CardSpec};
pub use writer::{LaidCard, LaidSpan, Layout};

/// Errors building a fixture.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("unknown card model {0:?} (known: te420, te205p, te435, te133, b410p, tdm2400, tdm410p, tc400, mixed)")]
    UnknownModel(String),
    #[error("card {card:?}: bad option {option:?}")]
    BadOption { card: String, option: String },
    #[error("card {card:?}: {why}")]
    Invalid { card: String, why: String },
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Which name the device attribute listing span types has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpanTypeAttr {
    /// `dahdi_spantype` (+ `dahdi_registration_time`): Debian's 2.11 and
    /// DAHDI 3.0–3.4 on kernels ≥ 4.13.
    #[default]
    Prefixed,
    /// `spantype` (+ `registration_time`): older kernels and dahdi-linux master.
    Plain,
}

/// A box: cards in PCI order plus how the kernel names attributes.
#[derive(Debug, Clone, Default)]
pub struct Fixture {
    pub cards: Vec<CardSpec>,
    pub spantype_attr: SpanTypeAttr,
    /// Add an ordinary NIC that detection must ignore.
    pub with_nic: bool,
}

impl Fixture {
    /// Parses card specs and presets (see the module doc).
    pub fn parse<S: AsRef<str>>(specs: &[S]) -> Result<Fixture, FixtureError> {
        let mut cards = Vec::new();
        for s in specs {
            match s.as_ref() {
                "mixed" => cards.extend(Self::mixed().cards),
                one => cards.push(one.parse()?),
            }
        }
        Ok(Fixture {
            cards,
            with_nic: true,
            ..Fixture::default()
        })
    }

    /// A TE420 with four E1 spans.
    pub fn te420() -> Fixture {
        Self::parse(&["te420"]).expect("preset")
    }

    /// A TE435 whose T1 default was changed to E1.
    pub fn te435_e1() -> Fixture {
        Self::parse(&["te435:e1"]).expect("preset")
    }

    /// A B410P with two TE and two NT ports.
    pub fn b410p() -> Fixture {
        Self::parse(&["b410p:te,te,nt,nt"]).expect("preset")
    }

    /// A TDM2400 with 8 FXS and 4 FXO ports, the rest empty.
    pub fn tdm2400() -> Fixture {
        Self::parse(&["tdm2400:fxs*8,fxo*4"]).expect("preset")
    }

    /// A TC400 transcoder alone.
    pub fn tc400() -> Fixture {
        Self::parse(&["tc400"]).expect("preset")
    }

    /// A mixed box: TE420, B410P, TDM2400 and TC400.
    pub fn mixed() -> Fixture {
        Self::parse(&["te420", "b410p:te,te,nt,nt", "tdm2400:fxs*8,fxo*4", "tc400"])
            .expect("preset")
    }

    /// Writes the tree under `root` (which should be empty) and returns
    /// what was laid out.
    pub fn build(&self, root: &Path) -> Result<Layout, FixtureError> {
        writer::build(self, root)
    }
}
