//! The differential network test: the same generated configs applied to
//! the machine (through the running sysconfd, over D-Bus) and to an engine
//! over the simulated machine, started from the machine's own links; any
//! step where one side succeeds and the other fails, or where the links,
//! addresses and routes differ afterwards, is a divergence. The kernel is
//! the judge of the simulation. `src/bin/netdiff.rs` is the command.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use appliance::config::{self, Config};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng};
use sysconfd::engine::{ApplyRequest, Engine, Options};
use sysconfd::network::{NetState, Netlink};
use sysconfd::os::{ServicesMode, SimOs, SimState};
use sysconfd::root::Root;

/// The base used when none is given: only what every config needs.
pub const MINIMAL_BASE: &str = r#"
[system]
hostname = "telbox"
domain = "example.com"

[ntp]
serve_voip = false
"#;

/// The first link's address and gateway, kept in every config so the box
/// stays reachable (a QEMU guest's user network: 10.0.2.15, via 10.0.2.2).
pub const UPLINK_ADDRESS: &str = "10.0.2.15/24";
pub const UPLINK_GATEWAY: &str = "10.0.2.2";

/// The generator's dice: rand's seeded `StdRng`, so one seed replays one
/// sequence (with the locked rand version).
pub struct Rng(StdRng);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(StdRng::seed_from_u64(seed))
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0.gen_range(0..n)
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// MTUs the generator picks from (all within the config's 68–9216).
const MTUS: [u32; 5] = [1280, 1400, 1500, 1600, 9000];
/// VLAN ids: few, so names and ids collide across steps.
const VLAN_IDS: [u16; 4] = [10, 20, 30, 40];
/// Subnets the non-uplink links take turns at, so addresses move between
/// links, and between a parent and its VLANs.
const SUBNETS: [u8; 12] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

/// What the generator varies, and what it must keep.
pub struct GenOptions {
    /// The links the box has; the first is the uplink.
    pub links: Vec<String>,
    /// Whether to declare VLANs (a kernel without 8021q has none).
    pub vlans: bool,
    /// The config every generated one starts from (its `[network]` replaced).
    pub base: Config,
}

/// One link as the generator declares it.
struct Declared {
    name: String,
    parent: Option<String>,
    id: u16,
    address: Option<u8>,
    mtu: Option<u32>,
}

/// Makes valid configs, one per step, from a seed; it follows the MTU each
/// link will have, since a link without `mtu` keeps the kernel's.
pub struct Generator {
    rng: Rng,
    opts: GenOptions,
    mtus: BTreeMap<String, u32>,
    /// The previous config's VLANs (name, parent, id) and addresses (subnet
    /// to link), to tell what moved.
    vlans: Vec<(String, String, u16)>,
    addresses: BTreeMap<u8, String>,
    /// What the sequence has covered so far, by feature.
    pub covered: BTreeMap<&'static str, usize>,
}

impl Generator {
    /// `initial` gives each link's MTU before the first step.
    pub fn new(seed: u64, opts: GenOptions, initial: &NetState) -> Generator {
        let mtus = opts
            .links
            .iter()
            .map(|l| (l.clone(), initial.link(l).map_or(1500, |l| l.mtu)))
            .collect();
        Generator {
            rng: Rng::new(seed),
            opts,
            mtus,
            vlans: Vec::new(),
            addresses: BTreeMap::new(),
            covered: BTreeMap::new(),
        }
    }

    fn cover(&mut self, what: &'static str) {
        *self.covered.entry(what).or_default() += 1;
    }

    /// The next config; only configs `appliance::config::load` takes. An
    /// error when fifty draws in a row are refused (a base whose other
    /// sections need a `[network]` the generator does not make).
    pub fn next_step(&mut self) -> anyhow::Result<Step> {
        let mut last = None;
        for _ in 0..50 {
            let (step, effects) = self.candidate();
            match config::load(&step.text, "netdiff.toml") {
                Ok(_) => {
                    self.commit(effects, step.refusal.is_none());
                    return Ok(step);
                }
                Err(report) => {
                    self.cover("refused by validation (redrawn)");
                    last = Some(format!("{report}\n{}", step.text));
                }
            }
        }
        anyhow::bail!(
            "fifty generated configs in a row do not validate; the last:\n{}",
            last.unwrap_or_default()
        )
    }

