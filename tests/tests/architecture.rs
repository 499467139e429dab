//! The workspace's shape, read from `cargo metadata`: the contract library
//! stays free of any command line, transport or device client, and the
//! dependencies point one way (sysconfd → hwmgr → appliance).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

const HOST: &str = "x86_64-unknown-linux-gnu";

/// Package name → the names of its normal (not dev, not build) dependencies.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn graph() -> &'static Graph {
    static GRAPH: std::sync::OnceLock<Graph> = std::sync::OnceLock::new();
    GRAPH.get_or_init(read_graph)
}

/// The dependency graph for the platform the tests run on (the others'
/// crates, Windows' among them, need not be downloaded).
fn read_graph() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--filter-platform",
            HOST,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let name_of: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let mut graph = Graph::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let deps = node["deps"].as_array().unwrap().iter().filter(|d| {
            d["dep_kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kind"].is_null())
        });
        let names = deps
            .map(|d| name_of[d["pkg"].as_str().unwrap()].to_owned())
            .collect();
        graph.insert(name_of[node["id"].as_str().unwrap()].to_owned(), names);
    }
    graph
}

/// Every package `root` needs to build, itself excluded.
fn reach(graph: &Graph, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![root.to_owned()];
    while let Some(p) = todo.pop() {
        for d in graph.get(&p).into_iter().flatten() {
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    seen
}

fn assert_free_of(graph: &Graph, package: &str, banned: &[&str]) {
    let deps = reach(graph, package);
    let found: Vec<&&str> = banned.iter().filter(|b| deps.contains(**b)).collect();
    assert!(
        found.is_empty(),
        "{package} must not depend on {found:?} (directly or not)"
    );
}

#[test]
fn the_contract_has_no_command_line_transport_or_device_client() {
    let g = graph();
    assert!(
        g.contains_key("appliance"),
        "the contract crate is named appliance"
    );
    assert_free_of(
        g,
        "appliance",
        &[
            "clap",
            "tokio",
            "zbus",
            "berofos",
            "indicatif",
            "hwmgr",
            "sysconfd",
        ],
    );
}

#[test]
fn the_client_proxies_carry_no_command_line() {
    assert_free_of(
        graph(),
        "telbox-client",
        &["clap", "berofos", "hwmgr", "sysconfd"],
    );
}

#[test]
fn dependencies_point_one_way() {
    let g = graph();
    assert_free_of(g, "hwmgr", &["sysconfd", "appliance-cli", "telbox-client"]);
    assert_free_of(g, "appliance-cli", &["sysconfd", "hwmgr"]);
    assert!(reach(g, "sysconfd").contains("hwmgr"));
    assert!(reach(g, "hwmgr").contains("appliance"));
}

#[test]
fn the_check_sees_a_banned_dependency() {
    let g = graph();
    let deps = reach(g, "appliance-cli");
    assert!(
        deps.contains("clap") && deps.contains("appliance"),
        "{deps:?}"
    );
}
