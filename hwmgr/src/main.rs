//! `hwmgr`: offline view of the telephony hardware, for admins and tests.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use appliance::config::telephony::Telephony;
use clap::{Parser, Subcommand};
use hwmgr::detect::{self, Card, Inventory};
use hwmgr::status::{self, SpanStatus};
use hwmgr::Root;

/// Telephony hardware manager: DAHDI cards, spans and their status.
///
/// hwmgr reads the machine the way dahdi-tools do — /sys/bus/pci,
/// /sys/bus/dahdi_devices, /sys/bus/dahdi_spans and /proc/dahdi — but never
/// writes to it. Every path is taken under --root, so the same commands run
/// against a copied or generated tree (the fixture trees of the tests, or a
/// dump made with dahdi-tools' dump_sys_state).
///
/// Exit status: 0 on success, 1 when the tree cannot be read.
#[derive(Parser)]
#[command(name = "hwmgr", version, verbatim_doc_comment)]
struct Cli {
    /// Directory standing for `/` (default: the real system).
    #[arg(long, global = true, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// Print JSON instead of text, for scripts and the sysconfd daemon.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List telephony cards, like dahdi_hardware.
    ///
    /// One line per recognised PCI or USB card: bus location, the driver
    /// dahdi-tools expect followed by `+` when it is bound or `-` when not,
    /// the vendor:device id and the card's description. Cards are matched
    /// against the full dahdi-tools id table (vendor:device/subvendor:subdevice,
    /// then vendor:device/subvendor, then vendor:device). A warning goes to
    /// stderr when a different driver is bound. With --json the output also
    /// holds the DAHDI device (hardware id, location, span types), assigned
    /// spans, echo canceller and firmware facts of every card.
    #[command(verbatim_doc_comment)]
    Scan,
    /// Show span status: alarms, counters, channels.
    ///
    /// One block per assigned span (/proc/dahdi/N): number, name, type,
    /// state (OK, UNCONFIGURED or the alarms: RED, YELLOW, BLUE, LOOPBACK,
    /// RECOVERING, NOTOPEN, plus LOS/LFA/LMFA from sysfs), timing master and
    /// clock source, channel range, and the non-zero error counters: BPV,
    /// CRC4, E-bit, FAS, IRQ misses (should not grow: cards need 1000
    /// interrupts a second), timing slips. --verbose adds one line per
    /// channel.
    #[command(verbatim_doc_comment)]
    Spans {
        /// Also list every channel with its signalling and echo canceller.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Propose a [telephony] section for the detected cards, like dahdi_genconf.
    ///
    /// Prints TOML to paste into appliance.toml (or JSON with --json).
    /// Cards are numbered in bus order from span 1 and channel 1, and every
    /// span and channel number is written out, so adding or removing a
    /// card later never renumbers the others. TE BRI ports face a provider
    /// and NT ones a PBX; E1/T1/J1 ports are proposed towards a provider
    /// (change `role` for PBX links). Analog ports are listed when their
    /// module type shows in channels already configured.
    #[command(verbatim_doc_comment)]
    Propose,
    /// Write every DAHDI, Asterisk and modprobe file telbox owns.
    ///
    /// Reads the [telephony] section of FILE (a whole appliance.toml,
    /// validated first), the hardware and the firmware in /lib/firmware
    /// under --root, and writes the files under DIR with their system
    /// paths: DIR/etc/dahdi/modules, DIR/etc/modprobe.d/telbox-dahdi.conf,
    /// DIR/etc/dahdi/span-types.conf, DIR/etc/dahdi/assigned-spans.conf,
    /// DIR/etc/dahdi/system.conf, DIR/etc/asterisk/dahdi-channels.conf,
    /// DIR/etc/asterisk/chan_dahdi-telbox.conf and
    /// DIR/etc/asterisk/modules-telbox.conf. Then prints the steps that
    /// would apply them on a box that has none of them yet. A card whose
    /// firmware is missing is refused with the package to install.
    #[command(verbatim_doc_comment)]
    Render {
        /// The appliance.toml to read.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Directory standing for `/` of the output.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    telbox_program::docs::write_if_asked::<Cli>("1");
    telbox_program::quiet_on_closed_pipe();
    let cli = Cli::parse();
    let root = Root::new(&cli.root);
    match cli.command {
        Command::Scan => {
            let inventory = detect::scan(&root).context("scanning the hardware")?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&inventory)?);
            } else {
                print_scan(&inventory);
            }
        }
        Command::Spans { verbose } => {
            let spans = status::read_spans(&root).context("reading span status")?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&spans)?);
            } else {
                spans.iter().for_each(|s| print_span(s, verbose));
            }
        }
        Command::Propose => propose(&root, cli.json)?,
        Command::Render { config, out } => render(&root, &config, &out, cli.json)?,
    }
    Ok(())
}

