//! Who is calling: the second check behind the bus policy file. Mutating
//! methods need uid 0 or membership of the telbox-admin group, so a broken
//! or permissive policy file does not open the door.

use appliance::dbus::{ADMIN_GROUP, WIZARD_USER};
use zbus::fdo::DBusProxy;
use zbus::message::Header;
use zbus::names::BusName;
use zbus::Connection;

use super::error::BusError;

/// Refusals logged per window; past that they are counted and the count
/// goes with the next line logged, so a caller looping on a refused method
/// cannot fill the journal.
const REFUSALS_PER_WINDOW: u32 = 10;
const REFUSAL_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

static REFUSALS: RateLimit = RateLimit::new(REFUSALS_PER_WINDOW, REFUSAL_WINDOW);

/// At most `per_window` events logged per `window`.
pub struct RateLimit {
    per_window: u32,
    window: std::time::Duration,
    state: std::sync::Mutex<Option<Window>>,
}

struct Window {
    started: std::time::Instant,
    logged: u32,
    suppressed: u64,
}

impl RateLimit {
    pub const fn new(per_window: u32, window: std::time::Duration) -> Self {
        RateLimit {
            per_window,
            window,
            state: std::sync::Mutex::new(None),
        }
    }

    /// `Some(events suppressed since the last one logged)` when this event
    /// may be logged, `None` when it is only counted.
    pub fn admit(&self, now: std::time::Instant) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let w = state.get_or_insert(Window {
            started: now,
            logged: 0,
            suppressed: 0,
        });
        if now.duration_since(w.started) >= self.window {
            w.started = now;
            w.logged = 0;
        }
        if w.logged < self.per_window {
            w.logged += 1;
            Some(std::mem::take(&mut w.suppressed))
        } else {
            w.suppressed += 1;
            None
        }
    }
}

/// The caller's uid and groups, as the bus daemon vouches for them.
pub struct Caller {
    pub uid: u32,
    pub gids: Vec<u32>,
}

impl Caller {
    pub async fn of(conn: &Connection, header: &Header<'_>) -> Result<Caller, BusError> {
        let sender = header
            .sender()
            .ok_or_else(|| BusError::AccessDenied("the call has no sender".into()))?;
        let creds = DBusProxy::new(conn)
            .await?
            .get_connection_credentials(BusName::Unique(sender.to_owned()))
            .await?;
        let uid = creds.unix_user_id().ok_or_else(|| {
            BusError::AccessDenied("the bus did not tell the caller's uid".into())
        })?;
        let gids = creds.unix_group_ids().cloned().unwrap_or_default();
        Ok(Caller { uid, gids })
    }

    pub fn is_admin(&self) -> bool {
        self.uid == 0 || admin_gid().is_some_and(|g| self.gids.contains(&g))
    }
}

fn admin_gid() -> Option<u32> {
    nix::unistd::Group::from_name(ADMIN_GROUP)
        .ok()
        .flatten()
        .map(|g| g.gid.as_raw())
}

fn wizard_uid() -> Option<u32> {
    nix::unistd::User::from_name(WIZARD_USER)
        .ok()
        .flatten()
        .map(|u| u.uid.as_raw())
}

/// Who may call a first-boot wizard method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WizardCaller {
    /// Root or a member of the admin group.
    Admin(u32),
    /// The wizard's own system user: held to the wizard's rules.
    Wizard(u32),
}

impl WizardCaller {
    pub fn uid(self) -> u32 {
        match self {
            WizardCaller::Admin(uid) | WizardCaller::Wizard(uid) => uid,
        }
    }
}

/// The caller if it is an admin or the wizard's user, else `AccessDenied`.
pub async fn require_wizard(
    conn: &Connection,
    header: &Header<'_>,
    method: &str,
) -> Result<WizardCaller, BusError> {
    let caller = Caller::of(conn, header).await?;
    if caller.is_admin() {
        return Ok(WizardCaller::Admin(caller.uid));
    }
    if wizard_uid() == Some(caller.uid) {
        return Ok(WizardCaller::Wizard(caller.uid));
    }
    Err(refuse(
        caller.uid,
        method,
        &format!("root or membership of the {ADMIN_GROUP} group, or the {WIZARD_USER} user"),
    ))
}

/// Logs a refusal (within the budget) and returns the error for it.
pub fn refuse(uid: u32, method: &str, needs: &str) -> BusError {
    if let Some(suppressed) = REFUSALS.admit(std::time::Instant::now()) {
        tracing::warn!(uid, method, suppressed, "refused: caller is not {needs}");
    }
    BusError::AccessDenied(format!("{method} needs {needs} (caller uid {uid})"))
}

/// Returns the caller's uid if it may change the system, else `AccessDenied`.
pub async fn require_admin(
    conn: &Connection,
    header: &Header<'_>,
    method: &str,
) -> Result<u32, BusError> {
    let caller = Caller::of(conn, header).await?;
    if caller.is_admin() {
        Ok(caller.uid)
    } else {
        if let Some(suppressed) = REFUSALS.admit(std::time::Instant::now()) {
            tracing::warn!(
                uid = caller.uid,
                method,
                suppressed,
                "refused: caller is not root or in {ADMIN_GROUP}"
            );
        }
        Err(BusError::AccessDenied(format!(
            "{method} needs root or membership of the {ADMIN_GROUP} group (caller uid {})",
            caller.uid
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn refusals_past_the_window_budget_are_counted_not_logged() {
        let limit = RateLimit::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        let admitted: Vec<_> = (0..10).map(|_| limit.admit(t0)).collect();
        assert_eq!(&admitted[..3], &[Some(0), Some(0), Some(0)]);
        assert!(admitted[3..].iter().all(Option::is_none));
        assert_eq!(limit.admit(t0 + Duration::from_secs(61)), Some(7));
        assert_eq!(limit.admit(t0 + Duration::from_secs(62)), Some(0));
    }
}
