//! The engine over a scratch root, without the network or daemons: what a
//! failed apply leaves behind, whatever step failed.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;

/// The box the engine tests start from (its network is left alone here).
use super::sim_tests::A;

fn b() -> String {
    A.replace("\"telbox\"", "\"newbox\"")
}

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    async fn open(&self) -> (Engine, Recovery) {
        let opts = Options {
            root: Root::new(self.root()),
            state_dir: self.state(),
            set_hostname: false,
            fault_abort_at: None,
            network: false,
            services: ServicesMode::None,
        };
        Engine::open(opts).await.unwrap()
    }

    /// The files under the root, with their content.
    fn files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        walk(&self.root(), &mut out);
        out.sort();
        out
    }

    fn journal(&self) -> Option<Journal> {
        Journal::find(&self.state()).unwrap()
    }

    /// Makes the store refuse inserts (all, or all but failed rows), as a
    /// full disk would.
    fn refuse_inserts(&self, all: bool) {
        let db = rusqlite::Connection::open(self.state().join("generations.db")).unwrap();
        let when = if all {
            ""
        } else {
            "WHEN NEW.outcome != 'failed'"
        };
        db.execute_batch(&format!(
            "CREATE TRIGGER full BEFORE INSERT ON generation {when} \
             BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;"
        ))
        .unwrap();
    }

    fn accept_inserts(&self) {
        let db = rusqlite::Connection::open(self.state().join("generations.db")).unwrap();
        db.execute_batch("DROP TRIGGER full;").unwrap();
    }
}

fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = e.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push((path.clone(), fs::read(&path).unwrap()));
        }
    }
}

fn req(text: &str) -> ApplyRequest {
    ApplyRequest {
        text: text.to_owned(),
        base: None,
        confirm_timeout: None,
        caller_uid: 0,
    }
}

fn outcomes(e: &Engine) -> Vec<(u64, Outcome, String)> {
    e.history(0, u64::MAX)
        .unwrap()
        .1
        .into_iter()
        .map(|g| (g.id, g.outcome, g.reason))
        .collect()
}

#[tokio::test]
async fn a_commit_the_store_refuses_is_undone_and_recorded_as_failed() {
    let s = Scratch::new();
    let (mut e, _) = s.open().await;
    e.apply(req(A)).await.unwrap();
    let before = s.files();
    s.refuse_inserts(false);

    let err = e.apply(req(&b())).await.unwrap_err().to_string();
    assert!(err.contains("database or disk is full"), "{err}");
    assert_eq!(s.files(), before, "the refused generation's files stayed");
    assert_eq!(e.current_generation().unwrap(), 1);
    let h = outcomes(&e);
    assert_eq!((h[0].0, h[0].1), (2, Outcome::Failed));
    assert!(
        h[0].2.contains("database or disk is full")
            && h[0].2.ends_with("the previous generation was restored"),
        "{h:?}"
    );
    assert!(s.journal().is_none());
    assert_eq!(e.degraded(), None);

    s.accept_inserts();
    let applied = e.apply(req(&b())).await.unwrap();
    assert_eq!((applied.generation, applied.changed), (3, true));
}

#[tokio::test]
async fn a_failure_the_store_cannot_record_is_degraded_until_the_next_apply() {
    let s = Scratch::new();
    let (mut e, _) = s.open().await;
    e.apply(req(A)).await.unwrap();
    let before = s.files();
    s.refuse_inserts(true);

    let err = e.apply(req(&b())).await.unwrap_err().to_string();
    assert!(
        err.contains("database or disk is full")
            && err.contains("history could not record the failure"),
        "{err}"
    );
    assert_eq!(s.files(), before);
    let d = e.degraded().expect("degraded");
    assert_eq!((d.generation, d.previous), (2, Some(1)));
    assert_eq!(d.restore_error, None, "the system was restored");
    assert!(d.cause.contains("database or disk is full"), "{d:?}");
    assert!(d.record_error.is_some(), "{d:?}");
    assert_eq!(s.journal().map(|j| j.generation), Some(2), "journal kept");
    assert_eq!(
        Journal::noted(&s.state()).map(|f| f.cause),
        Some(d.cause.clone()),
        "the cause is kept beside the journal"
    );
    // While the store still refuses, a new apply does not start over it.
    let err = e.apply(req(&b())).await.unwrap_err().to_string();
    assert!(err.contains("generation 2 is not finished"), "{err}");

    s.accept_inserts();
    let applied = e.apply(req(&b())).await.unwrap();
    assert_eq!(applied.generation, 3);
    assert_eq!(e.degraded(), None);
    assert!(s.journal().is_none());
    let h = outcomes(&e);
    assert_eq!(h[1].0, 2);
    assert_eq!(h[1].1, Outcome::Failed);
    assert!(h[1].2.contains("database or disk is full"), "{h:?}");
}

#[tokio::test]
async fn the_next_start_records_the_cause_kept_beside_the_journal() {
    let s = Scratch::new();
    let (mut e, _) = s.open().await;
    e.apply(req(A)).await.unwrap();
    s.refuse_inserts(true);
    assert!(e.apply(req(&b())).await.is_err());
    drop(e);
    s.accept_inserts();

    let (e, recovery) = s.open().await;
    assert_eq!(recovery.interrupted, Some(2));
    assert_eq!(e.degraded(), None);
    let h = outcomes(&e);
    assert_eq!((h[0].0, h[0].1), (2, Outcome::Failed));
    assert!(
        h[0].2.contains("database or disk is full") && !h[0].2.contains("interrupted"),
        "{h:?}"
    );
    assert!(s.journal().is_none());
}

