//! sysconfd: the telbox system agent.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use sysconfd::bus::{self, Shared};
use sysconfd::engine::{
    desired::CONFIG_PATH, ApplyRequest, Engine, Options, ServicesMode, FAULT_ENV,
};
use sysconfd::ha::{Ha, HaServices};
use sysconfd::root::Root;
use tokio::sync::RwLock;

/// Makes this machine match /etc/telbox/appliance.toml and answers on D-Bus
/// (org.telbox.Sysconfd1). Without a subcommand it runs as the daemon.
///
/// At start it finishes or undoes an apply a crash interrupted, rolls back a
/// generation still waiting for its confirm, and on first boot applies the
/// seed configuration the installer left.
#[derive(Parser)]
#[command(name = "sysconfd", version, about)]
struct Cli {
    #[command(flatten)]
    place: Place,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args, Clone)]
struct Place {
    /// Root prefix every system path goes under (tests and the demo use a scratch tree).
    #[arg(long, value_name = "DIR", default_value = "/", global = true)]
    root: PathBuf,
    /// Where generations, the apply journal and pending confirms are kept
    /// [default: ROOT/var/lib/telbox].
    #[arg(long, value_name = "DIR", global = true)]
    state_dir: Option<PathBuf>,
    /// Set the kernel host name (default: only when --root is /).
    #[arg(long, global = true)]
    set_hostname: Option<bool>,
    /// Leave links, addresses and routes alone.
    #[arg(long, global = true)]
    no_network: bool,
    /// How the DHCP and NTP daemons are run [default: systemd when it runs
    /// this machine; else supervise for the daemon and none for one-shot commands].
    #[arg(long, value_enum, value_name = "MODE", global = true)]
    services: Option<ServicesMode>,
    /// With --services supervise: the program that runs the HA service
    /// NAME (such as asterisk=/usr/sbin/asterisk-foreground); repeatable.
    #[arg(long = "ha-program", value_name = "NAME=PATH", value_parser = parse_program, global = true)]
    ha_programs: Vec<(String, PathBuf)>,
}

fn parse_program(text: &str) -> Result<(String, PathBuf), String> {
    let (name, path) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: expected NAME=PATH"))?;
    let name: appliance::config::values::Ident = name.parse()?;
    Ok((name.to_string(), PathBuf::from(path)))
}

