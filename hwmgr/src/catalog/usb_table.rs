//! The USB id table of dahdi-tools (`Dahdi::Hardware::USB`).

use super::driver::Driver::{self, *};
use super::ids::UsbId;

/// One row of the USB table; USB matches on the exact `vendor:product`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct UsbEntry {
    pub id: UsbId,
    pub driver: Driver,
    pub description: &'static str,
    /// An Xorcom Astribank, whose product id's last digit is the firmware
    /// stage (0 none, 1 USB, 2 FPGA loaded).
    pub astribank: bool,
}

const fn u(vendor: u16, product: u16, driver: Driver, description: &'static str) -> UsbEntry {
    UsbEntry {
        id: UsbId::new(vendor, product),
        driver,
        description,
        astribank: false,
    }
}

const fn xpp(product: u16, description: &'static str) -> UsbEntry {
    UsbEntry {
        id: UsbId::new(0xe4e4, product),
        driver: XppUsb,
        description,
        astribank: true,
    }
}

/// Every USB id dahdi-tools 3.1 recognises.
pub static USB_TABLE: &[UsbEntry] = &[
    u(0x06e6, 0x831c, Wcusb, "Wildcard S100U USB FXS Interface"),
    u(0x06e6, 0x831e, Wcusb2, "Wildcard S110U USB FXS Interface"),
    u(0x06e6, 0xb210, WcUsbPhone, "Wildcard Phone Test driver"),
    xpp(0x1130, "Astribank-8/16 no-firmware"),
    xpp(0x1131, "Astribank-8/16 USB-firmware"),
    xpp(0x1132, "Astribank-8/16 FPGA-firmware"),
    xpp(0x1140, "Astribank-BRI no-firmware"),
    xpp(0x1141, "Astribank-BRI USB-firmware"),
    xpp(0x1142, "Astribank-BRI FPGA-firmware"),
    xpp(0x1150, "Astribank-multi no-firmware"),
    xpp(0x1151, "Astribank-multi USB-firmware"),
    xpp(0x1152, "Astribank-multi FPGA-firmware"),
    xpp(0x1160, "Astribank-modular no-firmware"),
    xpp(0x1161, "Astribank-modular USB-firmware"),
    xpp(0x1162, "Astribank-modular FPGA-firmware"),
    xpp(0x1163, "Astribank-TwinStar monitor"),
    xpp(0x1164, "Astribank-EEPROM burner"),
    u(0x10c4, 0x8461, Wanpipe, "Sangoma WANPIPE USB-FXO Device"),
];