    /// What a step changes of the generator's picture of the machine; a
    /// step the kernel is to refuse changes nothing (the apply is undone).
    fn commit(&mut self, e: Effects, applies: bool) {
        for c in &e.covered {
            self.cover(c);
        }
        if !applies {
            return;
        }
        self.mtus.extend(e.mtus);
        self.vlans = e.vlans;
        self.addresses = e.addresses;
    }

    fn candidate(&mut self) -> (Step, Effects) {
        let rng = &mut self.rng;
        // Now and then a valid config the kernel refuses, of one kind.
        let refusal: Option<&'static str> = rng
            .chance(8)
            .then(|| *rng.pick(&[REFUSED_ROUTE, REFUSED_VLAN_MTU, REFUSED_VLAN_UP]));
        let mut refused = None;
        let links = self.opts.links.clone();
        let mut subnets: Vec<u8> = SUBNETS.to_vec();
        let mut take_subnet = |rng: &mut Rng| {
            let i = rng.below(subnets.len());
            subnets.remove(i)
        };
        let mut covered = Vec::new();
        // The uplink: its address and gateway always, its MTU never.
        let mut out = String::new();
        let uplink = &links[0];
        writeln!(
            out,
            "[[interface]]\nname = \"{uplink}\"\naddress = \"{UPLINK_ADDRESS}\"\ngateway = \"{UPLINK_GATEWAY}\"\n"
        )
        .unwrap();
        let mut declared: Vec<Declared> = Vec::new();
        let mut up: BTreeMap<String, bool> = BTreeMap::from([(uplink.clone(), true)]);
        let mut mtu_after = self.mtus.clone();
        for name in &links[1..] {
            let off = rng.chance(15);
            let mtu = rng.chance(55).then(|| *rng.pick(&MTUS));
            if off {
                covered.push("link set down");
            }
            if let Some(m) = mtu {
                let before = self.mtus[name];
                covered.push(match m.cmp(&before) {
                    std::cmp::Ordering::Greater => "parent MTU raised",
                    std::cmp::Ordering::Less => "parent MTU lowered",
                    std::cmp::Ordering::Equal => "parent MTU kept",
                });
                mtu_after.insert(name.clone(), m);
            }
            up.insert(name.clone(), !off);
            declared.push(Declared {
                name: name.clone(),
                parent: None,
                id: 0,
                address: (!off).then(|| take_subnet(rng)),
                mtu,
            });
        }
        if self.opts.vlans {
            let count = rng.below(4);
            let mut used: Vec<(String, u16)> = Vec::new();
            for _ in 0..count {
                let parent = rng.pick(&links).clone();
                let id = *rng.pick(&VLAN_IDS);
                if used.contains(&(parent.clone(), id)) {
                    continue;
                }
                let name = if rng.chance(80) {
                    format!("{parent}.{id}")
                } else {
                    format!("v{}", 1 + rng.below(2))
                };
                if declared.iter().any(|d| d.name == name) || links.contains(&name) {
                    continue;
                }
                used.push((parent.clone(), id));
                let parent_up = up[&parent];
                let mut off = !parent_up || rng.chance(25);
                if !parent_up && refused.is_none() && refusal == Some(REFUSED_VLAN_UP) {
                    // 8021q opens no VLAN on a parent that is down.
                    off = false;
                    refused = refusal;
                }
                let ceiling = mtu_after[&parent];
                let parent_sets_mtu = declared.iter().any(|d| d.name == parent && d.mtu.is_some());
                let above: Vec<u32> = MTUS.iter().copied().filter(|&m| m > ceiling).collect();
                let mtu = if refused.is_none()
                    && refusal == Some(REFUSED_VLAN_MTU)
                    && !parent_sets_mtu
                    && !above.is_empty()
                {
                    // Valid: the parent names no MTU; but above the one it has.
                    refused = refusal;
                    Some(*rng.pick(&above))
                } else if rng.chance(50) {
                    let fits: Vec<u32> = MTUS.iter().copied().filter(|&m| m <= ceiling).collect();
                    (!fits.is_empty()).then(|| *rng.pick(&fits))
                } else {
                    None
                };
                covered.push(match mtu {
                    Some(_) => "VLAN with its own MTU",
                    None => "VLAN without MTU",
                });
                if off {
                    covered.push("VLAN set down");
                }
                declared.push(Declared {
                    name,
                    parent: Some(parent),
                    id,
                    address: (!off).then(|| take_subnet(rng)),
                    mtu,
                });
            }
        }
        for d in &declared {
            let table = if d.parent.is_some() {
                "vlan"
            } else {
                "interface"
            };
            writeln!(out, "[[{table}]]\nname = \"{}\"", d.name).unwrap();
            if let Some(p) = &d.parent {
                writeln!(out, "parent = \"{p}\"\nid = {}", d.id).unwrap();
            }
            match d.address {
                Some(s) => writeln!(out, "address = \"10.{s}.0.2/24\"").unwrap(),
                None => writeln!(out, "method = \"off\"").unwrap(),
            }
            if let Some(m) = d.mtu {
                writeln!(out, "mtu = {m}").unwrap();
            }
            out.push('\n');
        }
        // Static routes through the links with an address, VLANs included.
        let addressed: Vec<&Declared> = declared.iter().filter(|d| d.address.is_some()).collect();
        if !addressed.is_empty() {
            for k in 0..rng.below(3) {
                let via = addressed[rng.below(addressed.len())];
                if via.parent.is_some() {
                    covered.push("route via a VLAN");
                }
                let s = via.address.expect("addressed");
                let named = rng.chance(50);
                write!(
                    out,
                    "[[route]]\ndestination = \"172.16.{}.0/24\"\nvia = \"10.{s}.0.1\"\n",
                    10 * k + rng.below(3)
                )
                .unwrap();
                if named {
                    writeln!(out, "interface = \"{}\"", via.name).unwrap();
                }
                out.push('\n');
            }
            if refused.is_none() && refusal == Some(REFUSED_ROUTE) {
                // The address's own prefix route has this destination and metric.
                let on = addressed[rng.below(addressed.len())];
                let s = on.address.expect("addressed");
                writeln!(
                    out,
                    "[[route]]\ndestination = \"10.{s}.0.0/24\"\nvia = \"10.{s}.0.1\"\ninterface = \"{}\"\n",
                    on.name
                )
                .unwrap();
                refused = refusal;
            }
        }
        let network: appliance::config::network::Network =
            toml::from_str(&out).expect("generated [network] parses");
        let vlans: Vec<(String, String, u16)> = declared
            .iter()
            .filter_map(|d| d.parent.as_ref().map(|p| (d.name.clone(), p.clone(), d.id)))
            .collect();
        let addresses: BTreeMap<u8, String> = declared
            .iter()
            .filter_map(|d| d.address.map(|a| (a, d.name.clone())))
            .collect();
        if vlans.iter().any(|v| !self.vlans.contains(v)) {
            covered.push("VLAN added");
        }
        if self.vlans.iter().any(|v| !vlans.contains(v)) {
            covered.push("VLAN removed");
        }
        let moved = addresses
            .iter()
            .any(|(a, l)| self.addresses.get(a).is_some_and(|was| was != l));
        if moved {
            covered.push("address moved");
        }
        covered.extend(refused);
        let mtus = declared
            .iter()
            .filter(|d| d.parent.is_none())
            .filter_map(|d| d.mtu.map(|m| (d.name.clone(), m)))
            .collect();
        let mut config = self.opts.base.clone();
        config.network = network;
        let step = Step {
            text: config.to_toml(),
            refusal: refused,
        };
        let effects = Effects {
            mtus,
            vlans,
            addresses,
            covered,
        };
        (step, effects)
    }
}

