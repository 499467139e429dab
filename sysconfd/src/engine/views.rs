//! Read-only views of the system for `appliance network|dhcp|ntp|telephony`:
//! read fresh each time, never from a cache.

use appliance::views::NetworkView;

use super::{Engine, EngineError};
use crate::{dhcp, network, ntp, replies};

impl Engine {
    async fn observe_network(&self) -> Result<Option<network::NetState>, EngineError> {
        Ok(self
            .os
            .observe_network()
            .await
            .map_err(crate::os::OsError::from)?)
    }

    fn current(&self) -> Option<appliance::config::Config> {
        appliance::config::load(&self.current_config().ok()?, "current").ok()
    }

    /// Links, addresses and routes as the kernel has them, each managed link's
    /// role, and what differs from the configuration in force.
    pub async fn network_view(&self) -> Result<NetworkView, EngineError> {
        let Some(observed) = self.observe_network().await? else {
            return Ok(NetworkView::default());
        };
        let config = self.current();
        let roles = config
            .iter()
            .flat_map(|c| {
                c.network
                    .links()
                    .map(|l| (l.name.to_string(), l.role))
                    .collect::<Vec<_>>()
            })
            .collect();
        let differs: Vec<String> = config
            .map(|c| {
                network::plan_keeping(&c.network, &observed, c.ha.service_address(&c.network))
                    .iter()
                    .map(ToString::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let dhcp_leases = self
            .os
            .dhcp_client_leases()
            .into_iter()
            .map(|(link, lease)| (link, lease.map(replies::client_lease).unwrap_or_default()))
            .collect();
        Ok(NetworkView {
            managed: true,
            links: observed.links.into_iter().map(replies::link).collect(),
            routes: observed.routes.into_iter().map(replies::route).collect(),
            roles,
            differs,
            dhcp_leases,
        })
    }

    /// A warning when `plan` takes away `local`, the box's address a remote
    /// session arrives on: removing it, or taking its link down or away.
    pub async fn session_cut(
        &self,
        plan: &super::Plan,
        local: std::net::IpAddr,
    ) -> Result<Option<String>, EngineError> {
        let Some(observed) = self.observe_network().await? else {
            return Ok(None);
        };
        let actions = plan.network_actions();
        Ok(network::session_address_removed(&actions, &observed, local).map(|cut| {
            format!(
                "this plan removes {local}, the address your session arrives on ({cut}); apply it with --confirm-timeout so it comes back if you are cut off"
            )
        }))
    }

    /// The links of sysconfd's network namespace as the kernel reports them
    /// (empty when sysconfd does not manage the network).
    pub async fn links(&self) -> Result<Vec<network::Link>, EngineError> {
        Ok(self
            .observe_network()
            .await?
            .map(|o| o.links)
            .unwrap_or_default())
    }

    pub fn leases(&self) -> Result<Vec<dhcp::KeaLease>, EngineError> {
        self.os
            .dhcp_server_leases()
            .map_err(|e| EngineError::Refused(format!("reading the DHCP leases: {e}")))
    }

    pub fn ntp_status(&self) -> Result<ntp::NtpStatus, EngineError> {
        self.os
            .ntp_status()
            .map_err(|e| EngineError::Refused(format!("asking chronyd: {e}")))
    }

    pub fn hardware(&self) -> Result<hwmgr::detect::Inventory, EngineError> {
        self.os
            .telephony_hardware()
            .map_err(|e| EngineError::Refused(format!("scanning telephony hardware: {e}")))
    }

    pub fn spans(&self) -> Result<Vec<hwmgr::status::SpanStatus>, EngineError> {
        self.os
            .spans()
            .map_err(|e| EngineError::Refused(format!("reading span status: {e}")))
    }

    /// A `[telephony]` section for the hardware found, as TOML.
    pub fn propose(&self) -> Result<String, EngineError> {
        let proposal = hwmgr::propose::propose(&self.hardware()?);
        #[derive(serde::Serialize)]
        struct Section<'a> {
            telephony: &'a appliance::config::telephony::Telephony,
        }
        toml::to_string(&Section {
            telephony: &proposal,
        })
        .map_err(|e| EngineError::Refused(e.to_string()))
    }
}
