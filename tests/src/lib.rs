//! Harnesses and simulators for telbox's integration tests.
pub mod berofos_sim;
pub mod bins;
pub mod bus;
pub mod daemon;
pub mod dahdi_cfg;
pub mod dahdi_fixture;
pub mod dhcp_box;
pub mod dhcp_client;
pub mod firmware_bundle;
pub mod ha_pair;
pub mod netdiff;
pub mod netns;
pub mod wizard;
