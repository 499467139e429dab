//! `appliance.toml`: parse and validate. A config that loads renders back
//! to TOML that loads equal; a refused one gives a report that points
//! inside the text and prints no control characters.
#![no_main]

use appliance::config::{self, Locator};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Locator::parse(text);
    match config::load(text, "appliance.toml") {
        Ok(cfg) => {
            let rendered = cfg.to_toml();
            let again = config::load(&rendered, "rendered.toml")
                .unwrap_or_else(|r| panic!("rendered config is refused:\n{rendered}\n{r}"));
            assert_eq!(again, cfg, "rendered config loads different:\n{rendered}");
            let _ = cfg.redacted().to_toml();
        }
        Err(report) => {
            assert!(!report.problems.is_empty(), "a refusal lists no problem");
            let lines = text.split('\n').count();
            for p in &report.problems {
                assert!(p.line >= 1 && p.line <= lines, "line {} of {lines}", p.line);
                assert!(p.column >= 1, "column {}", p.column);
            }
            let shown = report.render();
            assert!(
                !shown.chars().any(|c| c.is_control() && c != '\n'),
                "report prints a control character: {shown:?}"
            );
            serde_json::to_string(&report).expect("a report serializes");
        }
    }
});
