//! `appliance config plan|apply|confirm|rollback|history|show`.

use std::path::PathBuf;

use appliance::dbus::{HistoryPage, PlanReport};

use crate::bus::{self, CallError, CallResult};

fn read(file: &PathBuf) -> Result<String, CallError> {
    std::fs::read_to_string(file)
        .map_err(|e| CallError(format!("{}: cannot read: {e}", file.display())))
}

pub async fn plan(file: PathBuf, json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let session = session_address().unwrap_or_default();
    let (text, report) = bus::config(&conn)
        .await?
        .plan(&read(&file)?, &session)
        .await?;
    let report: PlanReport = crate::views::read(&report)?;
    if json {
        crate::views::print_json(&report);
    } else {
        print!("{text}");
        for w in &report.warnings {
            eprintln!("WARNING: {w}");
        }
    }
    Ok(())
}

/// The box's address this SSH session arrives on (`SSH_CONNECTION`'s third field).
fn session_address() -> Option<String> {
    let conn = std::env::var("SSH_CONNECTION").ok()?;
    conn.split_whitespace().nth(2).map(str::to_owned)
}

/// From a remote session, network changes default to commit-confirmed.
async fn remote_confirm_default(
    proxy: &telbox_client::ConfigProxy<'_>,
    text: &str,
    asked: u32,
) -> Result<u32, CallError> {
    const REMOTE_CONFIRM_S: u32 = 120;
    let Some(session) = session_address().filter(|_| asked == 0) else {
        return Ok(asked);
    };
    let (_, report) = proxy.plan(text, &session).await?;
    let report: PlanReport = crate::views::read(&report)?;
    for w in &report.warnings {
        eprintln!("WARNING: {w}");
    }
    if !report.actions.iter().any(|a| a.kind == "network") {
        return Ok(0);
    }
    eprintln!(
        "remote session: network changes are applied with a {REMOTE_CONFIRM_S} s confirm window; keep them with `appliance config confirm` (or pass --confirm-timeout)"
    );
    Ok(REMOTE_CONFIRM_S)
}

pub async fn apply(
    file: PathBuf,
    base: Option<u64>,
    confirm_timeout: u32,
    json: bool,
) -> CallResult {
    let conn = bus::connect().await?;
    let proxy = bus::config(&conn).await?;
    let base = match base {
        Some(b) => b,
        None => proxy.current_generation().await?,
    };
    let text = read(&file)?;
    let confirm_timeout = remote_confirm_default(&proxy, &text, confirm_timeout).await?;
    let generation = proxy.apply(&text, base, confirm_timeout).await?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "generation": generation, "confirm_timeout_s": confirm_timeout })
        );
    } else if generation == base {
        println!("nothing to do: generation {generation} is in force");
    } else if confirm_timeout > 0 {
        println!("generation {generation} applied; confirm within {confirm_timeout} s with `appliance config confirm {generation}`, or generation {base} comes back");
    } else {
        println!("generation {generation} applied");
    }
    Ok(())
}

pub async fn confirm(generation: Option<u64>) -> CallResult {
    let conn = bus::connect().await?;
    let proxy = bus::config(&conn).await?;
    let generation = match generation {
        Some(g) => g,
        None => match proxy.pending_confirmation().await? {
            0 => {
                return Err(CallError(
                    "no generation is waiting for a confirmation".into(),
                ))
            }
            g => g,
        },
    };
    proxy.confirm(generation).await?;
    println!("generation {generation} confirmed");
    Ok(())
}

pub async fn rollback(generation: u64) -> CallResult {
    let conn = bus::connect().await?;
    let now = bus::config(&conn).await?.rollback(generation).await?;
    println!("generation {generation}'s configuration is in force again (as generation {now})");
    Ok(())
}

pub async fn history(offset: u32, limit: u32, json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let text = bus::config(&conn).await?.history(offset, limit).await?;
    let page: HistoryPage = serde_json::from_str(&text).map_err(|e| CallError(e.to_string()))?;
    if json {
        let entries = serde_json::to_string_pretty(&page.entries).expect("entries serialize");
        println!("{entries}");
        return Ok(());
    }
    println!(
        "{:>4}  {:<12} {:>5}  {:>6}  {:<20} reason",
        "gen", "outcome", "uid", "steps", "when (UTC)"
    );
    let shown = page.entries.len() as u64;
    for e in page.entries {
        println!(
            "{:>4}  {:<12} {:>5}  {:>6}  {:<20} {}",
            e.id,
            e.outcome,
            e.caller_uid,
            e.plan_length,
            utc(e.created_at),
            e.reason
        );
    }
    let end = page.offset + shown;
    if end < page.total || page.offset > 0 {
        println!(
            "generations {}–{end} of {} newest first; `--offset {end}` shows older ones",
            page.offset + 1,
            page.total
        );
    }
    Ok(())
}

pub async fn generation_plan(generation: u64, json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let lines = bus::config(&conn)
        .await?
        .generation_plan(generation)
        .await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&lines).expect("lines serialize")
        );
    } else if lines.is_empty() {
        println!("generation {generation} changed nothing");
    } else {
        for (i, line) in lines.iter().enumerate() {
            println!("{:>4}. {line}", i + 1);
        }
    }
    Ok(())
}

pub async fn show() -> CallResult {
    let conn = bus::connect().await?;
    print!("{}", bus::config(&conn).await?.get().await?);
    Ok(())
}

/// `YYYY-MM-DD HH:MM:SS` for a Unix time, without a date library.
pub fn utc(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}
