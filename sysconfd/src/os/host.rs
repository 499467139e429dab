//! The kernel host name, in the UTS namespace of the calling process.

use crate::host::HostError;

/// Sets the kernel host name (`sethostname(2)`).
pub fn set(name: &str) -> Result<(), HostError> {
    nix::unistd::sethostname(name).map_err(|source| HostError::Set {
        name: name.to_owned(),
        source,
    })
}

/// The kernel host name now.
pub fn get() -> Result<String, HostError> {
    let name = nix::unistd::gethostname().map_err(HostError::Get)?;
    Ok(name.to_string_lossy().into_owned())
}
