//! `appliance status` and `appliance wizard`.

use std::path::PathBuf;

use appliance::dbus::{Degraded, StatusReport};

use crate::bus::{self, pretty, CallError, CallResult};

pub async fn status(json: bool) -> CallResult {
    let conn = bus::connect().await?;
    let text = bus::status(&conn).await?.status().await?;
    if json {
        println!("{}", pretty(&text));
        return Ok(());
    }
    let s: StatusReport = serde_json::from_str(&text).map_err(|e| CallError(e.to_string()))?;
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
    for (name, section) in s.sections {
        println!("{name:<12} {}", section);
    }
    Ok(())
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

pub async fn discover() -> CallResult {
    let conn = bus::connect().await?;
    println!("{}", pretty(&bus::wizard(&conn).await?.discover().await?));
    Ok(())
}

pub async fn complete(file: PathBuf) -> CallResult {
    let text = std::fs::read_to_string(&file)
        .map_err(|e| CallError(format!("{}: {e}", file.display())))?;
    let conn = bus::connect().await?;
    let g = bus::wizard(&conn).await?.complete(&text).await?;
    println!("first-boot configuration applied as generation {g}");
    Ok(())
}