/// A refusal the generator asks for now and then: a route onto a link's own
/// subnet (`EEXIST`: the prefix route is there).
pub const REFUSED_ROUTE: &str = "refused: route onto a connected subnet";
/// A VLAN MTU above its parent's when the parent names none (`ERANGE`).
pub const REFUSED_VLAN_MTU: &str = "refused: VLAN MTU above its parent's";
/// A VLAN with an address on a parent kept off (`ENETDOWN`).
pub const REFUSED_VLAN_UP: &str = "refused: VLAN up on a parent that is off";

/// One generated config, and the refusal it is meant to meet, if any.
pub struct Step {
    pub text: String,
    pub refusal: Option<&'static str>,
}

/// What a step changes of the generator's picture of the machine.
struct Effects {
    mtus: BTreeMap<String, u32>,
    vlans: Vec<(String, String, u16)>,
    addresses: BTreeMap<u8, String>,
    covered: Vec<&'static str>,
}

/// What is compared of a machine's network: each link's kind, parent, VLAN
/// id, MTU, admin state and IPv4 addresses, and the IPv4 routes through them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub links: BTreeMap<String, String>,
    pub routes: Vec<String>,
}

impl View {
    /// The view of `net` for `links` and every VLAN.
    pub fn of(net: &NetState, links: &[String]) -> View {
        let shown = |name: &str, kind: Option<&str>| {
            links.iter().any(|l| l == name) || kind == Some("vlan")
        };
        let mut out = BTreeMap::new();
        for l in net
            .links
            .iter()
            .filter(|l| shown(&l.name, l.kind.as_deref()))
        {
            let parent = l
                .parent
                .filter(|_| l.is_vlan())
                .and_then(|p| net.link_by_index(p))
                .map(|p| format!(" on {}", p.name))
                .unwrap_or_default();
            let id = l.vlan_id.map(|i| format!(" id {i}")).unwrap_or_default();
            let mut addrs: Vec<String> = l.ipv4.iter().map(|a| a.to_string()).collect();
            addrs.sort();
            out.insert(
                l.name.clone(),
                format!(
                    "{}{parent}{id} mtu {} {} [{}]",
                    l.kind.as_deref().unwrap_or("device"),
                    l.mtu,
                    if l.up { "up" } else { "down" },
                    addrs.join(" ")
                ),
            );
        }
        let mut routes: Vec<String> = net
            .routes
            .iter()
            .filter(|r| r.dev.as_deref().is_some_and(|d| out.contains_key(d)))
            .map(|r| {
                let via = r.gateway.map(|g| format!(" via {g}")).unwrap_or_default();
                format!(
                    "{}{via} dev {} proto {} metric {}",
                    r.destination,
                    r.dev.as_deref().unwrap_or("-"),
                    r.protocol,
                    r.metric
                )
            })
            .collect();
        routes.sort();
        View { links: out, routes }
    }

