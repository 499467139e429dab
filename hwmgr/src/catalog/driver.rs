//! DAHDI kernel drivers and what each one lets an admin set.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::CatalogError;

macro_rules! drivers {
    ($($variant:ident => $name:literal,)*) => {
        /// A kernel driver (module) that binds telephony hardware.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Driver { $($variant,)* }

        impl Driver {
            /// Every driver dahdi-tools knows.
            pub const ALL: &'static [Driver] = &[$(Driver::$variant,)*];

            /// The module name, as in `/etc/dahdi/modules`.
            pub fn name(self) -> &'static str {
                match self { $(Driver::$variant => $name,)* }
            }
        }
    };
}

drivers! {
    Wct4xxp => "wct4xxp",
    Wctdm24xxp => "wctdm24xxp",
    Pciradio => "pciradio",
    Wcfxo => "wcfxo",
    Wct1xxp => "wct1xxp",
    Wctdm => "wctdm",
    Wcte11xp => "wcte11xp",
    Wcte12xp => "wcte12xp",
    Wcte13xp => "wcte13xp",
    Wcaxx => "wcaxx",
    Wcte43x => "wcte43x",
    Wcb4xxp => "wcb4xxp",
    Tor2 => "tor2",
    Wctc4xxp => "wctc4xxp",
    Qozap => "qozap",
    Cwain => "cwain",
    Zaphfc => "zaphfc",
    Ztgsm => "ztgsm",
    R1t1 => "r1t1",
    R4fxo => "r4fxo",
    Rcbfx => "rcbfx",
    Rxt1 => "rxt1",
    Wanpipe => "wanpipe",
    Ystdm8xx => "ystdm8xx",
    Opvxa1200 => "opvxa1200",
    Ap400 => "ap400",
    Wcusb => "wcusb",
    Wcusb2 => "wcusb2",
    WcUsbPhone => "wc_usb_phone",
    XppUsb => "xpp_usb",
}

/// A module parameter telbox may write to `/etc/modprobe.d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModuleParam {
    /// `default_linemode=e1|t1|j1` (wct4xxp, wcte12xp, wcte13xp, wcte43x).
    DefaultLinemode,
    /// `vpmsupport=1`: the hardware echo canceller on (with `echo_canceller = "hardware"`).
    VpmSupport,
    /// `vpmdtmfsupport=1`: DTMF detection by the hardware echo canceller.
    VpmDtmfSupport,
    /// `timingcable=1`: cards share a sync cable.
    TimingCable,
    /// `persistentlayer1=0|1` (wcb4xxp BRI).
    PersistentLayer1,
    /// `opermode=<COUNTRY>` for FXO ports.
    Opermode,
    /// `fastringer=1` (25 Hz ring) for FXS ports.
    FastRinger,
    /// `boostringer=1` (89 V peak) for FXS ports.
    BoostRinger,
    /// `mode=g729|g723|any` (wctc4xxp).
    TranscoderMode,
}

impl ModuleParam {
    /// The parameter's name on the `options` line.
    pub fn name(self) -> &'static str {
        match self {
            ModuleParam::DefaultLinemode => "default_linemode",
            ModuleParam::VpmSupport => "vpmsupport",
            ModuleParam::VpmDtmfSupport => "vpmdtmfsupport",
            ModuleParam::TimingCable => "timingcable",
            ModuleParam::PersistentLayer1 => "persistentlayer1",
            ModuleParam::Opermode => "opermode",
            ModuleParam::FastRinger => "fastringer",
            ModuleParam::BoostRinger => "boostringer",
            ModuleParam::TranscoderMode => "mode",
        }
    }
}

impl Driver {
    /// Looks a driver up by module name.
    pub fn from_name(name: &str) -> Option<Driver> {
        Self::ALL.iter().copied().find(|d| d.name() == name)
    }

    /// Whether the driver accepts `local:E1|T1|J1` writes to a device's
    /// `spantype` attribute (what `dahdi_span_types set` does).
    pub fn supports_spantype_write(self) -> bool {
        matches!(
            self,
            Driver::Wct4xxp | Driver::Wcte12xp | Driver::Wcte13xp | Driver::Wcte43x
        )
    }

    /// Whether upstream dahdi-linux 3.x still ships this driver; Debian's
    /// 2.11 snapshot ships all Digium ones.
    pub fn in_upstream_kernel(self) -> bool {
        matches!(
            self,
            Driver::Wct4xxp
                | Driver::Wctdm24xxp
                | Driver::Wcfxo
                | Driver::Wct1xxp
                | Driver::Wctdm
                | Driver::Wcte11xp
                | Driver::Wcte12xp
                | Driver::Wcte13xp
                | Driver::Wcaxx
                | Driver::Wcte43x
                | Driver::Wcb4xxp
                | Driver::Wctc4xxp
                | Driver::XppUsb
        )
    }

    /// The module parameters of this driver that telbox manages.
    pub fn params(self) -> &'static [ModuleParam] {
        use ModuleParam::*;
        match self {
            Driver::Wct4xxp => &[DefaultLinemode, VpmSupport, VpmDtmfSupport, TimingCable],
            Driver::Wcte12xp => &[DefaultLinemode, VpmSupport],
            Driver::Wcte13xp => &[DefaultLinemode, VpmSupport],
            Driver::Wcte43x => &[DefaultLinemode, VpmSupport, TimingCable],
            Driver::Wcb4xxp => &[PersistentLayer1, VpmSupport],
            Driver::Wctdm24xxp => &[Opermode, FastRinger, BoostRinger, VpmSupport, TimingCable],
            Driver::Wcaxx => &[Opermode, FastRinger, BoostRinger, VpmSupport],
            Driver::Wctdm => &[Opermode, FastRinger, BoostRinger],
            Driver::Wctc4xxp => &[TranscoderMode],
            _ => &[],
        }
    }

    pub fn accepts(self, param: ModuleParam) -> bool {
        self.params().contains(&param)
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Driver {
    type Err = CatalogError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Driver::from_name(s).ok_or_else(|| CatalogError::UnknownDriver(s.to_owned()))
    }
}

impl Serialize for Driver {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in Driver::ALL {
            assert_eq!(d.name().parse::<Driver>().unwrap(), *d);
        }
        assert!("wct5xxp".parse::<Driver>().is_err());
    }

    #[test]
    fn line_mode_option_only_on_digital_drivers() {
        assert!(Driver::Wcte43x.accepts(ModuleParam::DefaultLinemode));
        assert!(!Driver::Wcb4xxp.accepts(ModuleParam::DefaultLinemode));
    }
}
