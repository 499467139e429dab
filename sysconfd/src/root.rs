//! The root prefix every system path goes through: `/` in production, a
//! scratch directory in tests and the demo. One type for the whole
//! workspace: hwmgr's, which reads sysfs and /proc under the same prefix.

pub use hwmgr::Root;
