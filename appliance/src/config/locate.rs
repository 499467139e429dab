//! Turns config paths into file positions, using the spans the TOML parser kept.

use std::ops::Range;

use toml_edit::{Document, Item, Table, Value};

use super::diag::{Anchor, ConfigPath, Seg};

/// A parsed document that can answer "where is this path written?".
pub struct Locator {
    doc: Document<String>,
    lines: Vec<usize>,
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Locator {
    /// Parses `text`; a syntax error comes back as the byte range TOML blames and its message.
    pub fn parse(text: &str) -> Result<Self, (Option<Range<usize>>, String)> {
        let doc =
            Document::parse(text.to_owned()).map_err(|e| (e.span(), e.message().to_owned()))?;
        let lines = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Ok(Locator { doc, lines })
    }

    pub fn text(&self) -> &str {
        self.doc.raw()
    }

    /// The position a diagnostic on `path` should point at: the value (or key)
    /// itself when written, else the nearest enclosing table that is.
    pub fn position(&self, path: &ConfigPath, anchor: Anchor) -> Position {
        let offset = self.span(path.segs(), anchor).map(|r| r.start).unwrap_or(0);
        self.offset_position(offset)
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn offset_position(&self, offset: usize) -> Position {
        let line = self.lines.partition_point(|&start| start <= offset).max(1);
        let start = self.lines[line - 1];
        let text = self.text();
        let end = offset.min(text.len());
        let column = text.get(start..end).map_or(1, |s| s.chars().count() + 1);
        Position { line, column }
    }

    /// The text of a 1-based line, without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        let text = self.text();
        let Some(&start) = self.lines.get(line.saturating_sub(1)) else {
            return "";
        };
        let end = self.lines.get(line).map_or(text.len(), |next| next - 1);
        text.get(start..end)
            .map_or("", |l| l.strip_suffix('\r').unwrap_or(l))
    }

    fn span(&self, segs: &[Seg], anchor: Anchor) -> Option<Range<usize>> {
        let mut found = None;
        for depth in (0..=segs.len()).rev() {
            found = span_in_table(self.doc.as_table(), &segs[..depth], anchor);
            if found.is_some() {
                break;
            }
        }
        found
    }
}

fn span_in_table(table: &Table, segs: &[Seg], anchor: Anchor) -> Option<Range<usize>> {
    let (first, rest) = segs.split_first()?;
    let Seg::Key(key) = first else { return None };
    let item = table.get(key)?;
    if rest.is_empty() {
        return match anchor {
            Anchor::Key => table
                .key(key)
                .and_then(|k| k.span())
                .or_else(|| item_span(item)),
            Anchor::Value => item_span(item).or_else(|| table.key(key).and_then(|k| k.span())),
        };
    }
    span_in_item(item, rest, anchor)
}

fn span_in_item(item: &Item, segs: &[Seg], anchor: Anchor) -> Option<Range<usize>> {
    match item {
        Item::Table(t) => span_in_table(t, segs, anchor),
        Item::ArrayOfTables(arr) => {
            let (Seg::Index(i), rest) = segs.split_first()? else {
                return None;
            };
            let t = arr.get(*i)?;
            if rest.is_empty() {
                t.span()
            } else {
                span_in_table(t, rest, anchor)
            }
        }
        Item::Value(v) => span_in_value(v, segs, anchor),
        Item::None => None,
    }
}

fn span_in_value(value: &Value, segs: &[Seg], anchor: Anchor) -> Option<Range<usize>> {
    let (first, rest) = segs.split_first()?;
    let inner = match (value, first) {
        (Value::Array(a), Seg::Index(i)) => a.get(*i)?,
        (Value::InlineTable(t), Seg::Key(k)) => {
            if rest.is_empty() && anchor == Anchor::Key {
                return t.key(k).and_then(|k| k.span());
            }
            t.get(k)?
        }
        _ => return None,
    };
    if rest.is_empty() {
        inner.span()
    } else {
        span_in_value(inner, rest, anchor)
    }
}

fn item_span(item: &Item) -> Option<Range<usize>> {
    match item {
        Item::Table(t) => t.span(),
        Item::ArrayOfTables(a) => a.get(0).and_then(|t| t.span()),
        Item::Value(v) => v.span(),
        Item::None => None,
    }
}
