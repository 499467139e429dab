//! The OS seam holds: outside `src/os/`, sysconfd's code spawns no
//! process, writes, renames or removes no file, opens no netlink socket and
//! reads no sysfs or procfs path. Everything that touches the machine goes
//! through `os::Os` (or, for sysconfd's own state directory, through the
//! primitives in `os::files`).
//!
//! The check reads the source as Rust tokens: comments are skipped, string
//! literals are told from code, and `#[cfg(test)]` modules (inline, or a
//! file a `#[cfg(test)] mod x;` names) are left out.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Paths of code that say a primitive is used, whitespace removed.
const FORBIDDEN_CODE: &[(&str, &str)] = &[
    ("process::Command", "a process spawn"),
    ("Command::new", "a process spawn"),
    ("tokio::process", "a process spawn"),
    ("fs::write", "a file write"),
    ("File::create", "a file write"),
    ("OpenOptions", "a file write"),
    ("fs::rename", "a file rename"),
    ("fs::remove_file", "a file removal"),
    ("fs::hard_link", "a file link"),
    ("set_permissions", "a file mode change"),
    ("sethostname", "a host name change"),
    ("new_connection", "a netlink socket"),
    ("netlink_sys", "a netlink socket"),
    ("AF_NETLINK", "a netlink socket"),
    ("Socket::new", "a socket"),
    ("MonitorBuilder", "a udev (netlink) socket"),
    ("mkfifo", "a FIFO creation"),
];

/// Files that still hold a primitive, each with why; no other file may.
/// None is left: the HA runtime went behind the seam last (`os::ha`).
/// An entry with nothing left to report fails the check too, so the list
/// only shrinks.
const NOT_YET_BEHIND_THE_SEAM: &[(&str, &str)] = &[];

/// String literals naming these are sysfs or procfs reads.
const FORBIDDEN_PATHS: &[&str] = &["/sys", "/proc"];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Violation {
    file: PathBuf,
    line: usize,
    what: String,
}

/// A token of interest: code text (identifiers and punctuation, with the
/// line it starts on) or a string literal's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Code(String, usize),
    Str(String, usize),
}

/// Splits Rust source into code runs and string literals; comments go.
fn tokens(src: &str) -> Vec<Token> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut code = String::new();
    let mut code_line = 1;
    let mut line = 1;
    let mut i = 0;
    let flush = |code: &mut String, out: &mut Vec<Token>, at: usize| {
        if !code.trim().is_empty() {
            out.push(Token::Code(std::mem::take(code), at));
        }
        code.clear();
    };
    // Code text keeps every newline of the source, so a token's lines
    // count from the line it starts on.
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if code.is_empty() {
            code_line = line;
        }
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            code.push(' ');
            continue;
        }
        if c == '/' && next == Some('*') {
            code.push(' ');
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        // Kept, so the code's lines stay where they are.
                        line += 1;
                        code.push('\n');
                    }
                    i += 1;
                }
            }
            continue;
        }
        // Raw strings: r"…", r#"…"#, br#"…"#.
        let raw_start = match (c, next) {
            ('r', Some('"' | '#')) => Some(i + 1),
            ('b', Some('r')) if matches!(chars.get(i + 2), Some('"' | '#')) => Some(i + 2),
            _ => None,
        };
        let ident_before = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if let (Some(mut j), false) = (raw_start, ident_before) {
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) == Some(&'"') {
                flush(&mut code, &mut out, code_line);
                let start_line = line;
                j += 1;
                let mut text = String::new();
                loop {
                    match chars.get(j) {
                        None => break,
                        Some('"') if (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) => {
                            j += 1 + hashes;
                            break;
                        }
                        Some(&ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            text.push(ch);
                            j += 1;
                        }
                    }
                }
                out.push(Token::Str(text, start_line));
                i = j;
                continue;
            }
        }
        if c == '"' {
            flush(&mut code, &mut out, code_line);
            let start_line = line;
            let mut text = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    text.push(chars[i]);
                    i += 1;
                }
                if let Some(&ch) = chars.get(i) {
                    if ch == '\n' {
                        line += 1;
                    }
                    text.push(ch);
                }
                i += 1;
            }
            i += 1;
            out.push(Token::Str(text, start_line));
            continue;
        }
        // Char literals ('"', '\'', '\n'), not lifetimes ('a).
        if c == '\'' {
            let close = match (next, chars.get(i + 2), chars.get(i + 3)) {
                (Some('\\'), _, _) => (i + 2..chars.len().min(i + 12)).find(|&k| chars[k] == '\''),
                (Some(_), Some('\''), _) => Some(i + 2),
                _ => None,
            };
            if let Some(end) = close {
                code.push(' ');
                i = end + 1;
                continue;
            }
        }
        if c == '\n' {
            line += 1;
        }
        code.push(c);
        i += 1;
    }
    flush(&mut code, &mut out, code_line);
    out
}

