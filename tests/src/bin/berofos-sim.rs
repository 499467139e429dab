//! `berofos-sim`: a simulated Berofos failover switch on the given address.
//!
//! ```text
//! berofos-sim --bind 127.0.0.1 --udp-port 50123 --http-port 80 \
//!     [--login admin:secret [--auth basic|digest]] [--mac 00:19:32:00:00:01] \
//!     [--omit-key 6_wstate …] [--magic 0.2] [--state-file state.json]
//! ```

use std::net::Ipv4Addr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Parser;
use telbox_tests::berofos_sim::{self, Layout, Scheme, SimConfig, MAGIC_VERSION};

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
    /// How the web server asks for the login: basic, or digest (MD5, qop=auth).
    #[arg(long, default_value = "basic", value_parser = parse_scheme)]
    auth: Scheme,
    /// A config.txt key the firmware does not send (repeatable).
    #[arg(long = "omit-key", value_name = "KEY")]
    omit_keys: Vec<String>,
    /// The bnfos_confmap_magic version config.txt starts with.
    #[arg(long, default_value = MAGIC_VERSION)]
    magic: String,
    /// MAC address, XX:XX:XX:XX:XX:XX.
    #[arg(long, default_value = "00:19:32:00:00:01")]
    mac: String,
    /// JSON file rewritten with the device state whenever it changes.
    #[arg(long)]
    state_file: Option<PathBuf>,
}

fn parse_scheme(text: &str) -> Result<Scheme, String> {
    text.parse()
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
        auth: args.auth,
        layout: Layout {
            magic: args.magic,
            omitted_keys: args.omit_keys,
        },
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
