//! `appliance firmware list|needed|install|remove|upgrade`: the firmware
//! packages of the telephony cards, through sysconfd (which owns /lib/firmware).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use appliance::firmware::{
    ChangeReport, FileState, FirmwareList, NeedReason, NeededReport, PackageChange,
};
use clap::Subcommand;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::bus::{self, CallError, CallResult};
use crate::views::print_json;
use telbox_client::FirmwareProxy;

#[derive(Subcommand)]
pub enum FirmwareCommand {
    /// List the firmware packages telbox knows, and which are installed.
    ///
    /// One line per package of the catalog: its name (what install and
    /// remove take), the catalog's version, the version installed (`-` when
    /// none) and the firmware files it provides. A package whose files were
    /// changed or deleted since telbox installed them says so. --json adds
    /// each package's archive, URL, size, checksums (SHA-256 where known;
    /// upstream's SHA-1 otherwise, with where it comes from), the cards,
    /// drivers and echo cancellers that need it, and the SHA-256 of every
    /// file installed.
    #[command(verbatim_doc_comment)]
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show what firmware the box needs, and the commands that install it.
    ///
    /// Needs come from the cards present (the card catalog names each
    /// card's own firmware and its echo canceller's) and from kernel log
    /// lines where a driver says a dahdi-fw-*.bin file is missing or
    /// invalid: sysconfd reads the kernel log itself, and --kernel-log adds
    /// a saved one (dmesg, journalctl -k or /var/log/kern.log text). A
    /// need is required when the card does not work without it, or when
    /// the configuration turns the hardware echo canceller on; the
    /// canceller firmware of other cards is optional. The output ends with
    /// `appliance firmware install PACKAGE` for each required package that
    /// is missing.
    #[command(verbatim_doc_comment)]
    Needed {
        /// Kernel log text to read too; `-` reads it from standard input.
        #[arg(long, value_name = "FILE")]
        kernel_log: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Install a firmware package into /lib/firmware.
    ///
    /// SOURCE is a package name (`digium-oct6114-064`: downloaded from the
    /// catalog's URL), an archive file or a directory holding archives (a
    /// USB key, a bundle shipped in the image), or an http:// or https://
    /// URL of an archive. The package is known by the archive's file name,
    /// else by its checksum, else by --package.
    ///
    /// The archive's size and checksums are checked against the catalog
    /// before anything is written: a mismatch installs nothing. Its
    /// dahdi-fw-*.bin files are extracted under temporary names next to
    /// their place, synced and renamed into it, so an interrupted install
    /// leaves no partial firmware file. Every file written is recorded with
    /// its SHA-256, so `remove` and `upgrade` touch exactly those files. A
    /// file in the way that telbox did not install, or that was changed by
    /// hand, is not overwritten unless --force. A progress bar follows the
    /// download and the extraction when standard output is a terminal.
    ///
    /// Needs root or the telbox-admin group. Then apply the configuration
    /// again (`appliance config apply`) for the drivers to load it.
    #[command(verbatim_doc_comment)]
    Install {
        /// A package name, an archive, a directory or an http(s) URL.
        source: String,
        /// The package SOURCE holds, when its file name does not say.
        #[arg(long, value_name = "NAME")]
        package: Option<String>,
        /// The SHA-256 the archive must have; needed for packages whose
        /// checksum upstream does not publish.
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
        /// Replace files changed by hand or not installed by telbox.
        #[arg(long)]
        force: bool,
        /// Print the change as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove an installed firmware package.
    ///
    /// Deletes exactly the files telbox wrote for NAME, and only while they
    /// hold what was written: if one was changed by hand since, nothing is
    /// removed and the file is named (--force deletes it anyway). A file
    /// that was already there, identical, before the install stays.
    /// Needs root or the telbox-admin group.
    #[command(verbatim_doc_comment)]
    Remove {
        /// The package (`appliance firmware list` shows the installed ones).
        name: String,
        /// Delete files changed by hand too.
        #[arg(long)]
        force: bool,
        /// Print the change as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Upgrade installed packages to the catalog's versions.
    ///
    /// For every installed package whose version differs from the
    /// catalog's, fetches the new archive (from SOURCE, a directory or URL
    /// holding the archives, else the catalog's URL), checks it, writes its
    /// files and deletes the old version's files it no longer has: exactly
    /// the old package's files are replaced. A file changed by hand stops
    /// the upgrade of its package, unless --force.
    /// Needs root or the telbox-admin group.
    #[command(verbatim_doc_comment)]
    Upgrade {
        /// A directory or URL prefix holding the new archives.
        source: Option<String>,
        /// Replace or delete files changed by hand too.
        #[arg(long)]
        force: bool,
        /// Print the changes as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(command: FirmwareCommand) -> CallResult {
    let conn = bus::connect().await?;
    let proxy = FirmwareProxy::new(&conn).await?;
    match command {
        FirmwareCommand::List { json } => list(&proxy, json).await,
        FirmwareCommand::Needed { kernel_log, json } => needed(&proxy, kernel_log, json).await,
        FirmwareCommand::Install {
            source,
            package,
            sha256,
            force,
            json,
        } => {
            let source = absolute(&source)?;
            let call = proxy.install(
                &source,
                package.as_deref().unwrap_or(""),
                sha256.as_deref().unwrap_or(""),
                force,
            );
            let text = with_progress(&conn, &proxy, call, json).await?;
            changed(&text, json, "installed")
        }
        FirmwareCommand::Remove { name, force, json } => {
            let text = proxy.remove(&name, force).await?;
            changed(&text, json, "removed")
        }
        FirmwareCommand::Upgrade {
            source,
            force,
            json,
        } => {
            let source = match source {
                Some(s) => absolute(&s)?,
                None => String::new(),
            };
            let text = with_progress(&conn, &proxy, proxy.upgrade(&source, force), json).await?;
            changed(&text, json, "upgraded")
        }
    }
}

/// A local path made absolute (sysconfd does not share our directory);
/// names and URLs as they are.
fn absolute(source: &str) -> Result<String, CallError> {
    let is_path = source.contains('/') && !source.contains("://");
    if !is_path || source.starts_with('/') {
        return Ok(source.to_owned());
    }
    let path = std::path::absolute(source).map_err(|e| CallError(format!("{source}: {e}")))?;
    Ok(path.display().to_string())
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, CallError> {
    serde_json::from_str(text)
        .map_err(|e| CallError(format!("unreadable answer from sysconfd: {e}")))
}

async fn list(proxy: &FirmwareProxy<'_>, json: bool) -> CallResult {
    let list: FirmwareList = parse(&proxy.list().await?)?;
    if json {
        print_json(&list);
        return Ok(());
    }
    println!(
        "{:<20} {:<9} {:<18} files",
        "package", "version", "installed"
    );
    for p in &list.packages {
        let installed = match &p.installed {
            None => "-".to_owned(),
            Some(i) => {
                let changed = i
                    .files
                    .iter()
                    .filter(|f| f.state == FileState::Changed)
                    .count();
                let missing = i
                    .files
                    .iter()
                    .filter(|f| f.state == FileState::Missing)
                    .count();
                let mut s = i.version.clone();
                if changed > 0 {
                    s.push_str(&format!(" ({changed} changed)"));
                }
                if missing > 0 {
                    s.push_str(&format!(" ({missing} missing)"));
                }
                s
            }
        };
        println!(
            "{:<20} {:<9} {:<18} {}",
            p.name,
            p.version,
            installed,
            p.files.join(" ")
        );
    }
    for u in &list.unknown_installed {
        println!("{u}: installed, no longer in the catalog");
    }
    Ok(())
}

async fn needed(proxy: &FirmwareProxy<'_>, kernel_log: Option<PathBuf>, json: bool) -> CallResult {
    let log = match kernel_log {
        None => String::new(),
        Some(p) if p.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        }
        Some(p) => {
            std::fs::read_to_string(&p).map_err(|e| CallError(format!("{}: {e}", p.display())))?
        }
    };
    let report: NeededReport = parse(&proxy.needed(&log).await?)?;
    if json {
        print_json(&report);
        return Ok(());
    }
    if report.needs.is_empty() {
        println!("no card here needs firmware, and the kernel log reports none missing");
    } else {
        println!(
            "{:<26} {:<20} {:<9} {:<8} why",
            "file", "package", "present", "needed"
        );
    }
    for n in &report.needs {
        let why: Vec<String> = n.reasons.iter().map(reason).collect();
        println!(
            "{:<26} {:<20} {:<9} {:<8} {}",
            n.file,
            n.package.as_deref().unwrap_or("(none)"),
            if n.present { "yes" } else { "no" },
            if n.required { "required" } else { "optional" },
            why.join("; ")
        );
    }
    for line in &report.unread_lines {
        println!("kernel log line not understood: {line}");
    }
    if !report.commands.is_empty() {
        println!("\nto install what is missing:");
        for c in &report.commands {
            println!("  {c}");
        }
    } else if report.needs.iter().any(|n| n.required) {
        let orphan = report
            .needs
            .iter()
            .any(|n| n.required && !n.present && n.package.is_none());
        if orphan {
            println!(
                "\nsome required files come from no catalog package: copy them into /lib/firmware"
            );
        } else {
            println!("\neverything required is installed");
        }
    }
    Ok(())
}

fn reason(r: &NeedReason) -> String {
    match r {
        NeedReason::Card {
            location,
            card,
            driver,
            part,
            optional,
        } => {
            let extra = if *optional {
                ", only with echo_canceller = \"hardware\""
            } else {
                ""
            };
            format!("{part} of {card} at {location} ({driver}{extra})")
        }
        NeedReason::KernelLog { line, .. } => format!("kernel log: {line}"),
    }
}

/// Runs an install or upgrade call, drawing its progress signals.
async fn with_progress(
    conn: &zbus::Connection,
    proxy: &FirmwareProxy<'_>,
    call: impl std::future::Future<Output = zbus::Result<String>>,
    json: bool,
) -> Result<String, CallError> {
    let me = conn
        .unique_name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    let mut signals = proxy.receive_progress().await?;
    let bar = if !json && std::io::stdout().is_terminal() {
        ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stdout())
    } else {
        ProgressBar::hidden()
    };
    let style = |counts: &str| {
        let template = format!("{{prefix:>20}} {{msg:<8}} [{{bar:30}}] {counts}");
        ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ")
    };
    let mut shown_phase = String::new();
    futures::pin_mut!(call);
    let result = loop {
        tokio::select! {
            r = &mut call => break r,
            Some(signal) = signals.next() => {
                let Ok(args) = signal.args() else { continue };
                if args.caller != me {
                    continue;
                }
                bar.set_length(args.total.max(args.done).max(1));
                bar.set_position(args.done);
                let phase = format!("{} {}", args.package, args.phase);
                if phase != shown_phase {
                    bar.set_prefix(args.package.to_owned());
                    bar.set_message(args.phase.to_owned());
                    // Bytes while reading and writing; files while committing;
                    // no count while the checksums are compared.
                    bar.set_style(style(match args.phase {
                        appliance::firmware::phase::FETCH | appliance::firmware::phase::EXTRACT => {
                            "{bytes}/{total_bytes}"
                        }
                        appliance::firmware::phase::COMMIT => "{pos}/{len} files",
                        _ => "",
                    }));
                    shown_phase = phase;
                }
            }
        }
    };
    bar.finish_and_clear();
    Ok(result?)
}

fn changed(text: &str, json: bool, verb: &str) -> CallResult {
    let report: ChangeReport = parse(text)?;
    if json {
        print_json(&report);
        return Ok(());
    }
    if report.changes.is_empty() {
        println!("nothing to do: every installed package is at the catalog's version");
    }
    for c in &report.changes {
        print_change(c, verb);
    }
    for w in &report.warnings {
        eprintln!("appliance: warning: {w}");
    }
    Ok(())
}

fn print_change(c: &PackageChange, verb: &str) {
    let version = match (&c.previous_version, &c.version) {
        (Some(old), Some(new)) if old != new => format!("{old} -> {new}"),
        (_, Some(v)) | (Some(v), None) => v.clone(),
        (None, None) => String::new(),
    };
    println!("{} {version} {verb}", c.package);
    for w in &c.written {
        let short = w.sha256.get(..16).unwrap_or(&w.sha256);
        println!("  wrote   {} ({} bytes, sha256 {short}…)", w.path, w.size);
    }
    for r in &c.removed {
        println!("  removed {r}");
    }
    for k in &c.kept {
        println!("  kept    {k}");
    }
    if !c.skipped.is_empty() {
        println!("  not installed from the archive: {}", c.skipped.join(", "));
    }
}
