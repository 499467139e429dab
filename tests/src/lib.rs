//! Harnesses and simulators for telbox's integration tests.
pub mod berofos_sim;
