//! What every telbox binary does first thing in `main`: write its man pages
//! and completions when asked ([`docs`]), and let a closed pipe end it
//! quietly ([`quiet_on_closed_pipe`]).
pub mod docs;

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