fn propose(root: &Root, json: bool) -> anyhow::Result<()> {
    let inventory = detect::scan(root).context("scanning the hardware")?;
    let spans = status::read_spans(root).unwrap_or_default();
    let ports = hwmgr::propose::ports_from_status(&inventory, &spans);
    let telephony = hwmgr::propose::propose_with_ports(&inventory, &ports);
    if json {
        println!("{}", serde_json::to_string_pretty(&telephony)?);
    } else {
        #[derive(serde::Serialize)]
        struct Section<'a> {
            telephony: &'a Telephony,
        }
        print!(
            "{}",
            toml::to_string(&Section {
                telephony: &telephony
            })?
        );
    }
    Ok(())
}

fn render(root: &Root, config: &Path, out: &Path, json: bool) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(config).with_context(|| format!("reading {}", config.display()))?;
    let origin = config.display().to_string();
    let loaded =
        appliance::config::load(&text, &origin).map_err(|report| anyhow::anyhow!("{report}"))?;
    let inventory = detect::scan(root).context("scanning the hardware")?;
    let catalog = hwmgr::firmware::Catalog::for_root(root)?;
    let firmware = hwmgr::firmware::FirmwarePresence::observe(root, &catalog)?;
    let files = hwmgr::render::render(&loaded.telephony, &inventory, &firmware)?;
    for file in &files {
        let rel = file.path.strip_prefix("/").unwrap_or(&file.path);
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, &file.contents)
            .with_context(|| format!("writing {}", path.display()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(file.mode))?;
    }
    let steps = hwmgr::render::apply_steps(&[], &files, &inventory);
    if json {
        #[derive(serde::Serialize)]
        struct Rendered<'a> {
            files: Vec<&'a Path>,
            steps: &'a [hwmgr::render::DahdiStep],
        }
        let files = files.iter().map(|f| f.path.as_path()).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&Rendered {
                files,
                steps: &steps
            })?
        );
    } else {
        files.iter().for_each(|f| {
            println!(
                "wrote {}",
                out.join(f.path.strip_prefix("/").unwrap_or(&f.path))
                    .display()
            )
        });
        steps.iter().for_each(|s| println!("then: {s}"));
    }
    Ok(())
}

fn print_scan(inventory: &Inventory) {
    for card in &inventory.cards {
        warn_wrong_driver(card);
        let mark = if card.bound_driver().is_some() {
            '+'
        } else {
            '-'
        };
        let driver = format!("{}{mark}", card.driver());
        println!(
            "{:<20} {:<12} {} {}",
            card.location(),
            driver,
            card.id(),
            card.description()
        );
    }
}

fn warn_wrong_driver(card: &Card) {
    if let Some(bound) = card.bound_driver().filter(|b| *b != card.driver().name()) {
        eprintln!(
            "{}: driver should be '{}' but is actually '{bound}'",
            card.location(),
            card.driver()
        );
    }
}

fn print_span(span: &SpanStatus, verbose: bool) {
    let ty = span
        .span_type
        .map(|t| t.to_string())
        .unwrap_or_else(|| "?".into());
    let state = match span.state {
        status::SpanState::Alarm => span.alarms.to_string(),
        other => format!("{other:?}").to_uppercase(),
    };
    let mut flags = String::new();
    if span.master {
        flags.push_str(" master");
    }
    if span.clock_source {
        flags.push_str(" clock-source");
    }
    let chans = match (span.channels.first(), span.channels.last()) {
        (Some(a), Some(b)) => format!("{}-{}", a.number, b.number),
        _ => "-".into(),
    };
    println!(
        "span {:<3} {:<12} {:<12} {:<16} chans {chans}{flags}",
        span.number, span.name, ty, state
    );
    println!(
        "         \"{}\"{}",
        span.description,
        span.lineconfig
            .as_deref()
            .map(|l| format!(" {l}"))
            .unwrap_or_default()
    );
    let c = &span.counters;
    let counters = [
        ("BPV", c.bpv),
        ("CRC4", c.crc4),
        ("E-bit", c.ebit),
        ("FAS", c.fas),
        ("IRQ misses", c.irq_misses),
        ("slips", c.timing_slips),
    ];
    let nonzero: Vec<String> = counters
        .iter()
        .filter(|(_, v)| *v > 0)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if !nonzero.is_empty() {
        println!("         {}", nonzero.join(", "));
    }
    if verbose {
        for ch in &span.channels {
            let sig =
                ch.signalling
                    .as_deref()
                    .unwrap_or(if ch.reserved { "(no module)" } else { "-" });
            let ec = ch
                .echo_canceller
                .as_ref()
                .map(|e| {
                    format!(
                        " EC {} {}",
                        e.name,
                        if e.active { "active" } else { "inactive" }
                    )
                })
                .unwrap_or_default();
            let used = if ch.in_use { " in-use" } else { "" };
            println!("    {:>4} {:<16} {sig}{used}{ec}", ch.number, ch.name);
        }
    }
}
