//! A validation report: every diagnostic with its file, line and column,
//! printable as `FILE:LINE:COL: error: message` with a caret snippet, or JSON.

use std::fmt::{self, Write as _};
use std::ops::Range;

use serde::Serialize;

use super::diag::Diagnostic;
use super::locate::Locator;

/// One problem, located in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Dotted path of the key, such as `network.interface[0].gateway` (empty for syntax errors).
    pub path: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The source line the problem is on.
    #[serde(skip)]
    pub source_line: String,
}

/// Every problem a config has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Report {
    pub problems: Vec<Located>,
}

impl Report {
    pub fn new(origin: &str, locator: &Locator, diagnostics: Vec<Diagnostic>) -> Report {
        let mut problems: Vec<Located> = diagnostics
            .into_iter()
            .map(|d| {
                let pos = locator.position(&d.path, d.anchor);
                Located {
                    file: origin.to_owned(),
                    line: pos.line,
                    column: pos.column,
                    path: printable(&d.path.to_string()),
                    message: printable(&d.message),
                    help: d.help.as_deref().map(printable),
                    source_line: printable(locator.line_text(pos.line)),
                }
            })
            .collect();
        problems.sort_by_key(|p| (p.line, p.column));
        Report { problems }
    }

    /// A TOML syntax error, which stops everything else.
    pub fn syntax(origin: &str, text: &str, span: Option<Range<usize>>, message: String) -> Report {
        let offset = span.map(|s| s.start).unwrap_or(0).min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        let message = printable(&format!("TOML syntax: {}", message.trim()));
        let source_line = printable(text.lines().nth(line - 1).unwrap_or(""));
        let help = Some("fix the TOML syntax first; other checks run once it parses".to_owned());
        let problem = Located {
            file: origin.to_owned(),
            line,
            column,
            path: String::new(),
            message,
            help,
            source_line,
        };
        Report {
            problems: vec![problem],
        }
    }

    /// Human-readable form: one `FILE:LINE:COL: error: ...` block per problem.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for p in &self.problems {
            let _ = writeln!(
                out,
                "{}:{}:{}: error: {}",
                p.file, p.line, p.column, p.message
            );
            let gutter = p.line.to_string().len();
            let _ = writeln!(out, "{:gutter$} |", "");
            let _ = writeln!(out, "{} | {}", p.line, p.source_line);
            let _ = writeln!(
                out,
                "{:gutter$} | {}^",
                "",
                " ".repeat(p.column.saturating_sub(1))
            );
            if let Some(h) = &p.help {
                let _ = writeln!(out, "{:gutter$} = help: {h}", "");
            }
        }
        out
    }
}

/// `s` with control characters (newline, escape, NUL…) written as escapes, so
/// no input can forge a line of output or drive the terminal.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Report {}
