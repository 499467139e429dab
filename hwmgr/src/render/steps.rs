//! What sysconfd runs after writing the files, in order. Only what the
//! changed files need: an unchanged set of files gives no step at all.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use super::{
    GeneratedFile, ASSIGNED_SPANS, CHAN_DAHDI_TELBOX, DAHDI_CHANNELS, MODPROBE_CONF, MODULES,
    MODULES_TELBOX, SPAN_TYPES, SYSTEM_CONF,
};
use crate::detect::Inventory;

/// A command of the DAHDI apply sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", content = "module", rename_all = "snake_case")]
pub enum DahdiStep {
    /// `modprobe <module>`; its options come from `/etc/modprobe.d`.
    LoadModule(String),
    /// `modprobe -r <module>` then `modprobe <module>`: a loaded driver
    /// whose options changed (its calls drop).
    ReloadModule(String),
    /// `dahdi_span_assignments remove`: span types only change while
    /// spans are unassigned, and numbers are re-read on `add`.
    UnassignSpans,
    /// `dahdi_span_types set`: E1/T1/J1 from span-types.conf.
    SetSpanTypes,
    /// `dahdi_span_assignments add`: numbers from assigned-spans.conf.
    AssignSpans,
    /// `dahdi_cfg -c /etc/dahdi/system.conf`.
    ConfigureChannels,
    /// `asterisk -rx "<command>"`.
    Asterisk(AsteriskCommand),
}

/// The Asterisk CLI commands the sequence uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AsteriskCommand {
    /// Let go of every DAHDI channel before drivers are reloaded.
    UnloadChanDahdi,
    /// Take the channels back after a driver reload.
    LoadChanDahdi,
    /// Re-create all channels (signalling cannot change on a reload).
    DahdiRestart,
    /// Re-read chan_dahdi.conf settings.
    ReloadChanDahdi,
    /// Start using the TC400 transcoder.
    LoadCodecDahdi,
    /// Let go of the transcoder (before its driver reloads, or when no TC400 is configured).
    UnloadCodecDahdi,
}

impl AsteriskCommand {
    pub fn cli(self) -> &'static str {
        match self {
            AsteriskCommand::UnloadChanDahdi => "module unload chan_dahdi.so",
            AsteriskCommand::LoadChanDahdi => "module load chan_dahdi.so",
            AsteriskCommand::DahdiRestart => "dahdi restart",
            AsteriskCommand::ReloadChanDahdi => "module reload chan_dahdi.so",
            AsteriskCommand::LoadCodecDahdi => "module load codec_dahdi.so",
            AsteriskCommand::UnloadCodecDahdi => "module unload codec_dahdi.so",
        }
    }
}

impl DahdiStep {
    /// The command lines to run, in order (program first).
    pub fn commands(&self) -> Vec<Vec<String>> {
        let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        match self {
            DahdiStep::LoadModule(m) => vec![argv(&["modprobe", m])],
            DahdiStep::ReloadModule(m) => {
                vec![argv(&["modprobe", "-r", m]), argv(&["modprobe", m])]
            }
            DahdiStep::UnassignSpans => vec![argv(&["dahdi_span_assignments", "remove"])],
            DahdiStep::SetSpanTypes => vec![argv(&["dahdi_span_types", "set"])],
            DahdiStep::AssignSpans => vec![argv(&["dahdi_span_assignments", "add"])],
            DahdiStep::ConfigureChannels => vec![argv(&["dahdi_cfg", "-c", SYSTEM_CONF])],
            DahdiStep::Asterisk(c) => vec![argv(&["asterisk", "-rx", c.cli()])],
        }
    }
}

impl fmt::Display for DahdiStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self
            .commands()
            .iter()
            .map(|argv| {
                argv.iter()
                    .map(|a| {
                        if a.contains(' ') {
                            format!("\"{a}\"")
                        } else {
                            a.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        f.write_str(&lines.join(" && "))
    }
}

fn contents<'a>(files: &'a [GeneratedFile], path: &str) -> Option<&'a str> {
    files
        .iter()
        .find(|f| f.path == Path::new(path))
        .map(|f| f.contents.as_str())
}

/// The `options <driver> …` line of a modprobe file.
fn options_line<'a>(text: Option<&'a str>, driver: &str) -> Option<&'a str> {
    text?
        .lines()
        .find(|l| l.split_whitespace().take(2).eq(["options", driver]))
}

