//! The Berofos relays and watchdog, through the native client (no `bnfos`
//! subprocess). Blocking calls: the runtime runs them on blocking threads.
//! The devices and their logins come from `/etc/bnfos.conf`, which the
//! engine renders from `[[berofos]]`.

use std::path::Path;
use std::time::Duration;

use appliance::ha::HaAction;
use berofos::{Berofos, BnfosConf, RelayMode, Scenario};

/// Each request waits this long; a takeover must not hang on a dead device.
const TIMEOUT: Duration = Duration::from_millis(800);
/// Tries per device before the action is recorded as failed.
const ATTEMPTS: u32 = 3;

fn device(conf_path: &Path, name: &str) -> Result<Berofos, String> {
    let conf = BnfosConf::load(conf_path).map_err(|e| e.to_string())?;
    let dev = conf
        .device(name)
        .ok_or_else(|| format!("{name} is not in {}", conf_path.display()))?;
    Ok(Berofos::from_conf(dev)
        .map_err(|e| e.to_string())?
        .with_timeout(TIMEOUT))
}

/// Throws every named Berofos to `mode`, each tried up to three times.
pub fn throw(conf_path: &Path, names: &[String], mode: RelayMode) -> Vec<HaAction> {
    names
        .iter()
        .map(|name| {
            let what = format!("berofos {name} {}", mode.ports());
            let mut last = String::new();
            for attempt in 0..ATTEMPTS {
                if attempt > 0 {
                    std::thread::sleep(Duration::from_millis(100));
                }
                match device(conf_path, name)
                    .and_then(|d| d.set_relay_mode(mode).map_err(|e| e.to_string()))
                {
                    Ok(()) => {
                        return HaAction {
                            what,
                            ok: true,
                            detail: String::new(),
                        }
                    }
                    Err(e) => last = e,
                }
            }
            tracing::error!(device = %name, error = %last, "could not throw the Berofos relays");
            HaAction {
                what,
                ok: false,
                detail: last,
            }
        })
        .collect()
}

/// The kick interval for a Berofos whose watchdog guards a bypass (scenario
/// bypass, watchdog armed): a third of its interval, 1 to 5 s. `None` when
/// the device is not set up that way.
pub fn bypass_kick_interval(conf_path: &Path, name: &str) -> Result<Option<Duration>, String> {
    let settings = device(conf_path, name)?
        .settings()
        .map_err(|e| e.to_string())?;
    let armed = settings.watchdog.enabled == Some(true);
    if settings.scenario != Some(Scenario::Bypass) || !armed {
        return Ok(None);
    }
    let interval = u64::from(settings.watchdog.interval_secs.unwrap_or(60).max(1));
    Ok(Some(Duration::from_millis(
        (interval * 1000 / 3).clamp(1000, 5000),
    )))
}

/// One watchdog kick.
pub fn kick(conf_path: &Path, name: &str) -> Result<(), String> {
    device(conf_path, name)?.kick().map_err(|e| e.to_string())
}
