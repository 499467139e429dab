//! `appliance berofos …`: drive Berofos failover switches directly.
//!
//! These commands talk to the device itself (UDP 50123 and HTTP), not to
//! sysconfd, so they work on a box whose daemon is down and against any
//! host given on the command line. Devices are named by `--host IP`, by
//! `--device fosN` from bnfos.conf, or, when neither is given, are every
//! device in bnfos.conf (as the Wazo HA script does).

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use berofos::{Berofos, BnfosConf, DeviceInfo, Login, Mac, RelayMode, Status};
use clap::{Args, Subcommand, ValueEnum};

/// Where bnfos.conf lives unless `--conf` says otherwise.
const DEFAULT_CONF: &str = berofos::conf::DEFAULT_PATH;
/// The longest wait accepted for one reply.
const MAX_TIMEOUT_SECS: f64 = 600.0;

/// The `appliance berofos` subcommands.
#[derive(Subcommand)]
pub enum BerofosCommand {
    /// Find Berofos switches: ask one host, or broadcast on the local network
    ///
    /// Sends the GBL4 scan request (UDP port 50123) to --host, or to
    /// 255.255.255.255 when no host is given, and lists every Berofos that
    /// answers: MAC, address, firmware, flash or operational mode, HTTP port,
    /// DHCP and login settings. A directed scan ends at the first reply; a
    /// broadcast listens for the whole --timeout.
    /// Exit status: 0 when at least one device answered, 1 otherwise.
    ///
    /// Examples:
    ///   appliance berofos scan
    ///   appliance berofos scan --host 10.34.1.50 --json
    ///   appliance berofos scan --timeout 1
    #[command(verbatim_doc_comment)]
    Scan(ScanArgs),

    /// Show relay mode, watchdog and power state
    ///
    /// Reads every setting over HTTP (GET /config.txt) and shows where the
    /// relays connect port A (A--B master, A--D slave), the power-on default,
    /// the scenario, the watchdog (off, on with the seconds left, or failure
    /// after kicks stopped) and the power outlets. A value the firmware does
    /// not report shows as unknown (null in JSON); a firmware whose
    /// config.txt layout differs is read with a warning on stderr. Without
    /// --host or --device, every device in bnfos.conf is shown.
    /// Exit status: 0 when every device answered, 1 otherwise.
    ///
    /// Examples:
    ///   appliance berofos status
    ///   appliance berofos status --device fos1 --json
    ///   appliance berofos status --host 10.34.1.50 --password-file /root/fos.pw
    #[command(verbatim_doc_comment)]
    Status {
        /// Print a JSON array with one status object per device.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        target: Target,
    },

    /// Throw the relays: master connects A--B, slave connects A--D
    ///
    /// Sets the relay mode over HTTP (cmd=4, mode=1 or 0) the way the HA
    /// failover does: the master side owns the lines on A--B, the slave
    /// takes them with A--D (also where the relays rest without power).
    /// Without --host or --device, every device in bnfos.conf is switched.
    /// Exit status: 0 when every device was switched, 1 otherwise.
    ///
    /// Examples:
    ///   appliance berofos set-mode slave
    ///   appliance berofos set-mode master --device fos2
    ///   appliance berofos set-mode slave --host 10.34.1.50 --password-file /root/fos.pw
    #[command(verbatim_doc_comment)]
    SetMode {
        /// master (A--B) or slave (A--D).
        mode: Mode,
        #[command(flatten)]
        target: Target,
    },

    /// Restart the watchdog countdown
    ///
    /// Sends the GBL4 kick (UDP port 50123, addressed by MAC; the MAC comes
    /// from --mac, bnfos.conf or a scan of the host). While the watchdog is
    /// armed, a whole interval without a kick throws the relays to A--D.
    /// Without --host or --device, every device in bnfos.conf is kicked.
    /// Exit status: 0 when every device answered, 1 otherwise.
    ///
    /// Examples:
    ///   appliance berofos kick
    ///   appliance berofos kick --device fos1 --timeout 1
    ///   appliance berofos kick --host 10.34.1.50 --mac 00:19:32:00:12:1D
    #[command(verbatim_doc_comment)]
    Kick {
        #[command(flatten)]
        target: Target,
    },
}

/// The two relay positions, as named on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum Mode {
    /// A--B: the master's side.
    Master,
    /// A--D: the slave's side.
    Slave,
}