    /// One line per difference, `-` for this side, `+` for the other.
    pub fn diff(&self, other: &View) -> Vec<String> {
        let mut out = Vec::new();
        let names: std::collections::BTreeSet<&String> =
            self.links.keys().chain(other.links.keys()).collect();
        for n in names {
            let (a, b) = (self.links.get(n), other.links.get(n));
            if a != b {
                out.push(format!("  link {n}: real {a:?}, sim {b:?}"));
            }
        }
        for r in self.routes.iter().filter(|r| !other.routes.contains(r)) {
            out.push(format!("  route only on real: {r}"));
        }
        for r in other.routes.iter().filter(|r| !self.routes.contains(r)) {
            out.push(format!("  route only in sim: {r}"));
        }
        out
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, l) in &self.links {
            writeln!(f, "  {n}: {l}")?;
        }
        for r in &self.routes {
            writeln!(f, "  route {r}")?;
        }
        Ok(())
    }
}

/// What one side made of one step: `Err` with why when the apply failed or
/// left something to do.
pub type Outcome = Result<(), String>;

/// The in-process engine over the simulated machine.
pub struct SimSide {
    pub sim: SimOs,
    engine: Engine,
    _dir: tempfile::TempDir,
}

impl SimSide {
    /// An engine over a simulated machine whose network is `initial`.
    pub async fn start(initial: NetState) -> anyhow::Result<SimSide> {
        let dir = tempfile::Builder::new().prefix("netdiff-sim").tempdir()?;
        let sim = SimOs::new(SimState {
            network: Some(initial),
            hostname: "telbox".into(),
            ..SimState::default()
        });
        let opts = Options {
            root: Root::new(dir.path().join("root")),
            state_dir: dir.path().join("state"),
            set_hostname: false,
            fault_abort_at: None,
            network: true,
            services: ServicesMode::None,
        };
        let (engine, _) = Engine::open_with(opts, Arc::new(sim.clone()))
            .await
            .map_err(|e| anyhow::anyhow!("opening the simulated engine: {e}"))?;
        Ok(SimSide {
            sim,
            engine,
            _dir: dir,
        })
    }

