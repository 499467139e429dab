//! The differential network test: generated configs applied to this
//! machine through the running sysconfd (over D-Bus) and to an engine over
//! the simulated machine started from this machine's links; reports every
//! step where the two disagree. See `telbox_tests::netdiff`.
//!
//! Run as root beside sysconfd, in its network namespace:
//!
//! ```text
//! netdiff --seed 1 --count 200 --links eth0,eth1 [--base FILE] [--bus system|ADDRESS] [--sim-only] [--no-vlans]
//! ```
//!
//! Ends with `netdiff: seed S, K configs, D divergences, F real failures`;
//! exits 1 when D or F is not 0, 2 when it could not run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use telbox_tests::netdiff::{self, RealSide, RunOptions, MINIMAL_BASE};

#[derive(Parser)]
#[command(name = "netdiff")]
struct Args {
    /// Seed of the config sequence.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many configs to apply.
    #[arg(long, default_value_t = 200)]
    count: usize,
    /// The box's links, comma-separated; the first keeps the uplink address
    /// 10.0.2.15/24 and the default route via 10.0.2.2.
    #[arg(long, value_delimiter = ',', default_value = "eth0,eth1")]
    links: Vec<String>,
    /// The config whose sections other than [network] every step keeps
    /// (default: host name and domain only, NTP not served).
    #[arg(long)]
    base: Option<PathBuf>,
    /// `system`, or a D-Bus address such as `unix:path=/run/bus`.
    #[arg(long, default_value = "system")]
    bus: String,
    /// Only the simulated side: no daemon, no machine touched.
    #[arg(long)]
    sim_only: bool,
    /// Declare no VLANs (a kernel without 8021q).
    #[arg(long)]
    no_vlans: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("netdiff: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> anyhow::Result<ExitCode> {
    let base_text = match &args.base {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", p.display()))?,
        None => MINIMAL_BASE.to_owned(),
    };
    let base = appliance::config::load(&base_text, "base")
        .map_err(|r| anyhow::anyhow!("the base config is not valid:\n{r}"))?;
    anyhow::ensure!(!args.links.is_empty(), "--links names no link");
    let opts = RunOptions {
        seed: args.seed,
        count: args.count,
        links: args.links.clone(),
        vlans: !args.no_vlans,
        base,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let summary = rt.block_on(async {
        let real = match args.sim_only {
            true => None,
            false => {
                let address = (args.bus != "system").then_some(args.bus.as_str());
                Some(RealSide::connect(address).await?)
            }
        };
        netdiff::run(opts, real.as_ref()).await
    })?;
    let covered: Vec<String> = summary
        .covered
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!("netdiff: covered: {}", covered.join(", "));
    if summary.real_accepted_refusals + summary.sim_accepted_refusals > 0 {
        println!(
            "netdiff: configs meant to be refused but applied: {} real, {} simulated",
            summary.real_accepted_refusals, summary.sim_accepted_refusals
        );
    }
    println!(
        "netdiff: seed {}, {} configs, {} divergences, {} real failures",
        args.seed, summary.configs, summary.divergences, summary.real_failures
    );
    Ok(match summary.divergences + summary.real_failures {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}
