//! The health checks: every HA service must run, and each `[[ha.check]]`
//! command of a running service must exit 0 within its timeout.

use super::services::HaServices;
use super::settings::{HaSettings, CHECK_TIMEOUT};
use crate::os::ha::HaOs;
use crate::services::ServiceState;

/// `Err` names the first service or check that failed; the check commands
/// run through `os`.
pub async fn check(
    settings: &HaSettings,
    services: &HaServices,
    os: &dyn HaOs,
) -> Result<(), String> {
    for name in &settings.services {
        let state = services.state(name).await;
        if state == ServiceState::Unmanaged {
            continue;
        }
        if !state.is_running() {
            return Err(format!("{name} is {state}"));
        }
    }
    for check in &settings.checks {
        os.run_check(check.argv.clone(), CHECK_TIMEOUT)
            .await
            .map_err(|e| format!("{}: {e}", check.service))?;
    }
    Ok(())
}
