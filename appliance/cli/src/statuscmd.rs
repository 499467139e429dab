//! `appliance status` and `appliance wizard`.

use std::path::PathBuf;

use appliance::dbus::{Degraded, SeedOutcome, SeedReport, StatusReport};
use appliance::views::{DiscoverReport, StatusSections};

use crate::bus::{self, CallError, CallResult};
use crate::views::{print_json, read};

pub async fn status(json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let s: StatusReport = read(&bus::status(&conn).await?.status().await?)?;
    if json {
        print_json(&s);
        return Ok(());
    }
    println!("telbox {}  host {}", s.version, s.hostname);
    println!("generation   {}", s.current_generation);
    match s.pending {
        Some(p) => println!(
            "pending      generation {} rolls back in {:.0} s unless confirmed",
            p.generation, p.seconds_left
        ),
        None => println!("pending      none"),
    }
    if let Some(d) = &s.degraded {
        print_degraded(d);
    }
    println!(
        "first boot   {}",
        if s.wizard_completed {
            "completed"
        } else {
            "not completed"
        }
    );
    if let Some(seed) = &s.seed {
        print_seed(seed);
    }
    print_sections(&s.sections);
    Ok(())
}

/// The installer's seed: applied, or failed with its cause and how to retry.
fn print_seed(seed: &SeedReport) {
    match seed.outcome {
        SeedOutcome::Applied => println!("seed         applied ({})", seed.path),
        SeedOutcome::Failed => {
            println!(
                "seed         seed failed: {}",
                seed.cause
                    .as_deref()
                    .unwrap_or("see journalctl -u telbox-firstboot")
            );
            println!(
                "             the box runs its default configuration; after fixing the file,\n             \
                 retry with: appliance config apply {}",
                seed.path
            );
        }
    }
}

/// The daemons and the telephony hardware, in words.
fn print_sections(s: &StatusSections) {
    for (name, state) in &s.services {
        println!("{:<12} {state}", format!("{name} server"));
    }
    let t = &s.telephony;
    let cards = match t.cards {
        0 => "no telephony card".to_owned(),
        1 => "1 telephony card".to_owned(),
        n => format!("{n} telephony cards"),
    };
    let spans: Vec<String> = t
        .spans
        .iter()
        .map(|(n, alarms)| format!("span {n} {alarms}"))
        .collect();
    if spans.is_empty() {
        println!("telephony    {cards}");
    } else {
        println!("telephony    {cards}; {}", spans.join(", "));
    }
    for tc in &t.transcoders {
        println!(
            "transcoder   {}: {} channels of {} (mode {})",
            tc.location, tc.channels, tc.codecs, tc.mode
        );
    }
}

/// A failed apply sysconfd could not finish, in words.
fn print_degraded(d: &Degraded) {
    let previous = match d.previous {
        Some(g) => format!("generation {g}"),
        None => "the state before the first generation".to_owned(),
    };
    println!(
        "degraded     the apply of generation {} failed: {}",
        d.generation, d.cause
    );
    match &d.restore_error {
        Some(e) => println!("             {previous} is not fully back: {e}"),
        None => println!("             {previous} is back in force"),
    }
    for line in &d.differs {
        println!("             differs: {line}");
    }
    if let Some(e) = &d.record_error {
        println!("             history does not record the failure yet: {e}");
    }
    println!("             the next apply or a restart of sysconfd finishes the undo");
}

pub async fn discover(json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let d: DiscoverReport = read(&bus::wizard(&conn).await?.discover().await?)?;
    if json {
        print_json(&d);
        return Ok(());
    }
    println!(
        "{:<16} {:<18} {:<10} {:>6}  addresses",
        "interface", "mac", "state", "mtu"
    );
    for n in &d.interfaces {
        let addrs: Vec<String> = n.addresses.iter().map(ToString::to_string).collect();
        println!(
            "{:<16} {:<18} {:<10} {:>6}  {}",
            n.name,
            n.mac.as_deref().unwrap_or("-"),
            n.operstate,
            n.mtu,
            addrs.join(" ")
        );
    }
    if d.cards.is_empty() {
        println!(
            "
no telephony card found"
        );
    } else {
        println!(
            "
{:<18} {:<12} {:>5}  description",
            "card", "driver", "spans"
        );
        for c in &d.cards {
            println!(
                "{:<18} {:<12} {:>5}  {}",
                c.location, c.driver, c.spans, c.description
            );
        }
    }
    Ok(())
}

pub async fn complete(file: PathBuf, confirm_timeout: u32) -> CallResult {
    let text = std::fs::read_to_string(&file)
        .map_err(|e| CallError(format!("{}: {e}", file.display())))?;
    let conn = bus::connect().await?;
    let g = bus::wizard(&conn)
        .await?
        .complete(&text, confirm_timeout)
        .await?;
    println!("first-boot configuration applied as generation {g}");
    if confirm_timeout > 0 && !bus::wizard(&conn).await?.completed().await? {
        println!(
            "keep it with `appliance wizard confirm {g}` within {confirm_timeout} s, or the previous configuration comes back"
        );
    }
    Ok(())
}

pub async fn wizard_confirm(generation: u64) -> CallResult {
    let conn = bus::connect().await?;
    bus::wizard(&conn).await?.confirm(generation).await?;
    println!("generation {generation} confirmed; the first-boot wizard has completed");
    Ok(())
}

/// Prints the web wizard's setup token and certificate fingerprint, which
/// it keeps in its own state directory (readable by root only).
pub fn wizard_token(state_dir: &std::path::Path) -> std::process::ExitCode {
    use appliance::dbus::{WIZARD_FINGERPRINT_FILE, WIZARD_TOKEN_FILE};
    let path = state_dir.join(WIZARD_TOKEN_FILE);
    let token = match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => t.trim().to_owned(),
        Ok(_) => {
            eprintln!("appliance: {} is empty", path.display());
            return std::process::ExitCode::FAILURE;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "appliance: no setup token yet in {}: the web wizard has not started (systemctl status telbox-wizard)",
                state_dir.display()
            );
            return std::process::ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!(
                "appliance: {}: {e} (the setup token is for root only)",
                path.display()
            );
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("setup token:             {token}");
    if let Ok(fp) = std::fs::read_to_string(state_dir.join(WIZARD_FINGERPRINT_FILE)) {
        println!("certificate fingerprint: SHA-256 {}", fp.trim());
    }
    std::process::ExitCode::SUCCESS
}
