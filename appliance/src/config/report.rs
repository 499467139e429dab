//! A validation report: every diagnostic with its file, line and column,
//! printable as `FILE:LINE:COL: error: message` with a caret snippet, or JSON.

use std::fmt::{self, Write as _};
use std::ops::Range;

use serde::Serialize;

use super::diag::Diagnostic;
use super::limits::TooLarge;
use super::locate::Locator;

/// Most problems a report lists; a last entry counts the rest.
pub const MAX_PROBLEMS: usize = 50;
/// Longest path, message or hint a problem carries, in characters.
const MAX_TEXT: usize = 300;
/// Characters of the offending line shown on each side of the column.
const WINDOW: usize = 40;

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
    /// A window of the source line the problem is on (at most about
    /// 80 characters around the column).
    #[serde(skip)]
    pub source_line: String,
    /// Where the caret goes in `source_line`, 1-based.
    #[serde(skip)]
    pub caret: usize,
}

/// Every problem a config has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Report {
    pub problems: Vec<Located>,
    /// Set when the config is over a size or count limit.
    #[serde(skip)]
    pub too_large: Option<TooLarge>,
}

impl Report {
    pub fn new(origin: &str, locator: &Locator, diagnostics: Vec<Diagnostic>) -> Report {
        let total = diagnostics.len();
        let mut problems: Vec<Located> = diagnostics
            .into_iter()
            .take(MAX_PROBLEMS)
            .map(|d| {
                let pos = locator.position(&d.path, d.anchor);
                let (source_line, caret) = window(locator.line_text(pos.line), pos.column);
                Located {
                    file: origin.to_owned(),
                    line: pos.line,
                    column: pos.column,
                    path: printable(&d.path.to_string()),
                    message: printable(&d.message),
                    help: d.help.as_deref().map(printable),
                    source_line,
                    caret,
                }
            })
            .collect();
        problems.sort_by_key(|p| (p.line, p.column));
        if total > MAX_PROBLEMS {
            problems.push(Located {
                file: origin.to_owned(),
                line: 1,
                column: 1,
                path: String::new(),
                message: format!("{} more problems are not listed", total - MAX_PROBLEMS),
                help: Some("fix the problems above and check again".to_owned()),
                source_line: String::new(),
                caret: 1,
            });
        }
        Report {
            problems,
            too_large: None,
        }
    }

    /// A text over the size limit: nothing of it is parsed or quoted.
    pub fn too_large(origin: &str, big: TooLarge) -> Report {
        let problem = Located {
            file: origin.to_owned(),
            line: 1,
            column: 1,
            path: String::new(),
            message: big.to_string(),
            help: Some(
                "a box's configuration fits well inside the limit; remove what it does not need"
                    .to_owned(),
            ),
            source_line: String::new(),
            caret: 1,
        };
        Report {
            problems: vec![problem],
            too_large: Some(big),
        }
    }

    /// A TOML syntax error, which stops everything else.
    pub fn syntax(origin: &str, text: &str, span: Option<Range<usize>>, message: String) -> Report {
        let offset = span
            .map(|s| s.start)
            .or_else(|| line_failing_alone(text))
            .unwrap_or(0)
            .min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        let message = printable(&format!("TOML syntax: {}", message.trim()));
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        let (source_line, caret) = window(&text[line_start..line_end], column);
        let help = Some("fix the TOML syntax first; other checks run once it parses".to_owned());
        let problem = Located {
            file: origin.to_owned(),
            line,
            column,
            path: String::new(),
            message,
            help,
            source_line,
            caret,
        };
        Report {
            problems: vec![problem],
            too_large: None,
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
                " ".repeat(p.caret.saturating_sub(1))
            );
            if let Some(h) = &p.help {
                let _ = writeln!(out, "{:gutter$} = help: {h}", "");
            }
        }
        out
    }
}

/// `s` with control characters (newline, escape, NUL…) written as escapes, so
/// no input can forge a line of output or drive the terminal; cut to
/// [`MAX_TEXT`] characters, so no input can make a report large.
fn printable(s: &str) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == MAX_TEXT {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// Where a parse error that came without a place (the parser's nesting
/// limit, for one) is: the start of the first line that fails the same way
/// on its own.
fn line_failing_alone(text: &str) -> Option<usize> {
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let alone = toml_edit::Document::parse(line.to_owned());
        if alone.is_err_and(|e| e.span().is_none()) {
            return Some(start);
        }
        start += line.len();
    }
    None
}

/// At most [`WINDOW`] characters of `line` on each side of the 1-based
/// `column`, printable, and where the caret falls in that window.
fn window(line: &str, column: usize) -> (String, usize) {
    let at = column.saturating_sub(1);
    let start = at.saturating_sub(WINDOW);
    let mut out = String::new();
    let mut caret = 1;
    if start > 0 {
        out.push('…');
        caret += 1;
    }
    for (n, c) in line.chars().enumerate().skip(start) {
        if n >= at + WINDOW {
            out.push('…');
            break;
        }
        let shown: String = if c.is_control() {
            c.escape_debug().collect()
        } else {
            c.to_string()
        };
        if n < at {
            caret += shown.chars().count();
        }
        out.push_str(&shown);
    }
    (out, caret)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Report {}
