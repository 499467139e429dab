//! Typed deserialization that reports every type error and unknown key, not
//! just the first: each failure is recorded by path, the offending key is
//! taken out of a copy of the tree, and deserialization runs again.

use serde::de::DeserializeOwned;
use toml::{Table, Value};

use super::diag::{Anchor, Check, ConfigPath, Seg};

/// Upper bound on recovery rounds; a config with more problems than this
/// reports the first ones.
const MAX_ROUNDS: usize = 200;

/// Deserializes `table` into `T`, recording each problem in `check`.
/// Returns the value when the only problems were unknown keys (which change
/// the meaning of nothing else), so cross-field rules never run on a config
/// whose bad values were taken out.
pub fn deserialize_all<T: DeserializeOwned>(table: Table, check: &mut Check) -> Option<T> {
    let mut rec = Recovery {
        table,
        removed: Vec::new(),
        dropped: Vec::new(),
        bad_value: false,
    };
    for _ in 0..MAX_ROUNDS {
        let mut track = serde_path_to_error::Track::new();
        let de =
            serde_path_to_error::Deserializer::new(Value::Table(rec.table.clone()), &mut track);
        let err = match T::deserialize(de) {
            Ok(value) => return (!rec.bad_value).then_some(value),
            Err(err) => err,
        };
        let path = rec.original(&to_config_path(&track.path()));
        let problem = Problem::classify(err.message(), path);
        let ours = rec.removed.iter().any(|r| problem.path.starts_with(r));
        if !ours {
            problem.report(check);
            rec.bad_value |= !problem.unknown_key;
        }
        let stepped = if problem.missing || ours {
            rec.step_out(&problem.path)
        } else {
            rec.take_out(&problem.path)
        };
        if !stepped {
            return None;
        }
    }
    None
}

/// The tree being deserialized, with what was taken out of it so far.
struct Recovery {
    table: Table,
    /// Keys and tables taken out, by their path in the original document.
    removed: Vec<ConfigPath>,
    /// Array elements taken out: (array path, original index).
    dropped: Vec<(ConfigPath, usize)>,
    /// A problem other than an unknown key was reported.
    bad_value: bool,
}

impl Recovery {
    /// The original document's path for a path in the reduced tree.
    fn original(&self, current: &ConfigPath) -> ConfigPath {
        let mut out = ConfigPath::root();
        for seg in current.segs() {
            let seg = match seg {
                Seg::Index(j) => Seg::Index(self.original_index(&out, *j)),
                key => key.clone(),
            };
            out = out.join(seg);
        }
        out
    }

    fn original_index(&self, array: &ConfigPath, current: usize) -> usize {
        let mut drops: Vec<usize> = self
            .dropped
            .iter()
            .filter(|(a, _)| a == array)
            .map(|(_, i)| *i)
            .collect();
        drops.sort_unstable();
        drops
            .into_iter()
            .fold(current, |i, d| if d <= i { i + 1 } else { i })
    }

    /// The reduced tree's path for an original path.
    fn current(&self, original: &ConfigPath) -> ConfigPath {
        let mut out = ConfigPath::root();
        let mut orig = ConfigPath::root();
        for seg in original.segs() {
            let cur = match seg {
                Seg::Index(i) => {
                    let before = self
                        .dropped
                        .iter()
                        .filter(|(a, d)| *a == orig && d < i)
                        .count();
                    Seg::Index(i - before)
                }
                key => key.clone(),
            };
            orig = orig.join(seg.clone());
            out = out.join(cur);
        }
        out
    }

    /// Takes out the bad value itself (a bad element of a value array takes the array).
    fn take_out(&mut self, path: &ConfigPath) -> bool {
        let target = match path.segs().last() {
            Some(Seg::Index(_)) => path.parent(),
            _ => path.clone(),
        };
        let at = self.current(&target);
        let ok = remove(&mut self.table, at.segs());
        self.removed.push(target);
        ok || self.step_out(path)
    }

    /// A required key is gone: takes out the table holding it (an array
    /// element on its own, so its siblings are still checked).
    fn step_out(&mut self, path: &ConfigPath) -> bool {
        let container = path.parent();
        match container.segs().last() {
            None => false,
            Some(Seg::Index(i)) => {
                let array = container.parent();
                let (at, element) = (self.current(&array), self.current(&container));
                let ok = remove_element(&mut self.table, at.segs(), element);
                self.dropped.push((array, *i));
                ok
            }
            Some(Seg::Key(_)) => {
                let at = self.current(&container);
                let ok = remove(&mut self.table, at.segs());
                self.removed.push(container);
                ok
            }
        }
    }
}

/// One deserialization failure, made readable.
struct Problem {
    path: ConfigPath,
    /// A required key is absent (nothing to take out but its table).
    missing: bool,
    /// A key the model does not have.
    unknown_key: bool,
    anchor: Anchor,
    message: String,
    help: Option<String>,
}

