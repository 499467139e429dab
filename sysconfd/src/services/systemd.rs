//! The systemd backend: units driven over `org.freedesktop.systemd1`.

use std::collections::BTreeMap;

use zbus::zvariant::OwnedObjectPath;

use super::{Service, ServiceState, ServicesError};

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1"
)]
trait Manager {
    fn start_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn stop_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn restart_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn reload_or_restart_unit(&self, name: &str, mode: &str) -> zbus::Result<OwnedObjectPath>;
    fn get_unit(&self, name: &str) -> zbus::Result<OwnedObjectPath>;
}

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Unit",
    default_service = "org.freedesktop.systemd1"
)]
trait Unit {
    #[zbus(property)]
    fn active_state(&self) -> zbus::Result<String>;
}

/// Job mode for every request: replace a queued job for the same unit.
const MODE: &str = "replace";

/// systemd, with the unit name of each service.
#[derive(Debug, Clone)]
pub struct Systemd {
    conn: zbus::Connection,
    units: BTreeMap<Service, String>,
}

impl Systemd {
    /// systemd on the system bus, with the units the telbox image installs.
    pub async fn system() -> Result<Self, ServicesError> {
        Ok(Systemd::new(zbus::Connection::system().await?))
    }

    /// systemd reached over `conn` (a private bus in tests).
    pub fn new(conn: zbus::Connection) -> Self {
        let units = BTreeMap::from([
            (Service::Dhcp, "kea-dhcp4.service".to_owned()),
            (Service::Ntp, "chronyd.service".to_owned()),
        ]);
        Systemd { conn, units }
    }

    /// Uses `unit` for `service`, as on distributions naming them otherwise
    /// (Debian: `kea-dhcp4-server.service`, `chrony.service`).
    pub fn with_unit(mut self, service: Service, unit: &str) -> Self {
        self.units.insert(service, unit.to_owned());
        self
    }

    pub fn unit(&self, service: Service) -> &str {
        &self.units[&service]
    }

    async fn manager(&self) -> Result<ManagerProxy<'_>, ServicesError> {
        Ok(ManagerProxy::new(&self.conn).await?)
    }

    pub async fn start(&self, service: Service) -> Result<(), ServicesError> {
        self.manager()
            .await?
            .start_unit(self.unit(service), MODE)
            .await?;
        Ok(())
    }

    pub async fn stop(&self, service: Service) -> Result<(), ServicesError> {
        self.manager()
            .await?
            .stop_unit(self.unit(service), MODE)
            .await?;
        Ok(())
    }

    pub async fn restart(&self, service: Service) -> Result<(), ServicesError> {
        self.manager()
            .await?
            .restart_unit(self.unit(service), MODE)
            .await?;
        Ok(())
    }

    pub async fn reload_or_restart(&self, service: Service) -> Result<(), ServicesError> {
        self.manager()
            .await?
            .reload_or_restart_unit(self.unit(service), MODE)
            .await?;
        Ok(())
    }

    /// The unit's `ActiveState`; a unit systemd has not loaded is inactive.
    pub async fn state(&self, service: Service) -> Result<ServiceState, ServicesError> {
        let path = match self.manager().await?.get_unit(self.unit(service)).await {
            Ok(p) => p,
            Err(zbus::Error::MethodError(name, _, _))
                if name.as_str() == "org.freedesktop.systemd1.NoSuchUnit" =>
            {
                return Ok(ServiceState::Inactive)
            }
            Err(e) => return Err(e.into()),
        };
        let unit = UnitProxy::builder(&self.conn).path(path)?.build().await?;
        Ok(ServiceState::from_systemd(&unit.active_state().await?))
    }
}
