use super::*;

const MINIMAL: &str = r#"
[system]
hostname = "telbox"
domain = "example.com"

[[network.interface]]
name = "eth0"
role = "voip"
address = "10.0.0.2/24"
gateway = "10.0.0.1"
"#;

fn problems(text: &str) -> Vec<Located> {
    load(text, "t.toml")
        .expect_err("config should be invalid")
        .problems
}

#[test]
fn minimal_config_loads() {
    let c = load(MINIMAL, "t.toml").unwrap();
    assert_eq!(c.system.hostname.as_str(), "telbox");
    assert_eq!(c.network.interface[0].mtu, None);
    assert!(c.network.interface[0].managed);
}

#[test]
fn unknown_keys_are_all_reported_with_a_suggestion() {
    let text = MINIMAL
        .replace("domain =", "domian =")
        .replace("gateway =", "gatway =");
    let p = problems(&text);
    let unknown: Vec<_> = p
        .iter()
        .filter(|p| p.message.starts_with("unknown key"))
        .collect();
    assert_eq!(unknown.len(), 2, "{p:#?}");
    assert_eq!(unknown[0].line, 4);
    assert_eq!(unknown[0].column, 1);
    assert_eq!(unknown[0].help.as_deref(), Some("did you mean `domain`?"));
    assert_eq!(unknown[1].path, "network.interface[0].gatway");
    assert_eq!(unknown[1].line, 10);
}

#[test]
fn type_errors_and_rule_errors_point_at_the_value() {
    let text = MINIMAL.replace("\"10.0.0.1\"", "\"10.9.0.1\"");
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!((p[0].line, p[0].column), (10, 11));
    assert!(
        p[0].message.contains("outside the subnet 10.0.0.0/24"),
        "{}",
        p[0].message
    );
}

#[test]
fn several_bad_values_are_reported_together() {
    let text = MINIMAL
        .replace("\"telbox\"", "\"tel;box\"")
        .replace("10.0.0.2/24", "10.0.0.2");
    let p = problems(&text);
    assert_eq!(p.len(), 2, "{p:#?}");
    assert_eq!(p[0].line, 3);
    assert_eq!(p[1].line, 9);
}

#[test]
fn syntax_errors_are_located() {
    let p = problems("[system]\nhostname = \"a\ndomain = 1\n");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].line, 2);
    assert!(p[0].message.starts_with("TOML syntax"));
}

#[test]
fn redaction_hides_inline_passwords() {
    let text = format!(
        "{MINIMAL}\n[[berofos]]\nname = \"fos1\"\nhost = \"10.0.0.9\"\nuser = \"admin\"\npassword = \"s3cret-pw\"\n"
    );
    let c = load(&text, "t.toml").unwrap();
    assert!(c.to_toml().contains("s3cret-pw"));
    let shown = c.redacted().to_toml();
    assert!(!shown.contains("s3cret-pw"));
    assert!(shown.contains(values::Secret::REDACTED));
    assert!(!format!("{c:?}").contains("s3cret-pw"));
}

#[test]
fn no_input_can_forge_a_line_of_output() {
    let text = MINIMAL.replace("\"telbox\"", "\"tel.box\\nevil: error: injected\"");
    let rendered = load(&text, "t.toml").unwrap_err().render();
    assert!(
        rendered.lines().all(|l| !l.starts_with("evil")),
        "{rendered}"
    );
    assert!(
        rendered.contains("\\n"),
        "the newline should be shown escaped: {rendered}"
    );
}

#[test]
fn ntp_fallback_can_be_turned_off() {
    let c = load(&format!("{MINIMAL}\n[ntp]\nlocal_stratum = 0\n"), "t.toml").unwrap();
    assert_eq!(c.ntp.local_stratum, None);
    assert_eq!(load(&c.to_toml(), "again").unwrap(), c);
    assert_eq!(load(MINIMAL, "t.toml").unwrap().ntp.local_stratum, Some(10));
}

#[test]
fn a_text_over_the_size_limit_is_one_problem_quoting_nothing() {
    let text = format!("{MINIMAL}\n# {}\n", "x".repeat(limits::MAX_CONFIG_BYTES));
    let report = load(&text, "t.toml").unwrap_err();
    assert_eq!(report.problems.len(), 1);
    assert!(report.too_large.is_some());
    let p = &report.problems[0];
    assert!(p.message.contains("the limit is 262144 bytes"), "{p:?}");
    assert!(p.source_line.is_empty());
}

#[test]
fn a_section_over_its_count_is_refused_before_any_rule_runs() {
    let mut text = MINIMAL.to_owned();
    for i in 0..1100 {
        text.push_str(&format!(
            "[[network.vlan]]\nname = \"v{i}\"\nparent = \"nope\"\nid = 7\n"
        ));
    }
    let report = load(&text, "t.toml").unwrap_err();
    assert_eq!(report.too_large.as_ref().unwrap().what, "network.vlan");
    assert_eq!(report.problems.len(), 1, "no per-VLAN rule ran");
    let p = &report.problems[0];
    assert_eq!(p.path, "network.vlan[1024]");
    assert_eq!(
        p.line,
        11 + 4 * 1024,
        "points at the first VLAN over the limit"
    );
}

#[test]
fn many_problems_are_capped_and_counted() {
    let mut text = MINIMAL.to_owned();
    for i in 0..200 {
        text.push_str(&format!(
            "[[network.vlan]]\nname = \"v{i}\"\nparent = \"eth0\"\nid = 7\nmethod = \"off\"\n"
        ));
    }
    let p = problems(&text);
    assert_eq!(p.len(), report::MAX_PROBLEMS + 1);
    assert_eq!(
        p.last().unwrap().message,
        format!(
            "{} more problems are not listed",
            199 - report::MAX_PROBLEMS
        )
    );
}

#[test]
fn a_huge_key_is_quoted_in_a_short_window() {
    let key = "\t".repeat(200_000);
    let text = format!("{MINIMAL}\n[system.\"{key}\"]\nx = 1\n");
    let report = load(&text, "t.toml").unwrap_err();
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.len() < 8 * 1024, "{} bytes", json.len());
    let rendered = report.render();
    assert!(rendered.len() < 8 * 1024, "{} bytes", rendered.len());
    assert!(rendered.lines().all(|l| l.chars().count() < 1300));
}

#[test]
fn a_key_nested_too_deep_is_reported_on_its_line() {
    let deep = vec!["a"; 300].join(".");
    let text = format!("{MINIMAL}\n{deep} = 1\n");
    let p = problems(&text);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].line, 12, "{:?}", p[0]);
}