    /// Applies `text` (no confirm), then plans it again: nothing may be left.
    pub async fn apply(&mut self, text: &str) -> Outcome {
        let req = ApplyRequest {
            text: text.to_owned(),
            base: None,
            confirm_timeout: None,
            caller_uid: 0,
        };
        self.engine.apply(req).await.map_err(|e| e.to_string())?;
        let left = self.engine.plan(text).await.map_err(|e| e.to_string())?;
        let net: Vec<String> = left
            .actions
            .iter()
            .filter(|a| a.kind() == "network")
            .map(|a| a.to_string())
            .collect();
        match net.is_empty() {
            true => Ok(()),
            false => Err(format!("left to do: {}", net.join("; "))),
        }
    }

    pub fn network(&self) -> NetState {
        self.sim.state().network.unwrap_or_default()
    }

    /// Starts again from `net` (after a divergence, from the machine's).
    pub fn reset_network(&self, net: NetState) {
        self.sim.edit(|s| s.network = Some(net));
    }
}

/// The machine: sysconfd over D-Bus, and the kernel read directly.
pub struct RealSide {
    config: telbox_client::ConfigProxy<'static>,
    netlink: Netlink,
}

impl RealSide {
    /// Connects to sysconfd on the system bus or on bus `address`.
    pub async fn connect(address: Option<&str>) -> anyhow::Result<RealSide> {
        let conn = match address {
            None => zbus::Connection::system().await?,
            Some(a) => zbus::connection::Builder::address(a)?.build().await?,
        };
        let config = telbox_client::ConfigProxy::new(&conn).await?;
        let netlink = Netlink::connect()?;
        Ok(RealSide { config, netlink })
    }

    pub async fn network(&self) -> anyhow::Result<NetState> {
        Ok(self.netlink.observe().await?)
    }

    /// The configuration in force on the machine, if it has one.
    pub async fn in_force(&self) -> Option<String> {
        let generation = self.config.current_generation().await.ok()?;
        (generation > 0).then_some(())?;
        self.config.get().await.ok()
    }

    /// Applies `text` with no confirm timeout, then asks the daemon to plan
    /// it again: nothing may be left.
    pub async fn apply(&self, text: &str) -> Outcome {
        let base = self
            .config
            .current_generation()
            .await
            .map_err(|e| format!("CurrentGeneration: {e}"))?;
        self.config
            .apply(text, base, 0)
            .await
            .map_err(|e| e.to_string())?;
        let (_, report) = self
            .config
            .plan(text, "")
            .await
            .map_err(|e| format!("Plan: {e}"))?;
        let report: appliance::dbus::PlanReport =
            serde_json::from_str(&report).map_err(|e| format!("Plan's report: {e}"))?;
        let net: Vec<String> = report
            .actions
            .iter()
            .filter(|a| a.kind == "network")
            .map(|a| a.summary.clone())
            .collect();
        match net.is_empty() {
            true => Ok(()),
            false => Err(format!("left to do: {}", net.join("; "))),
        }
    }
}

/// The run's options.
pub struct RunOptions {
    pub seed: u64,
    pub count: usize,
    pub links: Vec<String>,
    pub vlans: bool,
    pub base: Config,
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Summary {
    pub configs: usize,
    pub divergences: usize,
    /// Real applies that failed where the generator expected none.
    pub real_failures: usize,
    pub sim_failures: usize,
    /// Configs meant to be refused that were applied.
    pub real_accepted_refusals: usize,
    pub sim_accepted_refusals: usize,
    pub covered: BTreeMap<&'static str, usize>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} configs, {} divergences, {} real failures",
            self.configs, self.divergences, self.real_failures
        )
    }
}

