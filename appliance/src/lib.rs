//! The telbox contract: the `appliance.toml` model and its validation, the
//! D-Bus names sysconfd answers on, and the types both sides exchange.
pub mod config;
pub mod dbus;
pub mod docs;
pub mod firmware;
pub mod reference;
pub mod views;

/// Lets a closed pipe end the program quietly, as it ends `cat`
/// (`appliance … | head`): the default action of SIGPIPE, which the Rust
/// runtime otherwise ignores, turning the next write into a panic. Call it
/// first thing in `main`.
pub fn quiet_on_closed_pipe() {
    // SAFETY: restoring the default disposition of one signal, before any
    // other thread starts, has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