/// The tokens, with every `#[cfg(test)] mod name { … }` left out; the
/// names of `#[cfg(test)] mod name;` go to `test_files`.
fn without_test_modules(tokens: Vec<Token>, test_files: &mut BTreeSet<String>) -> Vec<Token> {
    // Work on the code as one string with markers for the literals.
    let mut out = Vec::new();
    let mut skipping: Option<i64> = None;
    let mut pending_cfg = false;
    for t in tokens {
        let Token::Code(text, line) = t else {
            if skipping.is_none() {
                out.push(t);
            }
            continue;
        };
        let mut kept = String::new();
        let mut rest = text.as_str();
        while !rest.is_empty() {
            if let Some(depth) = skipping.as_mut() {
                let Some(c) = rest.chars().next() else { break };
                kept.push(if c == '\n' { '\n' } else { ' ' });
                match c {
                    '{' => *depth += 1,
                    '}' => {
                        *depth -= 1;
                        if *depth == 0 {
                            skipping = None;
                        }
                    }
                    _ => {}
                }
                rest = &rest[c.len_utf8()..];
                continue;
            }
            let squeezed: String = match rest.starts_with('#') {
                true => rest
                    .chars()
                    .take(40)
                    .filter(|c| !c.is_whitespace())
                    .collect(),
                false => String::new(),
            };
            if squeezed.starts_with("#[cfg(test)]") {
                let end = rest.find(']').map_or(rest.len(), |e| e + 1);
                kept.extend(rest[..end].chars().filter(|c| *c == '\n'));
                rest = &rest[end..];
                pending_cfg = true;
                continue;
            }
            if pending_cfg {
                let trimmed = rest.trim_start();
                kept.extend(
                    rest[..rest.len() - trimmed.len()]
                        .chars()
                        .filter(|c| *c == '\n'),
                );
                if trimmed.is_empty() {
                    break;
                }
                pending_cfg = false;
                if let Some(after) = trimmed
                    .strip_prefix("pub(crate) mod ")
                    .or_else(|| trimmed.strip_prefix("pub mod "))
                    .or_else(|| trimmed.strip_prefix("mod "))
                {
                    let name: String = after
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let after_name = after[name.len()..].trim_start();
                    let skipped = &trimmed[..trimmed.len() - after_name.len()];
                    kept.extend(skipped.chars().filter(|c| *c == '\n'));
                    if let Some(after) = after_name.strip_prefix(';') {
                        test_files.insert(name);
                        rest = after;
                    } else if let Some(inside) = after_name.strip_prefix('{') {
                        skipping = Some(1);
                        rest = inside;
                    } else {
                        rest = after_name;
                    }
                    continue;
                }
            }
            let c = rest.chars().next().expect("not empty");
            kept.push(c);
            rest = &rest[c.len_utf8()..];
        }
        if !kept.trim().is_empty() {
            out.push(Token::Code(kept, line));
        }
    }
    out
}