impl From<Mode> for RelayMode {
    fn from(mode: Mode) -> RelayMode {
        match mode {
            Mode::Master => RelayMode::Master,
            Mode::Slave => RelayMode::Slave,
        }
    }
}

/// Options of `scan`.
#[derive(Args)]
pub struct ScanArgs {
    /// Ask only this IPv4 address (default: broadcast to 255.255.255.255).
    #[arg(long, value_name = "IP")]
    host: Option<Ipv4Addr>,
    /// UDP port of the devices.
    #[arg(long, value_name = "PORT", default_value_t = berofos::DEFAULT_UDP_PORT)]
    udp_port: u16,
    /// Seconds to wait for replies.
    #[arg(long, value_name = "S", default_value = "3", value_parser = parse_timeout)]
    timeout: Duration,
    /// Print a JSON array with one object per device found.
    #[arg(long)]
    json: bool,
}

/// Which devices a command acts on, and how to reach them.
#[derive(Args)]
#[command(next_help_heading = "Device selection")]
pub struct Target {
    /// The device at this IPv4 address; bnfos.conf is not read.
    #[arg(long, value_name = "IP", conflicts_with = "device")]
    host: Option<Ipv4Addr>,
    /// Web login user for --host.
    #[arg(
        long,
        value_name = "USER",
        default_value = "admin",
        requires = "password_file"
    )]
    user: String,
    /// File whose first line is the web password for --host (never given
    /// inline); only its owner may read it (chmod 600).
    #[arg(long, value_name = "FILE", requires = "host")]
    password_file: Option<PathBuf>,
    /// MAC address for UDP requests to --host (found by a scan otherwise).
    #[arg(long, value_name = "MAC", requires = "host")]
    mac: Option<Mac>,
    /// The [fosN] section of bnfos.conf that names the device.
    #[arg(long, value_name = "fosN")]
    device: Option<String>,
    /// The bnfos.conf file read for --device or for every device.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_CONF)]
    conf: PathBuf,
    /// HTTP port of the device [default: 80].
    #[arg(long, value_name = "PORT")]
    http_port: Option<u16>,
    /// UDP port of the device [default: 50123].
    #[arg(long, value_name = "PORT")]
    udp_port: Option<u16>,
    /// Seconds to wait for each reply.
    #[arg(long, value_name = "S", default_value = "3", value_parser = parse_timeout)]
    timeout: Duration,
}

/// A timeout in seconds: more than zero, at most ten minutes.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if secs > 0.0 && secs <= MAX_TIMEOUT_SECS {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(format!(
            "give more than 0 and at most {MAX_TIMEOUT_SECS} seconds"
        ))
    }
}

/// Runs one `appliance berofos` command.
pub fn run(command: BerofosCommand) -> ExitCode {
    match command {
        BerofosCommand::Scan(args) => report(scan(&args)),
        BerofosCommand::Status { target, json } => report(status(&target, json)),
        BerofosCommand::SetMode { mode, target } => report(set_mode(&target, mode.into())),
        BerofosCommand::Kick { target } => report(kick(&target)),
    }
}

