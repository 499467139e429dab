//! What firmware the box needs: what the cards present ask for (the card
//! catalog names each card's own firmware and its echo canceller's), and
//! what drivers reported missing in the kernel log.

use appliance::firmware::{Need, NeedReason, NeededReport};

use super::kernlog::{self, Complaint};
use super::present::FirmwarePresence;
use crate::detect::Inventory;

/// Whether the configuration in force turns the hardware echo canceller on,
/// which makes every canceller's firmware required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wanted {
    pub hardware_echo_canceller: bool,
}

/// The needs of the cards in `inventory` and of the lines in `kernel_log`.
pub fn needed(
    inventory: &Inventory,
    present: &FirmwarePresence,
    kernel_log: &str,
    wanted: Wanted,
) -> NeededReport {
    let mut needs: Vec<Need> = Vec::new();
    let mut add = |file: &str, reason: NeedReason, required: bool| match needs
        .iter_mut()
        .find(|n| n.file == file)
    {
        Some(n) => {
            n.required |= required;
            if !n.reasons.contains(&reason) {
                n.reasons.push(reason);
            }
        }
        None => needs.push(Need {
            file: file.to_owned(),
            package: present.package_for(file).map(str::to_owned),
            present: present.has(file),
            required,
            reasons: vec![reason],
        }),
    };
    for card in &inventory.cards {
        let crate::detect::Bus::Pci(pci) = &card.bus else {
            continue;
        };
        let reason = |part: &str, optional: bool| NeedReason::Card {
            location: card.location(),
            card: card.description().to_owned(),
            driver: card.driver().name().to_owned(),
            part: part.to_owned(),
            optional,
        };
        for file in pci.entry.firmware {
            add(file, reason("card firmware", false), true);
        }
        if let Some(ec) = card.echo_canceller() {
            if let Some(file) = ec.firmware {
                let required = ec.required || wanted.hardware_echo_canceller;
                add(file, reason(ec.name, !required), required);
            }
        }
    }
    let log = kernlog::parse(kernel_log);
    for line in &log.lines {
        let reason = NeedReason::KernelLog {
            driver: line.driver.clone(),
            device: line.device.clone(),
            line: line.line.clone(),
        };
        add(&line.file, reason, true);
    }
    // A file the driver found broken is not usable, whatever is on disk.
    for line in log
        .lines
        .iter()
        .filter(|l| l.complaint == Complaint::Invalid)
    {
        if let Some(n) = needs.iter_mut().find(|n| n.file == line.file) {
            n.present = false;
        }
    }
    needs.sort_by(|a, b| b.required.cmp(&a.required).then(a.file.cmp(&b.file)));
    let mut commands: Vec<String> = Vec::new();
    for package in needs
        .iter()
        .filter(|n| n.required && !n.present)
        .filter_map(|n| n.package.as_deref())
    {
        let command = format!("appliance firmware install {package}");
        if !commands.contains(&command) {
            commands.push(command);
        }
    }
    NeededReport {
        needs,
        commands,
        unread_lines: log.unread,
    }
}
