//! DAHDI hardware detection and span status from a sysfs and `/proc/dahdi`
//! tree (see `telbox_fuzz::tree` for the input format), then what the
//! daemon does with the result: the span list, drivers, assignment keys,
//! channel ranges, the proposed `[telephony]` section and, when it
//! validates, its files rendered for that hardware and the firmware the
//! tree holds (which may refuse it: sysfs can contradict the catalog, and
//! firmware can be missing).
#![no_main]

use appliance::config::Check;
use hwmgr::firmware::{Catalog, FirmwarePresence};
use hwmgr::{detect, propose, render, status, Root};
use libfuzzer_sys::fuzz_target;
use telbox_fuzz::tree;

fuzz_target!(|data: &[u8]| {
    let entries = tree::entries(data);
    let dir = tree::fresh_root();
    tree::write(&dir, &entries);
    let root = Root::new(&dir);
    let inventory = detect::scan(&root);
    let spans = status::read_spans(&root);
    if let Ok(inventory) = &inventory {
        for span in inventory.spans() {
            let _ = span.channel_range();
        }
        let _ = inventory.drivers();
        for card in &inventory.cards {
            let _ = (card.location(), card.id(), card.description(), card.kind());
            let _ = (
                card.span_count(),
                card.echo_canceller(),
                card.assignment_key(),
            );
            let _ = card.span_types();
        }
        serde_json::to_string(inventory).expect("an inventory serializes");
        let spans = spans.as_deref().unwrap_or_default();
        let ports = propose::ports_from_status(inventory, spans);
        let proposed = propose::propose_with_ports(inventory, &ports);
        let mut check = Check::new();
        proposed.validate(&mut check);
        if check.is_empty() {
            let catalog = Catalog::builtin();
            if let Ok(firmware) = FirmwarePresence::observe(&root, &catalog) {
                let _ = render::render(&proposed, inventory, &firmware);
            }
        }
    }
    if let Ok(spans) = &spans {
        serde_json::to_string(spans).expect("span status serializes");
    }
});
