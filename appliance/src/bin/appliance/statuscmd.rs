//! `appliance status` and `appliance wizard`.

use std::path::PathBuf;

use appliance::dbus::StatusReport;

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
