//! sysconfd: makes the machine match `appliance.toml`.
//!
//! The engine (observe, plan, apply, verify, record) is plain data and
//! functions; the few modules that touch the OS are the edges: [`files`]
//! under a [`root::Root`], [`network`] over rtnetlink, [`services`].

pub mod bus;
pub mod dhcp;
pub mod engine;
pub mod files;
pub mod ha;
pub mod host;
pub mod logging;
pub mod network;
pub mod ntp;
pub mod replies;
pub mod root;
pub mod services;
pub mod store;
