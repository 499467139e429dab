//! Refusing, at plan time, a configuration whose cards would not work for
//! want of firmware: the card's own firmware (FPGA, DSP), and the echo
//! canceller's when `echo_canceller = "hardware"`.

use std::fmt;

use appliance::config::telephony::{EchoCanceller, Telephony};

use super::layout::Layout;
use crate::firmware::FirmwarePresence;

/// One firmware file a configured card needs and `/lib/firmware` lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingFirmware {
    /// `pci:0000:02:00.0`.
    pub card: String,
    pub description: String,
    pub file: String,
    /// What needs it: `its own firmware`, or `echo_canceller = "hardware" (VPMOCT128)`.
    pub purpose: String,
    /// The catalog package providing it.
    pub package: Option<String>,
}

impl fmt::Display for MissingFirmware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "card {} ({}) needs {} for {}, and /lib/firmware has none: ",
            self.card, self.description, self.file, self.purpose
        )?;
        match &self.package {
            Some(p) => write!(
                f,
                "install package {p} first (`appliance firmware install {p}`)"
            ),
            None => write!(
                f,
                "no catalog package provides it; copy it into /lib/firmware"
            ),
        }
    }
}

/// Every firmware file the configured, present cards need and lack.
pub fn missing(
    tel: &Telephony,
    layout: &Layout<'_>,
    firmware: &FirmwarePresence,
) -> Vec<MissingFirmware> {
    let mut out = Vec::new();
    for placed in &layout.cards {
        let card = placed.detected;
        let mut need = |file: &str, purpose: String| {
            if !firmware.has(file) {
                out.push(MissingFirmware {
                    card: card.location(),
                    description: card.description().to_owned(),
                    file: file.to_owned(),
                    purpose,
                    package: firmware.package_for(file).map(str::to_owned),
                });
            }
        };
        if let crate::detect::Bus::Pci(pci) = &card.bus {
            for file in pci.entry.firmware {
                need(file, format!("its own firmware (driver {})", card.driver()));
            }
        }
        if tel.echo_canceller == EchoCanceller::Hardware {
            if let Some(ec) = card.echo_canceller() {
                if let Some(file) = ec.firmware {
                    need(
                        file,
                        format!("echo_canceller = \"hardware\" (its {})", ec.name),
                    );
                }
            }
        }
    }
    out
}