/// What in `src` uses a primitive outside the seam. `test_files` gets the
/// modules `src` declares under `#[cfg(test)]`.
fn scan_source(file: &Path, src: &str, test_files: &mut BTreeSet<String>) -> Vec<Violation> {
    let mut found = Vec::new();
    for t in without_test_modules(tokens(src), test_files) {
        match t {
            Token::Code(text, line) => {
                // Line by line, so a violation names its own line.
                for (n, l) in text.lines().enumerate() {
                    let squeezed: String = l.chars().filter(|c| !c.is_whitespace()).collect();
                    for (pattern, what) in FORBIDDEN_CODE {
                        if squeezed.contains(pattern) {
                            found.push(Violation {
                                file: file.to_owned(),
                                line: line + n,
                                what: format!("{what} (`{pattern}`)"),
                            });
                        }
                    }
                    // `use std::process::{Command, …}`
                    if let Some(at) = squeezed.find("process::{") {
                        let group = &squeezed[at..];
                        let group = &group[..group.find('}').unwrap_or(group.len())];
                        if group.split([',', '{']).any(|w| w == "Command") {
                            found.push(Violation {
                                file: file.to_owned(),
                                line: line + n,
                                what: "a process spawn (`process::{Command}`)".into(),
                            });
                        }
                    }
                }
            }
            Token::Str(text, line) => {
                for path in FORBIDDEN_PATHS {
                    if text == *path || text.starts_with(&format!("{path}/")) {
                        found.push(Violation {
                            file: file.to_owned(),
                            line,
                            what: format!("a read of {path} (`\"{text}\"`)"),
                        });
                    }
                }
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every violation under `src` (a crate's `src/`), outside `src/os/`.
fn scan_tree(src: &Path) -> Vec<Violation> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    // Modules a parent declares under #[cfg(test)], by directory.
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    let mut found = Vec::new();
    let mut scanned = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        let mut test_files = BTreeSet::new();
        let hits = scan_source(file.strip_prefix(src).unwrap(), &text, &mut test_files);
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let dir = if ["mod", "lib", "main"].contains(&stem.as_str()) {
            file.parent().unwrap().to_owned()
        } else {
            file.with_extension("")
        };
        for name in test_files {
            test_only.insert(dir.join(format!("{name}.rs")));
            test_only.insert(dir.join(&name));
        }
        scanned.push((file.clone(), hits));
    }
    let os = src.join("os");
    for (file, hits) in scanned {
        let in_test = test_only
            .iter()
            .any(|t| file == *t || (t.extension().is_none() && file.starts_with(t)));
        if file.starts_with(&os) || in_test {
            continue;
        }
        found.extend(hits);
    }
    found
}

#[test]
fn nothing_outside_the_os_module_touches_the_machine() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    assert!(src.join("os/mod.rs").exists(), "the seam is at src/os");
    let (waived, found): (Vec<Violation>, Vec<Violation>) =
        scan_tree(&src).into_iter().partition(|v| {
            NOT_YET_BEHIND_THE_SEAM
                .iter()
                .any(|(f, _)| v.file == Path::new(f))
        });
    for (file, why) in NOT_YET_BEHIND_THE_SEAM {
        assert!(
            waived.iter().any(|v| v.file == Path::new(file)),
            "{file} ({why}) is behind the seam now: drop it from NOT_YET_BEHIND_THE_SEAM"
        );
    }
    let report: Vec<String> = found
        .iter()
        .map(|v| format!("{}:{}: {}", v.file.display(), v.line, v.what))
        .collect();
    assert!(
        found.is_empty(),
        "effects outside sysconfd/src/os/ (put them behind os::Os):\n{}",
        report.join("\n")
    );
}

#[test]
fn the_os_module_is_where_the_primitives_are() {
    // The check would pass on a tree that had none at all: the seam's own
    // files must show up when scanned as if they were outside it.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/os");
    let mut seen = BTreeSet::new();
    for file in [
        "commands.rs",
        "files.rs",
        "netlink.rs",
        "supervise.rs",
        "process.rs",
        "ha.rs",
    ] {
        let text = fs::read_to_string(src.join(file)).unwrap();
        let hits = scan_source(Path::new(file), &text, &mut BTreeSet::new());
        assert!(!hits.is_empty(), "{file} has no primitive?");
        seen.extend(hits.into_iter().map(|v| v.what));
    }
    for what in [
        "a process spawn",
        "a file write",
        "a file rename",
        "a netlink socket",
        "a FIFO creation",
    ] {
        assert!(seen.iter().any(|s| s.starts_with(what)), "{what}: {seen:?}");
    }
}

#[test]
fn an_injected_violation_fails_the_check() {
    // A copy of sysconfd's source with one violation added to the engine.
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let copy = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    rust_files(&real, &mut files);
    for f in &files {
        let to = copy.path().join(f.strip_prefix(&real).unwrap());
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(f, &to).unwrap();
    }
    let waived = |found: Vec<Violation>| -> Vec<Violation> {
        found
            .into_iter()
            .filter(|v| {
                !NOT_YET_BEHIND_THE_SEAM
                    .iter()
                    .any(|(f, _)| v.file == Path::new(f))
            })
            .collect()
    };
    assert_eq!(
        waived(scan_tree(copy.path())),
        Vec::new(),
        "the copy is clean"
    );
    let engine = copy.path().join("engine/mod.rs");
    let mut text = fs::read_to_string(&engine).unwrap();
    let lines = text.lines().count();
    text.push_str("\nfn sneaky() {\n    let _ = std::fs::write(\"/etc/x\", b\"\");\n}\n");
    fs::write(&engine, text).unwrap();
    let found = waived(scan_tree(copy.path()));
    assert_eq!(
        found,
        vec![Violation {
            file: "engine/mod.rs".into(),
            line: lines + 3,
            what: "a file write (`fs::write`)".into(),
        }]
    );
}

#[test]
fn comments_strings_and_test_modules_are_not_code() {
    let clean = r##"
        //! Runs `std::process::Command` — in a comment only.
        /* fs::write( /* nested */ File::create */
        const HELP: &str = "std::fs::write is how one would write";
        const RAW: &str = r#"Command::new("x") and "/proc/self""#;
        fn quote() -> char { '"' }
        fn lifetime<'a>(s: &'a str) -> &'a str { s }
        #[cfg(test)]
        mod tests {
            fn reads() { let _ = std::fs::read_to_string("/proc/self/stat"); std::fs::write("x", "").unwrap(); }
        }
        #[cfg(test)]
        mod more;
    "##;
    let mut test_files = BTreeSet::new();
    assert_eq!(
        scan_source(Path::new("clean.rs"), clean, &mut test_files),
        Vec::new()
    );
    assert_eq!(test_files, BTreeSet::from(["more".to_owned()]));

    let dirty = r#"
        use std::process::{Child, Command};
        use tokio::process;
        fn spawn() { std :: process :: Command :: new("x"); }
        fn sys() -> &'static str { "/sys/class/net" }
        fn proc_of(pid: u32) -> String { format!("/proc/{pid}/stat") }
        fn write() { std::fs::rename("a", "b").unwrap(); }
        fn after_a_char() -> char { let _ = File::create("x"); '}' }
    "#;
    let found = scan_source(Path::new("dirty.rs"), dirty, &mut BTreeSet::new());
    let lines: Vec<(usize, &str)> = found
        .iter()
        .map(|v| (v.line, v.what.split(" (").next().unwrap()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (2, "a process spawn"),
            (3, "a process spawn"),
            (4, "a process spawn"),
            (4, "a process spawn"),
            (5, "a read of /sys"),
            (6, "a read of /proc"),
            (7, "a file rename"),
            (8, "a file write"),
        ]
    );
}
