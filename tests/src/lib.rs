//! Harnesses and simulators for telbox's integration tests.
pub mod berofos_sim;
pub mod bins;
pub mod bus;
pub mod daemon;
pub mod dahdi_fixture;
