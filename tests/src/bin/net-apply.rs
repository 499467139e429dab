//! Applies the `[network]` (and with `--host`, `[system]`/`[dns]`) part of an
//! appliance.toml the way sysconfd does: observe, plan, apply, verify. Prints
//! one JSON object: the plan's lines and actions, what verify found, and how
//! long it took. Run it inside a namespace (`ip netns exec`, `unshare --uts`).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use appliance::config::network::Role;
use appliance::config::Config;
use clap::Parser;
use serde_json::json;
use sysconfd::files::write_atomic;
use sysconfd::host;
use sysconfd::network::{self, Netlink};
use sysconfd::root::Root;

#[derive(Parser)]
struct Args {
    /// The appliance.toml to apply.
    config: PathBuf,
    /// Only print the plan.
    #[arg(long)]
    plan_only: bool,
    /// Only print the observed network state.
    #[arg(long)]
    observe: bool,
    /// Also write the host identity files under --root and set the host name.
    #[arg(long)]
    host: bool,
    /// Root prefix for the host identity files.
    #[arg(long, default_value = "/")]
    root: PathBuf,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("{}", args.config.display()))?;
    let config = appliance::config::load(&text, &args.config.display().to_string())
        .map_err(|r| anyhow!(r.render()))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut out = rt.block_on(network_step(&args, &config))?;
    if args.host {
        out["host"] = host_step(&args, &config)?;
    }
    println!("{out}");
    Ok(())
}

async fn network_step(args: &Args, config: &Config) -> Result<serde_json::Value> {
    let started = Instant::now();
    let nl = Netlink::connect()?;
    let observed = nl.observe().await?;
    if args.observe {
        return Ok(serde_json::to_value(&observed)?);
    }
    let plan = network::plan(&config.network, &observed);
    let planned_us = started.elapsed().as_micros();
    if !args.plan_only {
        nl.apply_all(&plan).await?;
    }
    let applied_us = started.elapsed().as_micros();
    let verified = if args.plan_only {
        json!(null)
    } else if plan.is_empty() {
        json!("ok")
    } else {
        match network::verify(&config.network, &nl.observe().await?) {
            Ok(()) => json!("ok"),
            Err(left) => json!(left),
        }
    };
    Ok(json!({
        "plan": plan.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        "actions": plan,
        "verify": verified,
        "absent": network::absent_links(&config.network, &observed),
        "planned_us": planned_us,
        "applied_us": applied_us,
    }))
}

fn host_step(args: &Args, config: &Config) -> Result<serde_json::Value> {
    let root = Root::new(&args.root);
    let specs = host::files(&config.system, config.dns.as_ref(), voip_address(config));
    let mut written = Vec::new();
    for spec in specs.iter().filter(|s| !s.is_current(&root)) {
        write_atomic(&root.path(&spec.path), spec.contents.as_bytes(), spec.mode)?;
        written.push(spec.path.display().to_string());
    }
    if host::current_hostname()? != config.system.hostname.as_str() {
        host::set_hostname(&config.system.hostname)?;
    }
    Ok(json!({ "written": written, "hostname": host::current_hostname()? }))
}

fn voip_address(config: &Config) -> Option<Ipv4Addr> {
    config
        .network
        .links()
        .find(|l| l.role == Role::Voip)
        .and_then(|l| l.address)
        .map(|a| a.addr)
}
