//! D-Bus errors sysconfd returns, named under `org.telbox.Sysconfd1.Error`.

use zbus::DBusError;

use crate::engine::EngineError;

#[derive(Debug, DBusError)]
#[zbus(prefix = "org.telbox.Sysconfd1.Error")]
pub enum BusError {
    #[zbus(error)]
    ZBus(zbus::Error),
    /// The caller is neither root nor in the telbox-admin group.
    AccessDenied(String),
    /// The configuration does not validate; the message lists every problem.
    Invalid(String),
    /// The caller's base generation is not the one in force.
    StaleBase(String),
    /// Confirm for a generation that is not pending, or apply while one is.
    NotPending(String),
    /// The first-boot wizard was already completed.
    AlreadyCompleted(String),
    /// Applying failed; the previous generation is in force.
    ApplyFailed(String),
    /// The input or the answer is over a documented limit; the message names it.
    TooLarge(String),
    /// A firmware install, remove or upgrade was refused or failed; the
    /// message says why, and what (if anything) was changed.
    Firmware(String),
    /// An HA request this box cannot serve (it is not part of a pair).
    Ha(String),
}

/// Largest reply sysconfd sends, in bytes: far below the bus's own limit
/// (32 MiB on the system bus), which would cost sysconfd its connection.
pub const MAX_REPLY_BYTES: usize = 4 * 1024 * 1024;

/// `reply` if it is within [`MAX_REPLY_BYTES`], else `TooLarge`.
pub fn bounded(reply: String) -> Result<String, BusError> {
    if reply.len() > MAX_REPLY_BYTES {
        return Err(BusError::TooLarge(format!(
            "the answer would be {} bytes; the limit is {MAX_REPLY_BYTES} bytes",
            reply.len()
        )));
    }
    Ok(reply)
}

impl From<appliance::config::TooLarge> for BusError {
    fn from(e: appliance::config::TooLarge) -> Self {
        BusError::TooLarge(e.to_string())
    }
}

impl From<EngineError> for BusError {
    fn from(e: EngineError) -> Self {
        let msg = e.to_string();
        match e {
            EngineError::Invalid(report) => match report.too_large {
                Some(big) => big.into(),
                None => BusError::Invalid(msg),
            },
            EngineError::StaleBase { .. } => BusError::StaleBase(msg),
            EngineError::NotPending(_)
            | EngineError::AwaitingConfirm(_)
            | EngineError::NotTheWizards(_) => BusError::NotPending(msg),
            EngineError::WizardCompleted => BusError::AlreadyCompleted(msg),
            _ => BusError::ApplyFailed(msg),
        }
    }
}

impl From<zbus::fdo::Error> for BusError {
    fn from(e: zbus::fdo::Error) -> Self {
        BusError::ZBus(zbus::Error::FDO(Box::new(e)))
    }
}
