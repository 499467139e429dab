//! `berofos-sim`: a simulated Berofos failover switch on the given address.
//!
//! ```text
//! berofos-sim --bind 127.0.0.1 --udp-port 50123 --http-port 80 \
//!     [--login admin:secret] [--mac 00:19:32:00:00:01] [--state-file state.json]
//! ```

use std::net::Ipv4Addr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Parser;
use telbox_tests::berofos_sim::{self, SimConfig};

/// Simulated beroNet Berofos: GBL4 over UDP and the HTTP settings API.
#[derive(Debug, Parser)]
#[command(name = "berofos-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: Ipv4Addr,
    /// UDP port of the GBL4 service (0 picks a free one).
    #[arg(long, default_value_t = 50123)]
    udp_port: u16,
    /// HTTP port of the web server (0 picks a free one).
    #[arg(long, default_value_t = 80)]
    http_port: u16,
    /// Web login `user:password`; turns password protection on.
    #[arg(long)]
    login: Option<String>,
    /// MAC address, XX:XX:XX:XX:XX:XX.
    #[arg(long, default_value = "00:19:32:00:00:01")]
    mac: String,
    /// JSON file rewritten with the device state whenever it changes.
    #[arg(long)]
    state_file: Option<PathBuf>,
}

fn parse_mac(text: &str) -> Result<[u8; 6]> {
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() != 6 {
        bail!("--mac {text:?}: expected XX:XX:XX:XX:XX:XX");
    }
    let mut mac = [0u8; 6];
    for (byte, part) in mac.iter_mut().zip(parts) {
        *byte = u8::from_str_radix(part, 16)
            .with_context(|| format!("--mac {text:?}: {part:?} is not a hex byte"))?;
    }
    Ok(mac)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let login = match &args.login {
        Some(text) => {
            let (user, password) = text
                .split_once(':')
                .context("--login: expected user:password")?;
            Some((user.to_string(), password.to_string()))
        }
        None => None,
    };
    let config = SimConfig {
        bind: args.bind,
        udp_port: args.udp_port,
        http_port: args.http_port,
        login,
        mac: parse_mac(&args.mac)?,
        state_file: args.state_file,
    };
    let sim = berofos_sim::start(config).context("cannot start the simulator")?;
    println!(
        "berofos-sim: mac {}, UDP {}, HTTP {}",
        sim.mac(),
        sim.udp_addr(),
        sim.http_addr()
    );
    loop {
        std::thread::park();
    }
}
