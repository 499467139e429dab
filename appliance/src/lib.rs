//! The telbox contract: the `appliance.toml` model and its validation, the
//! D-Bus names sysconfd answers on, and the types both sides exchange. No
//! transport and no command line live here: the proxies are
//! `telbox-client`'s, the `appliance` CLI is `appliance-cli`.
pub mod config;
pub mod dbus;
pub mod firmware;
pub mod ha;
pub mod reference;
pub mod views;
