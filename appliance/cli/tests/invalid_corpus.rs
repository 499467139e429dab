//! The invalid-config corpus under `tests/invalid/`, run through the real
//! `appliance` binary: every file must be rejected with exit status 1 and
//! each problem its `# expect: LINE:COL: text` lines announce must be
//! printed as `FILE:LINE:COL: error: ...`, in text and in `--json` alike.
//! The shipped examples must all validate.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The issue asks for at least 40; keep a margin so the corpus cannot shrink unnoticed.
const MIN_CORPUS: usize = 45;
/// Files whose name says they try to break out of a generated file.
const MIN_INJECTIONS: usize = 10;

fn appliance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args(args)
        .output()
        .expect("the appliance binary runs")
}

fn repo_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(sub)
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// One `# expect: LINE:COL: text` line.
#[derive(Debug)]
struct Expect {
    line: usize,
    column: usize,
    text: String,
}

fn parse_expects(source: &str) -> Result<Vec<Expect>, String> {
    let mut out = Vec::new();
    for raw in source.lines().filter_map(|l| l.strip_prefix("# expect:")) {
        let mut parts = raw.trim_start().splitn(3, ':');
        let (Some(line), Some(column), Some(text)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("malformed expect line `{raw}`"));
        };
        let (Ok(line), Ok(column)) = (line.trim().parse(), column.trim().parse()) else {
            return Err(format!("expect line `{raw}` has no LINE:COL"));
        };
        let text = text.trim().to_owned();
        if text.is_empty() {
            return Err(format!("expect line `{raw}` has no message text"));
        }
        out.push(Expect { line, column, text });
    }
    if out.is_empty() {
        return Err("no `# expect: LINE:COL: text` line".to_owned());
    }
    if !source.starts_with("# expect:") {
        return Err("the first line must be an `# expect:` line".to_owned());
    }
    Ok(out)
}

/// The text output split into one block per problem: the
/// `FILE:LINE:COL: error:` line with its snippet and help lines.
fn error_blocks<'a>(stdout: &'a str, file: &str) -> Vec<&'a str> {
    let head = format!("{file}:");
    let starts: Vec<usize> = stdout
        .match_indices(&head)
        .map(|(i, _)| i)
        .filter(|&i| i == 0 || stdout.as_bytes()[i - 1] == b'\n')
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(n, &s)| &stdout[s..starts.get(n + 1).copied().unwrap_or(stdout.len())])
        .collect()
}

/// Checks one corpus file; returns what is wrong with its output.
fn check_file(path: &Path) -> Vec<String> {
    let file = path.to_str().expect("UTF-8 path");
    let source = std::fs::read_to_string(path).expect("corpus file is readable");
    let expects = match parse_expects(&source) {
        Ok(e) => e,
        Err(e) => return vec![e],
    };
    let mut wrong = Vec::new();

    let text = appliance(&["config", "validate", file]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    if text.status.code() != Some(1) {
        wrong.push(format!("exit status {:?}, expected 1", text.status.code()));
    }
    let blocks = error_blocks(&stdout, file);
    for e in &expects {
        let head = format!("{file}:{}:{}: error: ", e.line, e.column);
        if !blocks
            .iter()
            .any(|b| b.starts_with(&head) && b.contains(&e.text))
        {
            wrong.push(format!("no `{head}...` problem mentioning `{}`", e.text));
        }
    }

    let json = appliance(&["config", "validate", "--json", file]);
    if json.status.code() != Some(1) {
        wrong.push(format!(
            "--json exit status {:?}, expected 1",
            json.status.code()
        ));
    }
    match serde_json::from_slice::<serde_json::Value>(&json.stdout) {
        Err(err) => wrong.push(format!("--json output is not JSON: {err}")),
        Ok(value) => {
            let problems = value.as_array().cloned().unwrap_or_default();
            if problems.len() != blocks.len() {
                wrong.push(format!(
                    "--json lists {} problems, the text output {}",
                    problems.len(),
                    blocks.len()
                ));
            }
            for p in &problems {
                for key in ["file", "line", "column", "path", "message"] {
                    if p.get(key).is_none() {
                        wrong.push(format!("--json problem without `{key}`: {p}"));
                    }
                }
            }
            for e in &expects {
                let found = problems.iter().any(|p| {
                    p["file"] == file
                        && p["line"] == e.line
                        && p["column"] == e.column
                        && [&p["message"], &p["help"]]
                            .iter()
                            .any(|s| s.as_str().is_some_and(|s| s.contains(&e.text)))
                });
                if !found {
                    wrong.push(format!(
                        "--json has no problem at {}:{} mentioning `{}`",
                        e.line, e.column, e.text
                    ));
                }
            }
        }
    }
    if !wrong.is_empty() {
        wrong.push(format!("output was:\n{stdout}"));
    }
    wrong
}

#[test]
fn every_invalid_config_is_rejected_where_it_says() {
    let files = toml_files(&repo_dir("tests/invalid"));
    assert!(
        files.len() >= MIN_CORPUS,
        "the invalid corpus has {} files; at least {MIN_CORPUS} are required",
        files.len()
    );
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let wrong = check_file(f);
            (!wrong.is_empty()).then(|| format!("{}:\n  {}", f.display(), wrong.join("\n  ")))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} corpus files failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn the_corpus_tries_injections() {
    let injections = toml_files(&repo_dir("tests/invalid"))
        .iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            ["injection", "metacharacters", "dotdot", "traversal"]
                .iter()
                .any(|k| name.contains(k))
        })
        .count();
    assert!(
        injections >= MIN_INJECTIONS,
        "only {injections} injection attempts in the corpus"
    );
}

#[test]
fn the_expect_parser_rejects_malformed_lines() {
    assert!(parse_expects("[system]\n").is_err());
    assert!(parse_expects("# expect: 3: no column\n").is_err());
    assert!(parse_expects("# expect: 3:4:\n").is_err());
    let e = parse_expects("# expect: 3:4: a: b\n").unwrap();
    assert_eq!((e[0].line, e[0].column, e[0].text.as_str()), (3, 4, "a: b"));
}

#[test]
fn every_example_validates() {
    let files = toml_files(&repo_dir("examples"));
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for wanted in [
        "minimal.toml",
        "e1-provider-pbx.toml",
        "bri-ptmp-france.toml",
        "analog-tc400.toml",
        "ha-master.toml",
        "ha-slave.toml",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "examples/{wanted} is missing"
        );
    }
    let args: Vec<&str> = ["config", "validate"]
        .into_iter()
        .chain(files.iter().map(|p| p.to_str().unwrap()))
        .collect();
    let out = appliance(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "examples do not validate:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_missing_file_is_a_usage_error() {
    let out = appliance(&["config", "validate", "/nonexistent/appliance.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/nonexistent/appliance.toml"),
        "stderr does not name the file: {stderr}"
    );
}

#[test]
fn a_missing_file_wins_over_valid_ones() {
    let minimal = repo_dir("examples/minimal.toml");
    let out = appliance(&[
        "config",
        "validate",
        minimal.to_str().unwrap(),
        "/nonexistent/appliance.toml",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn no_file_argument_is_a_usage_error() {
    let out = appliance(&["config", "validate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}