#[derive(Subcommand)]
enum Command {
    /// Apply a configuration file without the bus (first boot, benchmarks) and exit.
    Apply {
        /// Apply once and exit (the only mode).
        #[arg(long, required = true)]
        once: bool,
        /// The configuration file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Plan a configuration file against the system without the bus; touches nothing.
    Plan {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Print {"actions": [...]} instead of numbered lines.
        #[arg(long)]
        json: bool,
    },
    /// Finish or undo an interrupted apply and settle a pending confirm, then exit.
    Recover,
}

impl Place {
    fn options(&self, daemon: bool) -> Options {
        let root = Root::new(&self.root);
        let state_dir = self
            .state_dir
            .clone()
            .unwrap_or_else(|| root.path("/var/lib/telbox"));
        let fault_abort_at = std::env::var(FAULT_ENV).ok().and_then(|v| v.parse().ok());
        Options {
            set_hostname: self.set_hostname.unwrap_or(root.is_system()),
            network: !self.no_network,
            services: self.services.unwrap_or_else(|| default_services(daemon)),
            root,
            state_dir,
            fault_abort_at,
        }
    }
}

fn default_services(daemon: bool) -> ServicesMode {
    if std::path::Path::new("/run/systemd/system").exists() {
        ServicesMode::Systemd
    } else if daemon {
        ServicesMode::Supervise
    } else {
        ServicesMode::None
    }
}

fn main() -> ExitCode {
    telbox_program::docs::write_if_asked::<Cli>("8");
    sysconfd::logging::init();
    let cli = Cli::parse();
    let runtime = match cli.command {
        // One-shot commands wait on one thing at a time: no worker threads.
        Some(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        None => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
    };
    let result = runtime.context("starting the runtime").and_then(|rt| {
        rt.block_on(async {
            match cli.command {
                Some(Command::Apply { config, .. }) => {
                    apply_once(cli.place.options(false), config).await
                }
                Some(Command::Plan { config, json }) => {
                    // Only this one prints a listing; the daemon keeps
                    // SIGPIPE ignored, so a peer closing a socket cannot end it.
                    telbox_program::quiet_on_closed_pipe();
                    plan_once(cli.place.options(false), config, json).await
                }
                Some(Command::Recover) => recover_once(cli.place.options(false)).await,
                None => {
                    let programs = cli.place.ha_programs.iter().cloned().collect();
                    run_daemon(cli.place.options(true), programs).await
                }
            }
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sysconfd: {}", causes(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, each once: most of sysconfd's errors already
/// name their source in their own words, so a cause whose words are there
/// is not repeated.
fn causes(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let words = cause.to_string();
        if out.contains(&words) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&words);
    }
    out
}

async fn apply_once(opts: Options, config: PathBuf) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&config)
        .with_context(|| format!("reading {}", config.display()))?;
    let (mut engine, _) = Engine::open(opts).await?;
    let uid = nix::unistd::getuid().as_raw();
    let applied = engine
        .apply(ApplyRequest {
            text,
            base: None,
            confirm_timeout: None,
            caller_uid: uid,
        })
        .await?;
    if applied.changed {
        println!(
            "generation {} applied ({} actions)",
            applied.generation,
            applied.plan.len()
        );
    } else {
        println!(
            "nothing to do: generation {} is in force",
            applied.generation
        );
    }
    Ok(())
}

async fn plan_once(opts: Options, config: PathBuf, json: bool) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&config)
        .with_context(|| format!("reading {}", config.display()))?;
    let (engine, _) = Engine::open(opts).await?;
    let plan = engine.plan(&text).await?;
    if json {
        let report = appliance::dbus::PlanReport {
            actions: plan.items(),
            warnings: Vec::new(),
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{plan}");
    }
    Ok(())
}

async fn recover_once(opts: Options) -> anyhow::Result<()> {
    let (engine, recovery) = Engine::open(opts).await?;
    if let Some(d) = engine.degraded() {
        let mut why = format!(
            "the interrupted apply of generation {} could not be finished: {}",
            d.generation, d.cause
        );
        for extra in [&d.restore_error, &d.record_error].into_iter().flatten() {
            why.push_str("; ");
            why.push_str(extra);
        }
        if !d.differs.is_empty() {
            why.push_str(&format!("; still differs: {}", d.differs.join(", ")));
        }
        anyhow::bail!("{why}");
    }
    match (recovery.interrupted, recovery.rolled_back) {
        (None, None) => println!("nothing to recover"),
        (i, r) => {
            if let Some(g) = i {
                println!("undid the interrupted apply of generation {g}");
            }
            if let Some(g) = r {
                println!("rolled back generation {g}, which was not confirmed");
            }
        }
    }
    Ok(())
}

/// How the services HA starts and stops are run.
async fn ha_services(
    opts: &Options,
    programs: &std::collections::BTreeMap<String, PathBuf>,
) -> anyhow::Result<HaServices> {
    Ok(match opts.services {
        ServicesMode::Systemd => HaServices::Systemd(
            sysconfd::services::Systemd::system()
                .await
                .context("reaching systemd for the HA services")?,
        ),
        ServicesMode::Supervise => HaServices::supervise(programs, &opts.state_dir),
        ServicesMode::None => HaServices::Unmanaged,
    })
}

async fn run_daemon(
    opts: Options,
    programs: std::collections::BTreeMap<String, PathBuf>,
) -> anyhow::Result<()> {
    let state_dir = opts.state_dir.clone();
    let seed = opts.root.path(CONFIG_PATH);
    let root = opts.root.clone();
    let services = ha_services(&opts, &programs).await?;
    let (mut engine, recovery) = Engine::open(opts).await?;
    engine
        .current_generation()
        .context("reading the generation store")?;
    if let Some(g) = recovery.interrupted {
        tracing::warn!(generation = g, "undid an interrupted apply");
    }
    if let Some(g) = recovery.rolled_back {
        tracing::warn!(
            generation = g,
            "rolled back a generation that was not confirmed before the restart"
        );
    }
    // Before keepalived runs: what HA did before a restart, and the track
    // files keepalived starts from.
    let in_force = engine.current_config().unwrap_or_default();
    let ha = Ha::prepare(
        &root,
        &state_dir,
        services,
        bus::settings_of(&in_force, &root),
        Arc::new(sysconfd::os::ha::RealHaOs),
    );
    apply_seed(&mut engine, &seed).await;
    if let Err(e) = engine.converge().await {
        tracing::error!(error = %e, "could not bring the system to the generation in force");
    }
    let engine = Arc::new(RwLock::new(engine));
    sysconfd::engine::confirm::enforce(engine.clone());
    let shared = Arc::new(Shared {
        engine,
        state_dir,
        ha: ha.handle(),
    });
    ha.spawn();
    bus::follow_config(shared.clone());
    let conn = bus::serve(shared)
        .await
        .context("taking org.telbox.Sysconfd1 on the system bus")?;
    tracing::info!("sysconfd ready on the system bus");
    tokio::select! {
        _ = wait_for_stop() => {
            tracing::info!("stopping");
            Ok(())
        }
        why = bus::lost(&conn) => {
            tracing::error!(reason = %why, "no longer reachable on the bus; exiting");
            anyhow::bail!("{why}; exiting so the service manager starts sysconfd again")
        }
    }
}

/// On first boot, applies the configuration the installer left.
async fn apply_seed(engine: &mut Engine, seed: &std::path::Path) {
    if engine.current_generation().unwrap_or(1) != 0 {
        return;
    }
    let Ok(text) = std::fs::read_to_string(seed) else {
        return;
    };
    let req = ApplyRequest {
        text,
        base: None,
        confirm_timeout: None,
        caller_uid: 0,
    };
    match engine.apply(req).await {
        Ok(a) => tracing::info!(generation = a.generation, "applied the seed configuration"),
        Err(e) => tracing::error!(error = %e, "the seed configuration was not applied"),
    }
}

async fn wait_for_stop() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
