//! The telbox contract: the `appliance.toml` model and its validation, the
//! D-Bus names sysconfd answers on, and the types both sides exchange.
pub mod config;
pub mod dbus;
pub mod reference;
