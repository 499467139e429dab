//! Lays out a DAHDI sysfs/procfs tree for the given cards under a root.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use telbox_tests::dahdi_fixture::{Fixture, SpanTypeAttr};

/// Build a fake DAHDI hardware tree (sysfs + /proc/dahdi) for tests, the demo
/// and the benchmarks.
///
/// The tree has the shape the drivers create: PCI devices with their ids and
/// bound driver, /sys/bus/dahdi_devices, /sys/bus/dahdi_spans and
/// /proc/dahdi/N. `hwmgr --root DIR` reads it, and so do dahdi-tools with
/// DAHDI_VIRT_TOP=DIR; for dahdi_genconf also put DIR/fixture-bin first in
/// PATH and set DAHDI_CFG=DIR/fixture-bin/dahdi_cfg.
///
/// CARD is MODEL[:OPTION,...]. Models: te420, te205p, te435, te133, b410p,
/// tdm2400, tdm410p, tc400; preset `mixed` = te420 b410p:te,te,nt,nt
/// tdm2400:fxs*8,fxo*4 tc400. Options: e1|t1|j1, te|nt (BRI ports in order),
/// fxs*N|fxo*N|empty*N (analog modules in order), red|yellow|blue,
/// bus=N, at=SPAN:CHAN, unassigned, unbound, hwid=TEXT.
#[derive(Parser)]
#[command(name = "dahdi-fixture", version, verbatim_doc_comment)]
struct Args {
    /// Directory to build the tree in (created if missing; should be empty).
    #[arg(long)]
    root: PathBuf,
    /// Name the device's span type attribute `spantype` (older kernels and
    /// dahdi-linux master) instead of `dahdi_spantype`.
    #[arg(long)]
    plain_spantype: bool,
    /// Cards, in PCI order.
    #[arg(required = true, value_name = "CARD")]
    cards: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut fixture = Fixture::parse(&args.cards)?;
    if args.plain_spantype {
        fixture.spantype_attr = SpanTypeAttr::Plain;
    }
    let layout = fixture
        .build(&args.root)
        .with_context(|| format!("building {}", args.root.display()))?;
    for card in &layout.cards {
        println!(
            "pci:{} {:?} spans={}",
            card.pci_address,
            card.model,
            card.spans.len()
        );
    }
    Ok(())
}
