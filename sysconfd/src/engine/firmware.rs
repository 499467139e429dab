//! The engine's view of the telephony firmware and the transcoder: what
//! the firmware interface and the status views need from the box.

use std::path::Path;

use appliance::config::{self, telephony::Telephony};
use appliance::views::TranscoderInfo;
use hwmgr::catalog::CardKind;

use super::{Engine, EngineError};

impl Engine {
    /// The directory standing for `/`.
    pub fn root_dir(&self) -> &Path {
        self.opts.root.dir()
    }

    /// The box's firmware: root, state directory and catalog.
    pub fn firmware(&self) -> Result<hwmgr::firmware::Firmware, EngineError> {
        hwmgr::firmware::Firmware::open(&hwmgr::Root::new(self.root_dir()), &self.opts.state_dir)
            .map_err(|e| EngineError::Refused(format!("firmware: {e}")))
    }

    /// The `[telephony]` section in force (empty before the first apply).
    fn telephony_in_force(&self) -> Telephony {
        self.current_config()
            .ok()
            .and_then(|text| config::load(&text, "current").ok())
            .map(|c| c.telephony)
            .unwrap_or_default()
    }

    /// What the configuration in force asks of the firmware.
    pub fn firmware_wanted(&self) -> hwmgr::firmware::Wanted {
        hwmgr::firmware::Wanted {
            hardware_echo_canceller: self.telephony_in_force().echo_canceller
                == config::telephony::EchoCanceller::Hardware,
        }
    }

    /// Every transcoder card found, with the channels its configured mode gives.
    pub fn transcoders(&self) -> Result<Vec<TranscoderInfo>, EngineError> {
        let inventory = self.hardware()?;
        let telephony = self.telephony_in_force();
        let present = self
            .firmware()
            .and_then(|fw| {
                fw.presence()
                    .map_err(|e| EngineError::Refused(format!("firmware: {e}")))
            })
            .ok();
        Ok(inventory
            .cards
            .iter()
            .filter(|c| matches!(c.kind(), Some(CardKind::Transcoder)))
            .map(|c| {
                let hardware_id = c.dahdi.as_ref().and_then(|d| d.hardware_id.clone());
                let configured = telephony.card.iter().any(|k| {
                    k.location.as_deref() == Some(c.location().as_str())
                        || (k.hardware_id.is_some() && k.hardware_id == hardware_id)
                });
                let firmware_installed = match (&c.bus, &present) {
                    (hwmgr::detect::Bus::Pci(p), Some(present)) => {
                        p.entry.firmware.iter().all(|f| present.has(f))
                    }
                    _ => false,
                };
                let capacity = hwmgr::catalog::transcoder_capacity(telephony.transcoder_mode);
                TranscoderInfo {
                    location: c.location(),
                    description: c.description().to_owned(),
                    configured,
                    mode: capacity.mode.to_owned(),
                    channels: capacity.channels,
                    codecs: capacity.codecs.to_owned(),
                    firmware_installed,
                }
            })
            .collect())
    }
}