#[tokio::test]
async fn a_restore_that_fails_is_degraded_recorded_and_finished_by_the_next_apply() {
    let s = Scratch::new();
    let (mut e, _) = s.open().await;
    e.apply(req(A)).await.unwrap();
    // resolv.conf cannot be replaced (a directory is in its way), nor taken
    // back: the apply fails there, and so does its undo.
    let resolv = s.root().join("etc/resolv.conf");
    fs::remove_file(&resolv).unwrap();
    fs::create_dir(&resolv).unwrap();
    fs::write(resolv.join("in-the-way"), "").unwrap();

    let err = e.apply(req(&b())).await.unwrap_err().to_string();
    assert!(
        err.contains("writing /etc/resolv.conf") && err.contains("restoring /etc/resolv.conf"),
        "the caller sees the cause and the restore error: {err}"
    );
    let d = e.degraded().expect("degraded");
    assert!(
        d.restore_error
            .as_deref()
            .is_some_and(|r| r.contains("restoring /etc/resolv.conf")),
        "{d:?}"
    );
    assert!(
        d.differs
            .iter()
            .any(|l| l.starts_with("write /etc/resolv.conf")),
        "{d:?}"
    );
    assert_eq!(d.record_error, None);
    let hostname = fs::read_to_string(s.root().join("etc/hostname")).unwrap();
    assert_eq!(hostname, "telbox\n", "the rest was restored");
    let h = outcomes(&e);
    assert_eq!((h[0].0, h[0].1), (2, Outcome::Failed));
    assert!(
        h[0].2.contains("writing /etc/resolv.conf")
            && h[0].2.contains("restoring the previous generation failed"),
        "{h:?}"
    );
    assert!(s.journal().is_some(), "journal kept for the next try");

    fs::remove_dir_all(&resolv).unwrap();
    // The next apply undoes the rest first (resolv.conf did not exist when
    // generation 2 began), then plans generation 1's file back.
    let applied = e.apply(req(A)).await.unwrap();
    assert_eq!(applied.generation, 3);
    assert!(
        applied.plan.len() == 1 && applied.plan[0].starts_with("write /etc/resolv.conf "),
        "{applied:?}"
    );
    assert_eq!(e.degraded(), None);
    assert!(s.journal().is_none());
    let h = outcomes(&e);
    assert_eq!((h[1].0, h[1].1), (2, Outcome::Failed));
    assert!(h[1].2.ends_with("then completed"), "{h:?}");
}

#[tokio::test]
async fn a_journal_that_cannot_be_written_changes_nothing_and_is_recorded() {
    let s = Scratch::new();
    let (mut e, _) = s.open().await;
    e.apply(req(A)).await.unwrap();
    let before = s.files();
    // The place of the room kept beside the journal is taken by a directory.
    let room = s.state().join("apply.failure");
    fs::create_dir(&room).unwrap();
    fs::write(room.join("in-the-way"), "").unwrap();

    let err = e.apply(req(&b())).await.unwrap_err().to_string();
    assert!(err.contains("writing the apply journal"), "{err}");
    assert_eq!(s.files(), before);
    assert_eq!(e.degraded(), None);
    let h = outcomes(&e);
    assert_eq!((h[0].0, h[0].1), (2, Outcome::Failed));
    assert!(h[0].2.ends_with("nothing was changed"), "{h:?}");
    assert!(s.journal().is_none(), "no half-begun journal stays");
    fs::remove_dir_all(&room).unwrap();
    assert_eq!(e.apply(req(&b())).await.unwrap().generation, 3);
}

#[tokio::test]
async fn a_system_matching_a_config_history_does_not_name_is_recorded() {
    let s = Scratch::new();
    let (mut e, _) = s.open().await;
    e.apply(req(A)).await.unwrap();
    // B's files, written over A's behind sysconfd's back.
    let config = config::load(&b(), "b.toml").unwrap();
    for f in e.observe(&config).await.unwrap().0.files {
        let path = e.opts.root.path(&f.path);
        crate::files::write_replace(&path, f.contents.as_bytes(), f.mode).unwrap();
    }
    let applied = e.apply(req(&b())).await.unwrap();
    assert_eq!((applied.generation, applied.changed), (2, true));
    assert!(applied.plan.is_empty());
    assert!(e.current_config().unwrap().contains("newbox"));
    let again = e.apply(req(&b())).await.unwrap();
    assert_eq!((again.generation, again.changed), (2, false));
}

#[test]
fn a_pause_point_may_name_the_generation_it_stops() {
    assert_eq!(parse_pause("commit", 7), Some(PausePoint::Commit));
    assert_eq!(parse_pause("commit@2", 2), Some(PausePoint::Commit));
    assert_eq!(parse_pause("commit@2", 3), None);
    assert_eq!(parse_pause("4@2", 2), Some(PausePoint::Action(4)));
    assert_eq!(parse_pause("4", 9), Some(PausePoint::Action(4)));
    assert_eq!(parse_pause("later", 1), None);
    assert_eq!(parse_pause("4@x", 1), None);
}
