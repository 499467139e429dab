//! DAHDI hardware detection and span status from a sysfs and `/proc/dahdi`
//! tree (see `telbox_fuzz::tree` for the input format), then what the
//! daemon does with the result: the span list, drivers, assignment keys,
//! channel ranges and the proposed `[telephony]` section.
#![no_main]

use hwmgr::{detect, propose, status, Root};
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
        let _ = propose::propose_with_ports(inventory, &ports);
    }
    if let Ok(spans) = &spans {
        serde_json::to_string(spans).expect("span status serializes");
    }
});
