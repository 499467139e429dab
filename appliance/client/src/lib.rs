//! The client side of sysconfd's D-Bus interfaces: one zbus proxy per
//! interface, for the CLI, the wizard and the tests. The names and the
//! reply types they carry are the contract's (`appliance::dbus`,
//! `appliance::views`, `appliance::firmware`); `docs/dbus.md` describes
//! each method.

/// Client side of `org.telbox.Sysconfd1.Config`.
#[zbus::proxy(
    interface = "org.telbox.Sysconfd1.Config",
    default_service = "org.telbox.Sysconfd1",
    default_path = "/org/telbox/Sysconfd1"
)]
pub trait Config {
    /// Returns (valid, JSON array of problems).
    fn validate(&self, toml: &str) -> zbus::Result<(bool, String)>;
    /// Returns (human-readable plan, JSON [`PlanReport`](appliance::dbus::PlanReport)). `session_address`
    /// is the box's address a remote session arrives on, "" for none.
    fn plan(&self, toml: &str, session_address: &str) -> zbus::Result<(String, String)>;
    /// Returns the generation now in force. `base_generation` 0 means "the first apply".
    fn apply(&self, toml: &str, base_generation: u64, confirm_timeout_s: u32) -> zbus::Result<u64>;
    fn confirm(&self, generation: u64) -> zbus::Result<()>;
    fn rollback(&self, generation: u64) -> zbus::Result<u64>;
    /// The configuration in force, secrets redacted.
    fn get(&self) -> zbus::Result<String>;
    /// JSON [`HistoryPage`](appliance::dbus::HistoryPage): at most `limit` generations (0: the default page),
    /// newest first, skipping the `offset` newest.
    fn history(&self, offset: u32, limit: u32) -> zbus::Result<String>;
    /// Every line of generation `generation`'s plan.
    fn generation_plan(&self, generation: u64) -> zbus::Result<Vec<String>>;
    #[zbus(property)]
    fn current_generation(&self) -> zbus::Result<u64>;
    /// The generation waiting for a confirm, 0 when none.
    #[zbus(property)]
    fn pending_confirmation(&self) -> zbus::Result<u64>;
}

/// Client side of `org.telbox.Sysconfd1.Wizard`.
#[zbus::proxy(
    interface = "org.telbox.Sysconfd1.Wizard",
    default_service = "org.telbox.Sysconfd1",
    default_path = "/org/telbox/Sysconfd1"
)]
pub trait Wizard {
    /// JSON: network interfaces (name, MAC, link state, addresses) and detected cards.
    fn discover(&self) -> zbus::Result<String>;
    /// Plans the first-boot settings, touching nothing: (plan lines, JSON `PlanReport`).
    fn preview(&self, toml: &str, session_address: &str) -> zbus::Result<(String, String)>;
    /// Applies the first-boot settings once; refused afterwards. With
    /// `confirm_timeout_s` > 0 the generation waits for `Confirm` and the
    /// wizard counts as completed only once it is confirmed.
    fn complete(&self, toml: &str, confirm_timeout_s: u32) -> zbus::Result<u64>;
    /// Keeps the generation `Complete` made; the wizard is then completed.
    fn confirm(&self, generation: u64) -> zbus::Result<()>;
    #[zbus(property)]
    fn completed(&self) -> zbus::Result<bool>;
}

/// Client side of `org.telbox.Sysconfd1.Status`.
#[zbus::proxy(
    interface = "org.telbox.Sysconfd1.Status",
    default_service = "org.telbox.Sysconfd1",
    default_path = "/org/telbox/Sysconfd1"
)]
pub trait Status {
    /// JSON [`StatusReport`](appliance::dbus::StatusReport).
    fn status(&self) -> zbus::Result<String>;
    /// JSON: links, addresses, routes, roles, and what differs from the configuration.
    fn network(&self) -> zbus::Result<String>;
    /// JSON array of DHCP leases.
    fn leases(&self) -> zbus::Result<String>;
    /// JSON: chronyd's tracking and sources.
    fn ntp(&self) -> zbus::Result<String>;
    /// JSON: the telephony cards found.
    fn hardware(&self) -> zbus::Result<String>;
    /// JSON: every span's alarms, counters and channels.
    fn spans(&self) -> zbus::Result<String>;
    /// TOML: a [telephony] section for the hardware found.
    fn propose(&self) -> zbus::Result<String>;
}

/// Client side of `org.telbox.Sysconfd1.Firmware`.
#[zbus::proxy(
    interface = "org.telbox.Sysconfd1.Firmware",
    default_service = "org.telbox.Sysconfd1",
    default_path = "/org/telbox/Sysconfd1"
)]
pub trait Firmware {
    /// JSON [`FirmwareList`](appliance::firmware::FirmwareList).
    fn list(&self) -> zbus::Result<String>;
    /// JSON [`NeededReport`](appliance::firmware::NeededReport): from the cards present, the kernel log sysconfd
    /// reads, and `kernel_log` (text the caller passes; may be empty).
    fn needed(&self, kernel_log: &str) -> zbus::Result<String>;
    /// JSON [`ChangeReport`](appliance::firmware::ChangeReport). `source`: a package name, a file, a directory
    /// or an http(s) URL; `package` names the package when the source's
    /// file name does not; `sha256` pins the archive's checksum; `force`
    /// replaces files changed by hand or not installed by telbox.
    fn install(
        &self,
        source: &str,
        package: &str,
        sha256: &str,
        force: bool,
    ) -> zbus::Result<String>;
    /// JSON [`ChangeReport`](appliance::firmware::ChangeReport); refused when a file was changed by hand, unless `force`.
    fn remove(&self, name: &str, force: bool) -> zbus::Result<String>;
    /// JSON [`ChangeReport`](appliance::firmware::ChangeReport): every installed package whose catalog version
    /// differs, fetched from `source` (a directory or URL prefix; empty: the catalog's URLs).
    fn upgrade(&self, source: &str, force: bool) -> zbus::Result<String>;
    /// Progress of the caller's `Install` or `Upgrade`: `caller` is the
    /// caller's unique bus name, `phase` one of [`phase`](appliance::firmware::phase), `done` of `total`
    /// (bytes; `total` 0 when unknown).
    #[zbus(signal)]
    fn progress(
        &self,
        caller: &str,
        package: &str,
        phase: &str,
        done: u64,
        total: u64,
    ) -> zbus::Result<()>;
}

/// Client side of `org.telbox.Sysconfd1.Ha`.
#[zbus::proxy(
    interface = "org.telbox.Sysconfd1.Ha",
    default_service = "org.telbox.Sysconfd1",
    default_path = "/org/telbox/Sysconfd1"
)]
pub trait Ha {
    /// JSON [`HaStatus`](appliance::ha::HaStatus).
    fn status(&self) -> zbus::Result<String>;
    /// JSON array of [`HaTransition`](appliance::ha::HaTransition), newest first.
    fn history(&self) -> zbus::Result<String>;
    /// Ends a demotion and takes the service now; returns the new state.
    fn promote(&self) -> zbus::Result<String>;
    /// Hands the service to the peer and stays out until Promote; returns the new state.
    fn demote(&self) -> zbus::Result<String>;
    /// Sent after each transition, with the JSON [`HaTransition`](appliance::ha::HaTransition).
    #[zbus(signal)]
    fn transition(&self, transition: &str) -> zbus::Result<()>;
}
