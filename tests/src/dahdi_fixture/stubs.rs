//! Stand-ins for the two tools `dahdi_genconf` runs against live hardware:
//! `dahdi_scan` (TE/NT of B410P-family spans) and `dahdi_cfg` (probing
//! which analog ports take FXO or FXS signalling). They answer from the
//! fixture's layout and sit in `<root>/fixture-bin`; put that directory
//! first in `PATH` and point `DAHDI_CFG` at its `dahdi_cfg`.

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;

use hwmgr::catalog::SpanType;

use super::model::Port;
use super::writer::{Layout, Writer};
use super::FixtureError;

/// The stub directory, relative to the root.
pub const BIN_DIR: &str = "fixture-bin";

const SCAN: &str = "#!/bin/sh\n# dahdi_scan stand-in: prints what the fixture laid out.\n\
exec cat \"$(dirname \"$0\")/dahdi_scan.out\"\n";

const CFG: &str = "#!/bin/sh\n# dahdi_cfg stand-in for dahdi_genconf's analog probe:\n\
# `fxoks=N` succeeds on FXS ports, `fxsks=N` on FXO ports.\n\
dir=$(dirname \"$0\")\nread -r line\nsig=${line%%=*}\nchan=${line#*=}\n\
case \"$sig\" in\n  fxoks) exec grep -qx \"$chan\" \"$dir/fxs-channels\" ;;\n\
  fxsks) exec grep -qx \"$chan\" \"$dir/fxo-channels\" ;;\n  *) exit 1 ;;\nesac\n";

pub(super) fn write(w: &Writer<'_>, layout: &Layout) -> Result<(), FixtureError> {
    let mut scan = String::new();
    let (mut fxs, mut fxo) = (String::new(), String::new());
    for span in layout.spans() {
        let (Some(number), Some(base)) = (span.number, span.basechan) else {
            continue;
        };
        let _ = write!(
            scan,
            "[{number}]\nactive=yes\nalarms=UNCONFIGURED\ndescription={}\nname={}\n\
             manufacturer=Digium\nbasechan={base}\ntotchans={}\nirq=0\n",
            span.description, span.name, span.channels
        );
        match span.span_type {
            SpanType::BriTe => scan.push_str("type=digital-TE\n"),
            SpanType::BriNt => scan.push_str("type=digital-NT\n"),
            t if t.is_digital() => {
                let _ = writeln!(scan, "type=digital-{t}");
            }
            _ => scan.push_str("type=analog\n"),
        }
        for (i, port) in span.ports.iter().enumerate() {
            let chan = base + i as u32;
            let (list, name) = match port {
                Port::Fxs => (&mut fxs, "FXS"),
                Port::Fxo => (&mut fxo, "FXO"),
                Port::Empty => {
                    let _ = writeln!(scan, "port={chan},none");
                    continue;
                }
            };
            let _ = writeln!(list, "{chan}");
            let _ = writeln!(scan, "port={chan},{name}");
        }
    }
    w.file(&format!("{BIN_DIR}/dahdi_scan.out"), &scan)?;
    w.file(&format!("{BIN_DIR}/fxs-channels"), &fxs)?;
    w.file(&format!("{BIN_DIR}/fxo-channels"), &fxo)?;
    script(w, "dahdi_scan", SCAN)?;
    script(w, "dahdi_cfg", CFG)
}

fn script(w: &Writer<'_>, name: &str, body: &str) -> Result<(), FixtureError> {
    let rel = format!("{BIN_DIR}/{name}");
    w.file(&rel, body)?;
    let path = w.root.join(&rel);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .map_err(|source| FixtureError::Io { path, source })
}
