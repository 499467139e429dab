//! The systemd backend: units driven over `org.freedesktop.systemd1`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use zbus::proxy::CacheProperties;
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

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Job",
    default_service = "org.freedesktop.systemd1"
)]
trait Job {
    #[zbus(property)]
    fn state(&self) -> zbus::Result<String>;
}

/// Job mode for every request: replace a queued job for the same unit.
const MODE: &str = "replace";

/// How long a start, stop or restart job may take before the apply gives up
/// on it: a job can wait on other units (Kea ordered after a target that is
/// not reached yet), and a state read before it finishes says nothing.
pub const JOB_TIMEOUT: Duration = Duration::from_secs(90);
const JOB_POLL: Duration = Duration::from_millis(50);

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
            (Service::Vrrp, "keepalived.service".to_owned()),
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
        self.start_unit(self.unit(service)).await
    }

    pub async fn stop(&self, service: Service) -> Result<(), ServicesError> {
        self.stop_unit(self.unit(service)).await
    }

    /// Starts the unit `unit` (`asterisk.service`), as HA does on takeover,
    /// and waits for the start job to finish.
    pub async fn start_unit(&self, unit: &str) -> Result<(), ServicesError> {
        let job = self.manager().await?.start_unit(unit, MODE).await?;
        self.finished(unit, job).await
    }

    pub async fn stop_unit(&self, unit: &str) -> Result<(), ServicesError> {
        let job = self.manager().await?.stop_unit(unit, MODE).await?;
        self.finished(unit, job).await
    }

    pub async fn restart(&self, service: Service) -> Result<(), ServicesError> {
        let unit = self.unit(service);
        let job = self.manager().await?.restart_unit(unit, MODE).await?;
        self.finished(unit, job).await
    }

    pub async fn reload_or_restart(&self, service: Service) -> Result<(), ServicesError> {
        let unit = self.unit(service);
        let job = self
            .manager()
            .await?
            .reload_or_restart_unit(unit, MODE)
            .await?;
        self.finished(unit, job).await
    }

    /// Waits until systemd has dropped `job` (finished, failed or
    /// cancelled), at most [`JOB_TIMEOUT`]; the unit's state tells the rest.
    async fn finished(&self, unit: &str, job: OwnedObjectPath) -> Result<(), ServicesError> {
        let deadline = Instant::now() + JOB_TIMEOUT;
        let proxy = JobProxy::builder(&self.conn)
            .path(job)?
            .cache_properties(CacheProperties::No)
            .build()
            .await?;
        loop {
            let state = match proxy.state().await {
                Ok(state) => state,
                // The job object is gone: systemd is done with it.
                Err(zbus::Error::MethodError(..)) | Err(zbus::Error::FDO(_)) => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            if Instant::now() >= deadline {
                return Err(ServicesError::JobTimeout {
                    unit: unit.to_owned(),
                    state,
                    waited: JOB_TIMEOUT,
                });
            }
            tokio::time::sleep(JOB_POLL).await;
        }
    }

    /// The unit's `ActiveState`; a unit systemd has not loaded is inactive.
    pub async fn state(&self, service: Service) -> Result<ServiceState, ServicesError> {
        self.unit_state(self.unit(service)).await
    }

    /// The `ActiveState` of the unit `unit`.
    pub async fn unit_state(&self, unit: &str) -> Result<ServiceState, ServicesError> {
        let path = match self.manager().await?.get_unit(unit).await {
            Ok(p) => p,
            Err(zbus::Error::MethodError(name, _, _))
                if name.as_str() == "org.freedesktop.systemd1.NoSuchUnit" =>
            {
                return Ok(ServiceState::Inactive)
            }
            Err(e) => return Err(e.into()),
        };
        let unit = UnitProxy::builder(&self.conn).path(path)?.build().await?;
        Ok(super::state_from_systemd(&unit.active_state().await?))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use zbus::zvariant::ObjectPath;

    use super::*;

    /// systemd's errors the fake answers with.
    #[derive(Debug, zbus::DBusError)]
    #[zbus(prefix = "org.freedesktop.systemd1")]
    enum SdError {
        #[zbus(error)]
        ZBus(zbus::Error),
        NoSuchUnit(String),
    }

    /// A systemd manager that records calls; only Kea's unit is loaded.
    struct FakeManager(Arc<Mutex<Vec<String>>>);

    impl FakeManager {
        fn job(&self, call: &str, name: &str, mode: &str) -> OwnedObjectPath {
            self.0.lock().unwrap().push(format!("{call} {name} {mode}"));
            ObjectPath::try_from("/org/freedesktop/systemd1/job/1")
                .unwrap()
                .into()
        }
    }

    #[zbus::interface(name = "org.freedesktop.systemd1.Manager")]
    impl FakeManager {
        fn start_unit(&self, name: &str, mode: &str) -> OwnedObjectPath {
            self.job("start", name, mode)
        }
        fn stop_unit(&self, name: &str, mode: &str) -> OwnedObjectPath {
            self.job("stop", name, mode)
        }
        fn restart_unit(&self, name: &str, mode: &str) -> OwnedObjectPath {
            self.job("restart", name, mode)
        }
        fn reload_or_restart_unit(&self, name: &str, mode: &str) -> OwnedObjectPath {
            self.job("reload-or-restart", name, mode)
        }
        fn get_unit(&self, name: &str) -> Result<OwnedObjectPath, SdError> {
            match name {
                "kea-dhcp4.service" => Ok(ObjectPath::try_from(KEA_UNIT).unwrap().into()),
                _ => Err(SdError::NoSuchUnit(format!("Unit {name} not loaded."))),
            }
        }
    }

    struct FakeUnit;

    #[zbus::interface(name = "org.freedesktop.systemd1.Unit")]
    impl FakeUnit {
        #[zbus(property)]
        fn active_state(&self) -> String {
            "active".into()
        }
    }

    const KEA_UNIT: &str = "/org/freedesktop/systemd1/unit/kea_2ddhcp4_2eservice";
    const JOB: &str = "/org/freedesktop/systemd1/job/1";

    /// A queued job: `waiting` until systemd drops it.
    struct FakeJob;

    #[zbus::interface(name = "org.freedesktop.systemd1.Job")]
    impl FakeJob {
        #[zbus(property)]
        fn state(&self) -> String {
            "waiting".into()
        }
    }

    /// A peer-to-peer D-Bus connection to the fake, and its call log.
    async fn fake_systemd() -> (zbus::Connection, zbus::Connection, Arc<Mutex<Vec<String>>>) {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let (a, b) = tokio::net::UnixStream::pair().unwrap();
        let server = zbus::connection::Builder::unix_stream(a)
            .server(zbus::Guid::generate())
            .unwrap()
            .p2p()
            .serve_at("/org/freedesktop/systemd1", FakeManager(calls.clone()))
            .unwrap()
            .serve_at(KEA_UNIT, FakeUnit)
            .unwrap()
            .build();
        let client = zbus::connection::Builder::unix_stream(b).p2p().build();
        let (server, client) = futures::try_join!(server, client).unwrap();
        (server, client, calls)
    }

    #[tokio::test]
    async fn units_are_driven_and_read_over_d_bus() {
        let (_server, client, calls) = fake_systemd().await;
        let sd = Systemd::new(client).with_unit(Service::Ntp, "chrony.service");
        sd.start(Service::Dhcp).await.unwrap();
        sd.reload_or_restart(Service::Dhcp).await.unwrap();
        sd.restart(Service::Ntp).await.unwrap();
        sd.stop(Service::Ntp).await.unwrap();
        assert_eq!(
            *calls.lock().unwrap(),
            [
                "start kea-dhcp4.service replace",
                "reload-or-restart kea-dhcp4.service replace",
                "restart chrony.service replace",
                "stop chrony.service replace",
            ]
        );
        assert_eq!(sd.state(Service::Dhcp).await.unwrap(), ServiceState::Active);
        assert_eq!(
            sd.state(Service::Ntp).await.unwrap(),
            ServiceState::Inactive,
            "an unloaded unit"
        );
    }

    #[tokio::test]
    async fn a_start_returns_once_systemd_has_dropped_its_job() {
        let (server, client, _calls) = fake_systemd().await;
        server.object_server().at(JOB, FakeJob).await.unwrap();
        let sd = Systemd::new(client);
        let drop_job = async {
            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
            server
                .object_server()
                .remove::<FakeJob, _>(JOB)
                .await
                .unwrap();
        };
        let started = Instant::now();
        let (result, ()) = futures::join!(sd.start(Service::Dhcp), drop_job);
        result.unwrap();
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(400),
            "returned while the job was queued: {:?}",
            started.elapsed()
        );
    }
}