/// The initial network of the simulated side when there is no machine:
/// the links named, down, MTU 1500, no addresses.
pub fn bare_links(links: &[String]) -> NetState {
    let mut net = NetState::default();
    net.links.push(sysconfd::network::Link::new(1, "lo", 65536));
    for (i, name) in links.iter().enumerate() {
        net.links
            .push(sysconfd::network::Link::new(i as u32 + 2, name, 1500));
    }
    net
}

/// Runs the sequence: on both sides with `real`, else on the simulation
/// alone (where every apply must succeed).
pub async fn run(opts: RunOptions, real: Option<&RealSide>) -> anyhow::Result<Summary> {
    let initial = match real {
        Some(r) => r.network().await?,
        None => bare_links(&opts.links),
    };
    let mut sim = SimSide::start(initial.clone()).await?;
    // The simulation starts from the machine's generation in force too, so a
    // refused step rolls both back to the same configuration (without it,
    // the simulated engine's undo of its first apply could not bring back a
    // VLAN that the machine's configuration had made).
    if let Some(text) = match real {
        Some(r) => r.in_force().await,
        None => None,
    } {
        sim.apply(&text).await.map_err(|e| {
            anyhow::anyhow!("the simulation does not take the configuration in force: {e}")
        })?;
    }
    let mut gen = Generator::new(
        opts.seed,
        GenOptions {
            links: opts.links.clone(),
            vlans: opts.vlans,
            base: opts.base.clone(),
        },
        &initial,
    );
    let mut summary = Summary::default();
    let started = std::time::Instant::now();
    for step in 1..=opts.count {
        let Step { text, refusal } = gen.next_step()?;
        let sim_out = sim.apply(&text).await;
        match (&sim_out, refusal) {
            (Err(_), None) => summary.sim_failures += 1,
            (Ok(()), Some(_)) => summary.sim_accepted_refusals += 1,
            _ => {}
        }
        let Some(real) = real else {
            // Alone, the simulation is held to what the generator expects.
            let unexpected = match (&sim_out, refusal) {
                (Err(e), None) => Some(format!("refused: {e}")),
                (Ok(()), Some(r)) => Some(format!("accepted what the kernel refuses ({r})")),
                _ => None,
            };
            if let Some(why) = unexpected {
                summary.divergences += 1;
                println!("netdiff: step {step}: the simulation {why}; config:\n{text}");
            }
            summary.configs = step;
            progress(step, &summary, started);
            continue;
        };
        let real_out = real.apply(&text).await;
        match (&real_out, refusal) {
            (Err(_), None) => summary.real_failures += 1,
            (Ok(()), Some(r)) => {
                summary.real_accepted_refusals += 1;
                println!(
                    "netdiff: step {step}: the kernel took a config meant to be refused ({r})"
                );
            }
            _ => {}
        }
        let real_net = real.network().await?;
        let (rv, sv) = (
            View::of(&real_net, &opts.links),
            View::of(&sim.network(), &opts.links),
        );
        let diff = rv.diff(&sv);
        if real_out.is_ok() != sim_out.is_ok() || !diff.is_empty() {
            summary.divergences += 1;
            println!("netdiff: divergence at step {step}; config:\n{text}");
            println!("  real: {real_out:?}\n  sim:  {sim_out:?}");
            for d in &diff {
                println!("{d}");
            }
            println!("  real state:\n{rv}  sim state:\n{sv}");
            sim.reset_network(real_net);
        } else if let (Err(e), None) = (&real_out, refusal) {
            println!("netdiff: step {step}: both refused: {e}; config:\n{text}");
        }
        summary.configs = step;
        progress(step, &summary, started);
    }
    summary.covered = gen.covered;
    Ok(summary)
}

fn progress(step: usize, s: &Summary, started: std::time::Instant) {
    if step.is_multiple_of(20) {
        println!(
            "netdiff: {step} steps, {} divergences, {} real failures, {:.1} s",
            s.divergences,
            s.real_failures,
            started.elapsed().as_secs_f64()
        );
    }
}
