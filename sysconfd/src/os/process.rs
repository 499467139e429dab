//! One-shot programs whose output sysconfd reads: the daemons' own checks
//! (`kea-dhcp4 -t`, `chronyd -p`) and `chronyc`.

use std::ffi::OsStr;
use std::io;
use std::process::{Command, Output};

/// Runs `program` with `args` and `env` added, waits, and returns what it printed.
pub fn output<A, K, V>(program: &str, args: A, env: &[(K, V)]) -> io::Result<Output>
where
    A: IntoIterator,
    A::Item: AsRef<OsStr>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let mut cmd = Command::new(program);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output()
}
