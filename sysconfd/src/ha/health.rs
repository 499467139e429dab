//! The health checks: every HA service must run, and each `[[ha.check]]`
//! command of a running service must exit 0 within its timeout.

use std::process::Stdio;

use super::services::HaServices;
use super::settings::{HaSettings, CHECK_TIMEOUT};
use crate::services::ServiceState;

/// `Err` names the first service or check that failed.
pub async fn check(settings: &HaSettings, services: &HaServices) -> Result<(), String> {
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
        run(&check.argv)
            .await
            .map_err(|e| format!("{}: {e}", check.service))?;
    }
    Ok(())
}

async fn run(argv: &[String]) -> Result<(), String> {
    let (program, args) = argv.split_first().ok_or("empty check command")?;
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("`{program}` could not run: {e}"))?;
    match tokio::time::timeout(CHECK_TIMEOUT, child.wait_with_output()).await {
        Err(_) => Err(format!(
            "`{}` took longer than {CHECK_TIMEOUT:?}",
            argv.join(" ")
        )),
        Ok(Err(e)) => Err(format!("`{program}`: {e}")),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => Err(format!("`{}` failed ({})", argv.join(" "), out.status)),
    }
}
