//! `appliance ha status|history|promote|demote`: the HA pair as this box
//! sees it, in words and tables (`--json` for the documents themselves).

use appliance::ha::{HaStatus, HaTransition};
use clap::Subcommand;
use telbox_client::HaProxy;

use crate::bus::{self, CallResult};
use crate::views::{print_json, read};

#[derive(Subcommand)]
pub enum HaCommand {
    /// This box's part (active, standby, demoted), keepalived's state on
    /// each path to the peer, health, and the last transition.
    Status {
        /// Print JSON (`Ha.Status`'s reply, see docs/dbus.md).
        #[arg(long)]
        json: bool,
    },
    /// Every transition this box made, newest first: when, to what, why,
    /// and what it did.
    History {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Take the service now (ends a demotion; a master skips its failback wait).
    Promote {
        /// Print JSON ({"state": …}).
        #[arg(long)]
        json: bool,
    },
    /// Hand the service to the peer and stay out of it until `promote`.
    Demote {
        /// Print JSON ({"state": …}).
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(command: HaCommand) -> CallResult {
    let conn = bus::connect().await?;
    let ha = HaProxy::new(&conn).await?;
    match command {
        HaCommand::Status { json } => {
            let s: HaStatus = read(&ha.status().await?)?;
            if json {
                print_json(&s);
            } else {
                print_status(&s);
            }
        }
        HaCommand::History { json } => {
            let h: Vec<HaTransition> = read(&ha.history().await?)?;
            if json {
                print_json(&h);
            } else {
                print_history(&h);
            }
        }
        HaCommand::Promote { json } => changed(ha.promote().await?, json, "promoted"),
        HaCommand::Demote { json } => changed(ha.demote().await?, json, "demoted"),
    }
    Ok(())
}

fn changed(state: String, json: bool, what: &str) {
    if json {
        print_json(&serde_json::json!({ "state": state }));
    } else {
        println!("{what}: this box is now {state}");
    }
}

fn print_status(s: &HaStatus) {
    if s.role == "disabled" && s.state == "off" {
        println!("HA           off (no [ha] role on this box)");
        return;
    }
    println!("role         {}", s.role);
    println!("state        {}", s.state);
    if s.healthy {
        println!("health       ok");
    } else {
        println!("health       failing: {}", s.unhealthy);
    }
    if let Some(guard) = &s.guard {
        println!("guard        {guard}");
    }
    if let Some(left) = s.failback_in_s {
        println!("failback     in {left:.1} s");
    }
    for (name, state) in &s.services {
        println!("{:<12} {state}", format!("{name}"));
    }
    if !s.berofos.is_empty() {
        println!("berofos      {}", s.berofos.join(", "));
    }
    if s.watchdog_kicks > 0 {
        println!("kicks        {} watchdog kicks sent", s.watchdog_kicks);
    }
    if s.two_masters_seen > 0 {
        println!(
            "two masters  seen {} time(s); the lower priority stepped down",
            s.two_masters_seen
        );
    }
    if !s.paths.is_empty() {
        println!();
        println!(
            "{:<8} {:<10} {:<16} {:<8} PEER ADVERTISING",
            "PATH", "INTERFACE", "PEER", "VRRP"
        );
        for p in &s.paths {
            println!(
                "{:<8} {:<10} {:<16} {:<8} {}",
                p.name,
                p.interface,
                p.peer,
                p.vrrp,
                if p.peer_advertising { "yes" } else { "no" }
            );
        }
    }
    if let Some(t) = &s.last_transition {
        println!();
        println!("last         {} to {}: {}", when(t.done_at), t.to, t.reason);
    }
}

fn print_history(h: &[HaTransition]) {
    if h.is_empty() {
        println!("no transitions yet");
        return;
    }
    println!(
        "{:>4}  {:<20} {:<8} {:>8}  REASON",
        "SEQ", "DONE (UTC)", "TO", "TOOK"
    );
    for t in h {
        println!(
            "{:>4}  {:<20} {:<8} {:>6.0}ms  {}",
            t.seq,
            when(t.done_at),
            t.to,
            (t.done_at - t.noticed_at) * 1000.0,
            t.reason
        );
        for a in &t.actions {
            let mark = if a.ok { "done" } else { "FAILED" };
            if a.detail.is_empty() {
                println!("      {mark:<6} {}", a.what);
            } else {
                println!("      {mark:<6} {}: {}", a.what, a.detail);
            }
        }
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS` (UTC).
fn when(unix: f64) -> String {
    let secs = unix.max(0.0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn unix_times_print_as_utc_dates() {
        assert_eq!(super::when(0.0), "1970-01-01 00:00:00");
        assert_eq!(super::when(1_796_166_811.2), "2026-12-01 23:13:31");
    }
}