/// The steps after replacing `previous` (the files as they are on disk;
/// a missing one counts as changed) with `next`, on this hardware.
pub fn apply_steps(
    previous: &[GeneratedFile],
    next: &[GeneratedFile],
    inventory: &Inventory,
) -> Vec<DahdiStep> {
    let changed = |path: &str| contents(previous, path) != contents(next, path);
    let loads: Vec<DahdiStep> = inventory
        .cards
        .iter()
        .filter(|c| c.bound_driver().is_none())
        .map(|c| c.driver().name().to_owned())
        .chain(
            contents(next, MODULES)
                .filter(|_| changed(MODULES))
                .into_iter()
                .flat_map(echo_modules),
        )
        .fold(Vec::new(), |mut v, m| {
            if !v.contains(&m) {
                v.push(m);
            }
            v
        })
        .into_iter()
        .map(DahdiStep::LoadModule)
        .collect();
    let reloads: Vec<DahdiStep> = inventory
        .drivers()
        .into_iter()
        .filter(|d| {
            inventory
                .cards
                .iter()
                .any(|c| c.driver() == *d && c.bound_driver().is_some())
        })
        .filter(|d| {
            options_line(contents(previous, MODPROBE_CONF), d.name())
                != options_line(contents(next, MODPROBE_CONF), d.name())
        })
        .map(|d| DahdiStep::ReloadModule(d.name().to_owned()))
        .collect();
    let spans = changed(SPAN_TYPES)
        || changed(ASSIGNED_SPANS)
        || !reloads.is_empty()
        || loads.iter().any(|l| !is_echo(l));
    let configure = spans || changed(SYSTEM_CONF) || changed(MODULES);
    let codec_wanted = loads_codec(contents(next, MODULES_TELBOX));
    let codec_was = loads_codec(contents(previous, MODULES_TELBOX));
    let transcoder_reload = reloads.iter().any(
        |r| matches!(r, DahdiStep::ReloadModule(m) if m == crate::catalog::Driver::Wctc4xxp.name()),
    );
    let mut steps = Vec::new();
    if transcoder_reload {
        steps.push(DahdiStep::Asterisk(AsteriskCommand::UnloadCodecDahdi));
    }
    if !reloads.is_empty() {
        steps.push(DahdiStep::Asterisk(AsteriskCommand::UnloadChanDahdi));
    }
    steps.extend(reloads.iter().cloned());
    steps.extend(loads);
    if spans {
        steps.extend([
            DahdiStep::UnassignSpans,
            DahdiStep::SetSpanTypes,
            DahdiStep::AssignSpans,
        ]);
    }
    if configure {
        steps.push(DahdiStep::ConfigureChannels);
    }
    let asterisk = if !reloads.is_empty() {
        Some(AsteriskCommand::LoadChanDahdi)
    } else if configure || changed(DAHDI_CHANNELS) {
        Some(AsteriskCommand::DahdiRestart)
    } else if changed(CHAN_DAHDI_TELBOX) {
        Some(AsteriskCommand::ReloadChanDahdi)
    } else {
        None
    };
    steps.extend(asterisk.map(DahdiStep::Asterisk));
    if codec_wanted && (!codec_was || transcoder_reload) {
        steps.push(DahdiStep::Asterisk(AsteriskCommand::LoadCodecDahdi));
    } else if codec_was && !codec_wanted && !transcoder_reload {
        steps.push(DahdiStep::Asterisk(AsteriskCommand::UnloadCodecDahdi));
    }
    steps
}

/// Whether a modules-telbox.conf text loads codec_dahdi.
fn loads_codec(text: Option<&str>) -> bool {
    text.is_some_and(|t| t.lines().any(|l| l.trim() == "load => codec_dahdi.so"))
}

fn echo_modules(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("dahdi_echocan_"))
        .map(str::to_owned)
        .collect()
}

fn is_echo(step: &DahdiStep) -> bool {
    matches!(step, DahdiStep::LoadModule(m) if m.starts_with("dahdi_echocan_"))
}
