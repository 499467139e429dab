//! The hardware echo-canceller modules of Digium cards and their firmware.

use super::kinds::EchoCanceller;

const fn octasic(name: &'static str, firmware: &'static str, required: bool) -> EchoCanceller {
    EchoCanceller {
        name,
        firmware: Some(firmware),
        loader_module: None,
        required,
    }
}

/// VPMOCT032 on the A4/A8 analog cards (wcaxx).
pub const VPMOCT032: EchoCanceller = octasic("VPMOCT032", "dahdi-fw-oct6114-032.bin", false);
/// VPMOCT032 on TE13x, which do not work properly without it.
pub const VPMOCT032_REQUIRED: EchoCanceller =
    octasic("VPMOCT032", "dahdi-fw-oct6114-032.bin", true);
/// VPMOCT032 module of the voicebus cards (TDM/AEX analog, TE12x): flashed
/// from its own image by `voicebus/vpmoct.c`.
pub const VPMOCT032_ANALOG: EchoCanceller = octasic("VPMOCT032", "dahdi-fw-vpmoct032.bin", false);
/// VPM450M with 64 channels (two-span cards).
pub const VPMOCT064: EchoCanceller = octasic("VPMOCT064", "dahdi-fw-oct6114-064.bin", false);
/// VPM450M with 128 channels (four-span cards).
pub const VPMOCT128: EchoCanceller = octasic("VPMOCT128", "dahdi-fw-oct6114-128.bin", false);
/// VPM450M with 256 channels (TE820).
pub const VPMOCT256: EchoCanceller = octasic("VPMOCT256", "dahdi-fw-oct6114-256.bin", false);
/// VPMOCT064 on TE235/TE236, required.
pub const VPMOCT064_REQUIRED: EchoCanceller =
    octasic("VPMOCT064", "dahdi-fw-oct6114-064.bin", true);
/// VPMOCT128 on TE435/TE436, required.
pub const VPMOCT128_REQUIRED: EchoCanceller =
    octasic("VPMOCT128", "dahdi-fw-oct6114-128.bin", true);
/// VPMADT032: driven by a closed binary module, no firmware file.
pub const VPMADT032: EchoCanceller = EchoCanceller {
    name: "VPMADT032",
    firmware: None,
    loader_module: Some("dahdi_vpmadt032_loader"),
    required: false,
};
/// The B410P's on-board Zarlink canceller: nothing to load.
pub const LASVEGAS2: EchoCanceller = EchoCanceller {
    name: "LASVEGAS2",
    firmware: None,
    loader_module: None,
    required: false,
};
