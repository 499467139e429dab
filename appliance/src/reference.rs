//! The reference of every `appliance.toml` key, made from the model itself
//! (its types and doc comments), so `docs/config.md` cannot drift from it.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::config::Config;

/// One documented key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDoc {
    /// The table it lives in, as written in TOML: `[system]`, `[[network.interface]]`.
    pub table: String,
    pub key: String,
    pub kind: String,
    pub required: bool,
    pub default: Option<String>,
    pub description: String,
}

/// Every key of the model, table by table, in declaration order.
pub fn keys() -> Vec<KeyDoc> {
    let schema = schemars::schema_for!(Config);
    let root = schema.as_value().clone();
    let defs = root
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    walk_table(&root, &defs, "", false, &mut out);
    out
}

fn walk_table(
    schema: &Value,
    defs: &Map<String, Value>,
    prefix: &str,
    array: bool,
    out: &mut Vec<KeyDoc>,
) {
    let table = match (prefix, array) {
        ("", _) => String::new(),
        (p, true) => format!("[[{p}]]"),
        (p, false) => format!("[{p}]"),
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let mut nested = Vec::new();
    for (key, prop) in props {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let target = resolve(prop, defs);
        if is_table(&target) {
            nested.push((path, target, false));
        } else if let Some(item) = array_item(&target, defs).filter(is_table) {
            nested.push((path, item, true));
        } else {
            out.push(KeyDoc {
                table: table.clone(),
                key: key.clone(),
                kind: kind_of(&target, defs),
                required: required.contains(&key.as_str()),
                default: prop.get("default").map(show_default),
                description: describe(prop, &target),
            });
        }
    }
    for (path, target, array) in nested {
        walk_table(&target, defs, &path, array, out);
    }
}

/// Follows `$ref`, and unwraps `Option<T>` (`anyOf: [T, null]`).
fn resolve(schema: &Value, defs: &Map<String, Value>) -> Value {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/$defs/");
        let mut target = defs.get(name).cloned().unwrap_or(Value::Null);
        if let (Some(d), Value::Object(t)) = (schema.get("description"), &mut target) {
            t.entry("description").or_insert(d.clone());
        }
        return resolve(&target, defs);
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
        let non_null: Vec<_> = any
            .iter()
            .filter(|s| s.get("type") != Some(&Value::from("null")))
            .collect();
        if non_null.len() == 1 {
            return resolve(non_null[0], defs);
        }
    }
    schema.clone()
}

fn is_table(schema: &Value) -> bool {
    schema.get("properties").is_some() || schema.get("type") == Some(&Value::from("object"))
}

fn array_item(schema: &Value, defs: &Map<String, Value>) -> Option<Value> {
    let is_array = schema.get("type") == Some(&Value::from("array"));
    is_array
        .then(|| schema.get("items").map(|i| resolve(i, defs)))
        .flatten()
}

fn kind_of(schema: &Value, defs: &Map<String, Value>) -> String {
    if let Some(variants) = schema.get("oneOf").or(schema.get("enum")) {
        let names: Vec<String> = variants
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| {
                v.get("const")
                    .or(Some(v))
                    .and_then(Value::as_str)
                    .map(|s| format!("`\"{s}\"`"))
            })
            .collect();
        return format!("one of {}", names.join(", "));
    }
    if let Some(item) = array_item(schema, defs) {
        return format!("list of {}", kind_of(&item, defs));
    }
    let ty = match schema.get("type") {
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("value"),
        Some(Value::String(t)) => t.as_str(),
        _ => "value",
    };
    match (ty, schema.get("format").and_then(Value::as_str)) {
        ("string", Some("ip")) => "IP address".to_owned(),
        ("string", Some("ipv4")) => "IPv4 address".to_owned(),
        ("string", Some(f)) => f.to_owned(),
        ("integer", _) => "integer".to_owned(),
        ("boolean", _) => "boolean".to_owned(),
        (t, _) => t.to_owned(),
    }
}

fn describe(prop: &Value, target: &Value) -> String {
    let text = prop
        .get("description")
        .or(target.get("description"))
        .and_then(Value::as_str)
        .unwrap_or("");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn show_default(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`\"{s}\"`"),
        Value::Array(a) if a.is_empty() => "empty".to_owned(),
        other => format!("`{other}`"),
    }
}

/// `docs/config.md`: every key with its type, default and meaning.
pub fn markdown() -> String {
    let mut out = String::from(
        "# appliance.toml reference\n\n\
         `/etc/telbox/appliance.toml` describes a whole telbox. This page is generated from the\n\
         configuration model (`appliance config reference`); a test keeps it in sync.\n\
         Check a file with `appliance config validate FILE`.\n",
    );
    let mut current = None;
    for k in keys() {
        if current.as_ref() != Some(&k.table) {
            let title = if k.table.is_empty() {
                "top level".to_owned()
            } else {
                format!("`{}`", k.table)
            };
            let _ = write!(out, "\n## {title}\n\n| key | type | required | default | meaning |\n|---|---|---|---|---|\n");
            current = Some(k.table.clone());
        }
        let required = if k.required { "yes" } else { "no" };
        let default = k.default.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "| `{}` | {} | {required} | {default} | {} |",
            k.key,
            k.kind,
            k.description.replace('|', "\\|")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_description() {
        let missing: Vec<_> = keys()
            .into_iter()
            .filter(|k| k.description.is_empty())
            .collect();
        assert!(
            missing.is_empty(),
            "keys without a doc comment: {missing:#?}"
        );
    }

    #[test]
    fn docs_config_md_is_in_sync_with_the_model() {
        let committed = include_str!("../../docs/config.md");
        assert!(
            committed == markdown(),
            "docs/config.md is out of date: run `make docs` (appliance config reference > docs/config.md)"
        );
    }

    #[test]
    fn known_keys_include_nested_tables() {
        let keys = keys();
        assert!(keys
            .iter()
            .any(|k| k.table == "[[network.interface]]" && k.key == "gateway"));
        assert!(keys
            .iter()
            .any(|k| k.table == "[system]" && k.key == "hostname" && k.required));
        assert!(keys
            .iter()
            .any(|k| k.table == "[[dhcp.reservation]]" && k.key == "mac"));
    }
}
