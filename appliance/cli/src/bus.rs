//! Talking to sysconfd over the system bus (`DBUS_SYSTEM_BUS_ADDRESS` is honoured).

use std::process::ExitCode;

use telbox_client::{ConfigProxy, StatusProxy, WizardProxy};

/// A failed call, printed as `appliance: NAME: message`.
pub struct CallError(pub String);

impl From<zbus::Error> for CallError {
    fn from(e: zbus::Error) -> Self {
        match e {
            zbus::Error::MethodError(name, msg, _) => {
                let short = name.as_str().rsplit('.').next().unwrap_or(name.as_str()).to_owned();
                CallError(format!("{short}: {}", msg.unwrap_or_default()))
            }
            zbus::Error::InputOutput(io) => CallError(format!(
                "cannot reach the system bus ({io}); is dbus running? (DBUS_SYSTEM_BUS_ADDRESS may point elsewhere)"
            )),
            other => CallError(other.to_string()),
        }
    }
}

impl From<std::io::Error> for CallError {
    fn from(e: std::io::Error) -> Self {
        CallError(e.to_string())
    }
}

pub type CallResult = Result<(), CallError>;

pub async fn connect() -> Result<zbus::Connection, CallError> {
    Ok(zbus::Connection::system().await?)
}

pub async fn config(conn: &zbus::Connection) -> Result<ConfigProxy<'static>, CallError> {
    Ok(ConfigProxy::new(conn).await?)
}

pub async fn status(conn: &zbus::Connection) -> Result<StatusProxy<'static>, CallError> {
    Ok(StatusProxy::new(conn).await?)
}

pub async fn wizard(conn: &zbus::Connection) -> Result<WizardProxy<'static>, CallError> {
    Ok(WizardProxy::new(conn).await?)
}

/// Runs an async command on a small runtime and turns its outcome into an exit status.
pub fn run(fut: impl std::future::Future<Output = CallResult>) -> ExitCode {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match rt.block_on(fut) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CallError(msg)) => {
            eprintln!("appliance: {msg}");
            ExitCode::from(1)
        }
    }
}
