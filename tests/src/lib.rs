//! Harnesses and simulators for telbox's integration tests.
pub mod berofos_sim;
pub mod dahdi_fixture;