impl Problem {
    fn classify(raw: &str, path: ConfigPath) -> Problem {
        if let Some((field, expected)) = parse_unknown(raw, "unknown field `") {
            return unknown_key(path, field, expected);
        }
        if let Some((variant, expected)) = parse_unknown(raw, "unknown variant `") {
            let help = suggestion(&variant, &expected)
                .map(|s| format!("did you mean `{s}`? allowed: {}", expected.join(", ")))
                .or_else(|| Some(format!("allowed: {}", expected.join(", "))));
            let message = format!("`{variant}` is not a valid value for `{path}`");
            return Problem {
                path,
                missing: false,
                unknown_key: false,
                anchor: Anchor::Value,
                message,
                help,
            };
        }
        if let Some(field) = raw
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
        {
            let help = Some(format!("add `{field} = ...` to this table"));
            let message = format!("`{field}` is required here");
            return Problem {
                path: path.join(field),
                missing: true,
                unknown_key: false,
                anchor: Anchor::Value,
                message,
                help,
            };
        }
        let message = if path.segs().is_empty() {
            raw.to_owned()
        } else {
            format!("{path}: {raw}")
        };
        Problem {
            path,
            missing: false,
            unknown_key: false,
            anchor: Anchor::Value,
            message,
            help: None,
        }
    }

    fn report(&self, check: &mut Check) {
        match self.anchor {
            Anchor::Key => check.error_key(self.path.clone(), &self.message, self.help.clone()),
            Anchor::Value => match &self.help {
                Some(h) => check.error_help(self.path.clone(), &self.message, h),
                None => check.error(self.path.clone(), &self.message),
            },
        }
    }
}

fn unknown_key(path: ConfigPath, field: String, expected: Vec<String>) -> Problem {
    // serde_path_to_error may or may not have pushed the unknown key itself.
    let path = if path.last_key() == Some(field.as_str()) {
        path
    } else {
        path.join(field.as_str())
    };
    let table = path.parent();
    let place = if table.segs().is_empty() {
        "at the top level".to_owned()
    } else {
        format!("in `{table}`")
    };
    let help = match suggestion(&field, &expected) {
        Some(s) => Some(format!("did you mean `{s}`?")),
        None if expected.is_empty() => Some("this table takes no keys".to_owned()),
        None => Some(format!("known keys: {}", expected.join(", "))),
    };
    Problem {
        path,
        missing: false,
        unknown_key: true,
        anchor: Anchor::Key,
        message: format!("unknown key `{field}` {place}"),
        help,
    }
}

/// Parses serde's "unknown field `x`, expected one of `a`, `b`" family of messages.
fn parse_unknown(raw: &str, prefix: &str) -> Option<(String, Vec<String>)> {
    let rest = raw.strip_prefix(prefix)?;
    let (name, tail) = rest.split_once('`')?;
    let expected = tail
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    Some((name.to_owned(), expected))
}

/// The closest known name, if it is close enough to be a likely typo.
pub fn suggestion(given: &str, known: &[String]) -> Option<String> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(given, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

fn to_config_path(path: &serde_path_to_error::Path) -> ConfigPath {
    use serde_path_to_error::Segment;
    let segs = path
        .iter()
        .filter_map(|seg| match seg {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
            Segment::Unknown => None,
        })
        .collect();
    ConfigPath(segs)
}

/// Takes the value at `segs` out of the tree. A bad array element takes the
/// whole array with it, so the indexes of later problems stay true.
fn remove(table: &mut Table, segs: &[Seg]) -> bool {
    match segs {
        [Seg::Key(k)] => table.remove(k).is_some(),
        [Seg::Key(k), Seg::Index(_)] => table.remove(k).is_some(),
        [Seg::Key(k), rest @ ..] => match table.get_mut(k) {
            Some(Value::Table(t)) => remove(t, rest),
            Some(Value::Array(a)) => remove_in_array(a, rest),
            _ => table.remove(k).is_some(),
        },
        _ => false,
    }
}

/// Removes element `element` (its last segment is the index) of the array at `array`.
fn remove_element(table: &mut Table, array: &[Seg], element: ConfigPath) -> bool {
    let Some(Seg::Index(i)) = element.segs().last().cloned() else {
        return false;
    };
    let Some(value) = lookup_mut(table, array) else {
        return false;
    };
    match value {
        Value::Array(a) if i < a.len() => {
            a.remove(i);
            true
        }
        _ => false,
    }
}

fn lookup_mut<'a>(table: &'a mut Table, segs: &[Seg]) -> Option<&'a mut Value> {
    let (Seg::Key(first), rest) = segs.split_first()? else {
        return None;
    };
    let mut value = table.get_mut(first)?;
    for seg in rest {
        value = match (value, seg) {
            (Value::Table(t), Seg::Key(k)) => t.get_mut(k)?,
            (Value::Array(a), Seg::Index(i)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(value)
}

fn remove_in_array(array: &mut [Value], segs: &[Seg]) -> bool {
    match segs {
        [Seg::Index(i), rest @ ..] if !rest.is_empty() => match array.get_mut(*i) {
            Some(Value::Table(t)) => remove(t, rest),
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_serde_unknown_field_messages() {
        let (name, expected) = parse_unknown(
            "unknown field `hostnme`, expected one of `hostname`, `domain`",
            "unknown field `",
        )
        .unwrap();
        assert_eq!(name, "hostnme");
        assert_eq!(expected, vec!["hostname", "domain"]);
    }

    #[test]
    fn suggests_only_close_names() {
        let known = vec!["hostname".to_owned(), "domain".to_owned()];
        assert_eq!(suggestion("hostnme", &known).as_deref(), Some("hostname"));
        assert_eq!(suggestion("zzzzzz", &known), None);
    }
}
