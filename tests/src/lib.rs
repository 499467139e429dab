//! Harnesses and simulators for telbox's integration tests.