/// Exit status of a command; its error, if any, goes to stderr.
fn report(result: Result<bool>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("appliance: {}", message(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each cause said once (the
/// device errors already end with their cause).
fn message(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.ends_with(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}

fn scan(args: &ScanArgs) -> Result<bool> {
    let dest = SocketAddrV4::new(args.host.unwrap_or(Ipv4Addr::BROADCAST), args.udp_port);
    let found = berofos::scan(dest, args.timeout)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        print_scan(&found);
    }
    if found.is_empty() {
        eprintln!(
            "appliance: no Berofos answered within {:.1} s",
            args.timeout.as_secs_f64()
        );
    }
    Ok(!found.is_empty())
}

fn print_scan(found: &[DeviceInfo]) {
    println!(
        "{:<17}  {:<15}  {:<15}  {:<8}  {:<11}  {:>5}  {:<4}  LOGIN",
        "MAC", "ADDRESS", "NETMASK", "FIRMWARE", "MODE", "HTTP", "DHCP"
    );
    for info in found {
        let mode = if info.flash_mode {
            "flash"
        } else {
            "operational"
        };
        println!(
            "{:<17}  {:<15}  {:<15}  {:<8}  {:<11}  {:>5}  {:<4}  {}",
            info.mac.to_string(),
            info.address.to_string(),
            info.netmask.to_string(),
            info.firmware.to_string(),
            mode,
            info.http_port,
            on_off(info.dhcp),
            on_off(info.http_auth),
        );
    }
    println!("{} device(s) found.", found.len());
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

fn status(target: &Target, json: bool) -> Result<bool> {
    let mut statuses: Vec<Status> = Vec::new();
    let all_ok = for_each(target, |device| {
        let status = device.status()?;
        for warning in &status.warnings {
            eprintln!("appliance: warning: {}: {warning}", device.label());
        }
        statuses.push(status);
        Ok(())
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&statuses)?);
    } else {
        let shown: Vec<String> = statuses.iter().map(Status::to_string).collect();
        print!("{}", shown.join("\n"));
    }
    Ok(all_ok)
}

fn set_mode(target: &Target, mode: RelayMode) -> Result<bool> {
    for_each(target, |device| {
        device.set_relay_mode(mode)?;
        println!("{}: relays set to {mode}", device.label());
        Ok(())
    })
}

fn kick(target: &Target) -> Result<bool> {
    for_each(target, |device| {
        device.kick()?;
        println!("{}: watchdog kicked", device.label());
        Ok(())
    })
}

/// Runs `action` on every selected device, going on after a failure (each
/// is reported); true when every device succeeded.
fn for_each(target: &Target, mut action: impl FnMut(&Berofos) -> Result<()>) -> Result<bool> {
    let mut all_ok = true;
    for device in target.devices()? {
        if let Err(e) = action(&device) {
            eprintln!("appliance: {}", message(&e));
            all_ok = false;
        }
    }
    Ok(all_ok)
}

impl Target {
    /// The selected devices, with the ports and timeout applied.
    fn devices(&self) -> Result<Vec<Berofos>> {
        let devices = match self.host {
            Some(host) => vec![self.at_host(host)?],
            None => self.in_conf()?,
        };
        Ok(devices.into_iter().map(|d| self.tuned(d)).collect())
    }

    fn at_host(&self, host: Ipv4Addr) -> Result<Berofos> {
        let mut device = Berofos::new(host);
        if let Some(file) = &self.password_file {
            let password = read_password(file, host)?;
            device = device.with_login(Login::new(&self.user, password));
        }
        if let Some(mac) = self.mac {
            device = device.with_mac(mac);
        }
        Ok(device)
    }

    fn in_conf(&self) -> Result<Vec<Berofos>> {
        let path = self.conf.as_path();
        let conf = BnfosConf::load(path).with_context(|| self.nothing_selected())?;
        let sections = match &self.device {
            Some(name) => vec![conf.device(name).cloned().ok_or_else(|| {
                berofos::Error::ConfDeviceMissing {
                    name: name.clone(),
                    path: path.display().to_string(),
                }
            })?],
            None => conf.devices,
        };
        if sections.is_empty() {
            bail!("{} lists no device; {}", path.display(), HOW_TO_SELECT);
        }
        let devices = sections.iter().map(Berofos::from_conf);
        Ok(devices.collect::<Result<_, _>>()?)
    }

    /// What to say when bnfos.conf cannot be read.
    fn nothing_selected(&self) -> String {
        match &self.device {
            Some(name) => format!("cannot look up {name}"),
            None => format!("no device given and none configured; {HOW_TO_SELECT}"),
        }
    }

    fn tuned(&self, mut device: Berofos) -> Berofos {
        if let Some(port) = self.http_port {
            device = device.with_http_port(port);
        }
        if let Some(port) = self.udp_port {
            device = device.with_udp_port(port);
        }
        device.with_timeout(self.timeout)
    }
}

/// How a user names a device.
const HOW_TO_SELECT: &str =
    "give --host IP, or --device fosN with a bnfos.conf (`appliance berofos scan` finds devices)";

/// The first line of a password file, without its line ending; a file
/// group or others may read is refused.
fn read_password(file: &Path, host: Ipv4Addr) -> Result<String> {
    let text = berofos::read_secret_file(file).with_context(|| {
        format!(
            "cannot read the password file for {host}: {}",
            file.display()
        )
    })?;
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        bail!("the password file for {host} is empty: {}", file.display());
    }
    Ok(line.to_string())
}
