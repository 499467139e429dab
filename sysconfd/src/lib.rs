//! sysconfd: makes the machine match `appliance.toml`.
//!
//! The engine (observe, plan, apply, verify, record) is plain data and
//! functions; everything that touches the machine sits behind one seam,
//! the [`os::Os`] trait, with the machine ([`os::RealOs`]) and a simulated
//! one ([`os::SimOs`]) behind it.

pub mod bus;
pub mod dhcp;
pub mod engine;
pub mod files;
pub mod ha;
pub mod host;
pub mod logging;
pub mod network;
pub mod ntp;
pub mod os;
pub mod replies;
pub mod root;
pub mod services;
pub mod store;
