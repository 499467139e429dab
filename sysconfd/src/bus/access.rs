//! Who is calling: the second check behind the bus policy file. Mutating
//! methods need uid 0 or membership of the telbox-admin group, so a broken
//! or permissive policy file does not open the door.

use appliance::dbus::ADMIN_GROUP;
use zbus::fdo::DBusProxy;
use zbus::message::Header;
use zbus::names::BusName;
use zbus::Connection;

use super::error::BusError;

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
        tracing::warn!(
            uid = caller.uid,
            method,
            "refused: caller is not root or in {ADMIN_GROUP}"
        );
        Err(BusError::AccessDenied(format!(
            "{method} needs root or membership of the {ADMIN_GROUP} group (caller uid {})",
            caller.uid
        )))
    }
}
