//! Typed deserialization that reports every type error and unknown key, not
//! just the first: each failure is recorded by path, the offending key is
//! taken out of a copy of the tree, and deserialization runs again.

use serde::de::DeserializeOwned;
use toml::{Table, Value};

use super::diag::{Anchor, Check, ConfigPath, Seg};

/// Upper bound on recovery rounds; a config with more problems than this
/// reports the first ones.
const MAX_ROUNDS: usize = 100;

/// Deserializes `table` into `T`, recording each problem in `check`.
/// Returns `None` when a problem could not be stepped over.
pub fn deserialize_all<T: DeserializeOwned>(mut table: Table, check: &mut Check) -> Option<T> {
    let mut reported: Vec<ConfigPath> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let mut track = serde_path_to_error::Track::new();
        let de = serde_path_to_error::Deserializer::new(Value::Table(table.clone()), &mut track);
        let err = match T::deserialize(de) {
            Ok(value) => return Some(value),
            Err(err) => err,
        };
        let path = to_config_path(&track.path());
        let problem = Problem::classify(err.message(), path);
        if reported.contains(&problem.path) {
            return None;
        }
        problem.report(check);
        reported.push(problem.path.clone());
        if !remove(&mut table, problem.path.segs()) {
            return None;
        }
    }
    None
}

/// One deserialization failure, made readable.
struct Problem {
    path: ConfigPath,
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
