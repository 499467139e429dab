//! Generations: every applied config, kept in SQLite with who applied it,
//! when, what the plan was and how it ended.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;

use rusqlite::config::DbConfig;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

/// Schema version this build writes; older databases are migrated forward.
const SCHEMA_VERSION: i64 = 1;

const MIGRATIONS: &[&str] = &[
    // 0 -> 1
    "CREATE TABLE generation (
        id          INTEGER PRIMARY KEY,
        created_at  INTEGER NOT NULL,
        caller_uid  INTEGER NOT NULL,
        base        INTEGER,
        config      TEXT NOT NULL,
        plan        TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        reason      TEXT NOT NULL DEFAULT ''
    );",
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("generation store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("generation store is schema {found}, newer than this sysconfd ({SCHEMA_VERSION})")]
    TooNew { found: i64 },
    #[error("generation {0} does not exist")]
    NoSuchGeneration(u64),
    #[error("creating the generation store: {0}")]
    Create(String),
    #[error("generation store could not be opened: {0}")]
    Unavailable(String),
}

pub use appliance::views::Outcome;

/// How an outcome is written in the store.
fn outcome_text(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Applying => "applying",
        Outcome::Pending => "pending",
        Outcome::Applied => "applied",
        Outcome::RolledBack => "rolled-back",
        Outcome::Failed => "failed",
    }
}

fn parse_outcome(s: &str) -> Outcome {
    match s {
        "pending" => Outcome::Pending,
        "applied" => Outcome::Applied,
        "rolled-back" => Outcome::RolledBack,
        "failed" => Outcome::Failed,
        _ => Outcome::Applying,
    }
}

/// One row of history. `config` is always the redacted text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    pub id: u64,
    pub created_at: i64,
    pub caller_uid: u32,
    pub base: Option<u64>,
    pub config: String,
    pub plan: Vec<String>,
    pub outcome: Outcome,
    pub reason: String,
}

/// A store being opened on a thread of its own. Creating the database (first
/// boot) waits on several fsyncs; they overlap the first plan instead of
/// preceding it.
pub struct Opening {
    /// No store existed when opening started: it holds no generation yet.
    fresh: bool,
    thread: Mutex<Option<JoinHandle<Result<Store, StoreError>>>>,
    store: OnceLock<Store>,
    failure: OnceLock<String>,
}

impl Opening {
    pub fn start(path: PathBuf) -> Opening {
        Opening {
            fresh: !path.exists(),
            thread: Mutex::new(Some(std::thread::spawn(move || Store::open(&path)))),
            store: OnceLock::new(),
            failure: OnceLock::new(),
        }
    }

    /// The generation in force. A store being created has none, so this
    /// does not wait for it.
    pub fn current(&self) -> Result<Option<Generation>, StoreError> {
        if self.being_created() {
            return Ok(None);
        }
        self.get()?.current()
    }

    /// The id the next generation gets. A store being created has none yet,
    /// so this does not wait for it.
    pub fn next_id(&self) -> Result<u64, StoreError> {
        if self.being_created() {
            return Ok(1);
        }
        self.get()?.next_id()
    }

    /// Nothing existed when opening started and nothing was asked of it
    /// since: it holds no generation, whether or not it is ready yet.
    fn being_created(&self) -> bool {
        self.fresh && self.store.get().is_none()
    }

    /// The store, once open (waits for the opening thread the first time).
    pub fn get(&self) -> Result<&Store, StoreError> {
        let mut thread = self.thread.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(store) = self.store.get() {
            return Ok(store);
        }
        let Some(opening) = thread.take() else {
            let why = self.failure.get().cloned().unwrap_or_default();
            return Err(StoreError::Unavailable(why));
        };
        match opening.join() {
            Ok(Ok(store)) => Ok(self.store.get_or_init(|| store)),
            Ok(Err(e)) => {
                let _ = self.failure.set(e.to_string());
                Err(e)
            }
            Err(_) => {
                let why = "the opening thread panicked".to_string();
                let _ = self.failure.set(why.clone());
                Err(StoreError::Unavailable(why))
            }
        }
    }
}

/// An engine dropped while its store is still being created must not leave
/// that creation running: the next opening of the same path (a restart in
/// the same process) would create it a second time beside it.
impl Drop for Opening {
    fn drop(&mut self) {
        let thread = self.thread.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(opening) = thread.take() {
            let _ = opening.join();
        }
    }
}

/// An apply as it is recorded: its id is chosen before it starts, the row
/// written when it ends.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub id: u64,
    pub caller_uid: u32,
    /// The generation in force when it started.
    pub base: Option<u64>,
    /// The config, redacted.
    pub config: &'a str,
    pub plan: &'a [String],
}

/// The SQLite-backed list of generations.
pub struct Store {
    db: Mutex<Connection>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if !path.exists() {
            create(path)?;
        }
        let db = Connection::open(path)?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "FULL")?;
        // Every commit is already durable in the WAL; folding it into the
        // file at close would cost two more flushes at the end of every
        // one-shot apply. SQLite folds it when it grows instead.
        db.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        migrate(&db)?;
        Ok(Store { db: Mutex::new(db) })
    }

    fn db(&self) -> MutexGuard<'_, Connection> {
        self.db
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn in_memory() -> Result<Store, StoreError> {
        let db = Connection::open_in_memory()?;
        migrate(&db)?;
        Ok(Store { db: Mutex::new(db) })
    }

    /// The id the next generation gets (the engine is the only writer).
    pub fn next_id(&self) -> Result<u64, StoreError> {
        let last: i64 =
            self.db()
                .query_row("SELECT COALESCE(MAX(id), 0) FROM generation", [], |r| {
                    r.get(0)
                })?;
        Ok(last as u64 + 1)
    }

    /// Records an attempt once it has ended, with its outcome: one write per apply.
    pub fn record(
        &self,
        attempt: &Attempt<'_>,
        outcome: Outcome,
        reason: &str,
    ) -> Result<(), StoreError> {
        let plan = serde_json::to_string(attempt.plan).expect("plan lines serialize");
        self.db().execute(
            "INSERT INTO generation (id, created_at, caller_uid, base, config, plan, outcome, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                attempt.id as i64,
                now(),
                attempt.caller_uid,
                attempt.base.map(|b| b as i64),
                attempt.config,
                plan,
                outcome_text(outcome),
                reason
            ],
        )?;
        Ok(())
    }

    pub fn set_outcome(&self, id: u64, outcome: Outcome, reason: &str) -> Result<(), StoreError> {
        let n = self.db().execute(
            "UPDATE generation SET outcome = ?1, reason = ?2 WHERE id = ?3",
            params![outcome_text(outcome), reason, id as i64],
        )?;
        if n == 0 {
            return Err(StoreError::NoSuchGeneration(id));
        }
        Ok(())
    }

    pub fn get(&self, id: u64) -> Result<Generation, StoreError> {
        self.db()
            .query_row(
                &format!("{SELECT} WHERE id = ?1"),
                [id as i64],
                row_to_generation,
            )
            .optional()?
            .ok_or(StoreError::NoSuchGeneration(id))
    }

    /// The generation in force: the newest one applied or pending confirmation.
    pub fn current(&self) -> Result<Option<Generation>, StoreError> {
        let sql =
            format!("{SELECT} WHERE outcome IN ('applied', 'pending') ORDER BY id DESC LIMIT 1");
        Ok(self
            .db()
            .query_row(&sql, [], row_to_generation)
            .optional()?)
    }

    /// How many generations there are, and at most `limit` of them, newest
    /// first, skipping the `offset` newest.
    pub fn history_page(
        &self,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<Generation>), StoreError> {
        let db = self.db();
        let total: i64 = db.query_row("SELECT COUNT(*) FROM generation", [], |r| r.get(0))?;
        let mut stmt = db.prepare(&format!("{SELECT} ORDER BY id DESC LIMIT ?1 OFFSET ?2"))?;
        let rows = stmt.query_map(
            params![
                limit.min(i64::MAX as u64) as i64,
                offset.min(i64::MAX as u64) as i64
            ],
            row_to_generation,
        )?;
        let out = rows.collect::<Result<_, _>>()?;
        Ok((total as u64, out))
    }
}

const SELECT: &str =
    "SELECT id, created_at, caller_uid, base, config, plan, outcome, reason FROM generation";

fn row_to_generation(row: &rusqlite::Row<'_>) -> rusqlite::Result<Generation> {
    let plan: String = row.get(5)?;
    let outcome: String = row.get(6)?;
    Ok(Generation {
        id: row.get::<_, i64>(0)? as u64,
        created_at: row.get(1)?,
        caller_uid: row.get(2)?,
        base: row.get::<_, Option<i64>>(3)?.map(|b| b as u64),
        config: row.get(4)?,
        plan: serde_json::from_str(&plan).unwrap_or_default(),
        outcome: parse_outcome(&outcome),
        reason: row.get(7)?,
    })
}

/// Creates an empty store at `path` under a temporary name, unsynced, then
/// makes it durable with one fsync and renames it into place: a crash leaves
/// no store or a whole one, for two flushes instead of one per SQLite step.
fn create(path: &Path) -> Result<(), StoreError> {
    let io = |e: std::io::Error| StoreError::Create(e.to_string());
    let mut name = path.as_os_str().to_owned();
    name.push(".new");
    let tmp = PathBuf::from(name);
    for leftover in ["", "-wal", "-shm"] {
        let mut name = tmp.as_os_str().to_owned();
        name.push(leftover);
        crate::os::files::remove_if_exists(Path::new(&name)).map_err(io)?;
    }
    {
        let db = Connection::open(&tmp)?;
        db.pragma_update(None, "synchronous", "OFF")?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        migrate(&db)?;
        // Closing folds the WAL into the file and removes it.
        db.close().map_err(|(_, e)| e)?;
    }
    crate::os::files::rename_durable(&tmp, path).map_err(io)
}

fn migrate(db: &Connection) -> Result<(), StoreError> {
    let found: i64 = db.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew { found });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        db.execute_batch(&format!(
            "BEGIN; {sql} PRAGMA user_version = {}; COMMIT;",
            version + 1
        ))?;
    }
    Ok(())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records generation `id` with `outcome`, as the engine does when an apply ends.
    fn put(
        s: &Store,
        id: u64,
        caller_uid: u32,
        base: Option<u64>,
        plan: &[String],
        outcome: Outcome,
    ) {
        let attempt = Attempt {
            id,
            caller_uid,
            base,
            config: "x",
            plan,
        };
        s.record(&attempt, outcome, "").unwrap();
    }

    #[test]
    fn an_attempt_is_recorded_under_the_id_chosen_before_it() {
        let s = Store::in_memory().unwrap();
        assert_eq!(s.next_id().unwrap(), 1);
        let plan = ["write /etc/hosts".to_string()];
        let attempt = Attempt {
            id: 1,
            caller_uid: 0,
            base: None,
            config: "a",
            plan: &plan,
        };
        s.record(&attempt, Outcome::Applied, "").unwrap();
        assert_eq!(s.next_id().unwrap(), 2);
        let g = s.current().unwrap().unwrap();
        assert_eq!((g.id, g.plan.as_slice()), (1, plan.as_slice()));
        assert!(s.record(&attempt, Outcome::Failed, "again").is_err());
    }

    #[test]
    fn a_store_opened_in_the_background_answers_and_a_failed_one_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("generations.db");
        let opening = Opening::start(path.clone());
        let id = opening.next_id().unwrap();
        put(opening.get().unwrap(), id, 0, None, &[], Outcome::Applied);
        assert_eq!(opening.current().unwrap().unwrap().id, id);
        drop(opening);

        let db = Connection::open(&path).unwrap();
        db.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(db);
        let opening = Opening::start(path);
        assert!(matches!(opening.get(), Err(StoreError::TooNew { .. })));
        let again = opening.get().err().unwrap().to_string();
        assert!(again.contains("newer than this sysconfd"), "{again}");
    }

    #[test]
    fn generations_keep_their_outcome_and_order() {
        let s = Store::in_memory().unwrap();
        let (g1, g2) = (1, 2);
        put(
            &s,
            g1,
            0,
            None,
            &["write /etc/hostname".into()],
            Outcome::Applied,
        );
        put(&s, g2, 0, Some(g1), &[], Outcome::Applying);
        assert_eq!(
            s.current().unwrap().unwrap().id,
            g1,
            "an applying generation is not in force yet"
        );
        s.set_outcome(g2, Outcome::Pending, "").unwrap();
        assert_eq!(s.current().unwrap().unwrap().id, g2);
        s.set_outcome(g2, Outcome::RolledBack, "confirm timeout")
            .unwrap();
        assert_eq!(s.current().unwrap().unwrap().id, g1);
        let (total, h) = s.history_page(0, 10).unwrap();
        assert_eq!(total, 2);
        assert_eq!(h.iter().map(|g| g.id).collect::<Vec<_>>(), vec![g2, g1]);
        let (_, older) = s.history_page(1, 10).unwrap();
        assert_eq!(older.iter().map(|g| g.id).collect::<Vec<_>>(), vec![g1]);
        assert!(s.history_page(0, 0).unwrap().1.is_empty());
        assert_eq!(h[0].reason, "confirm timeout");
        assert_eq!(h[1].plan, vec!["write /etc/hostname".to_owned()]);
    }

    #[test]
    fn a_store_dropped_while_being_created_can_be_opened_again_at_once() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("g.db");
            drop(Opening::start(path.clone()));
            let again = Opening::start(path);
            assert!(again.get().is_ok(), "{:?}", again.get().err());
        }
    }

    #[test]
    fn reopening_keeps_history() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        let id = 1;
        put(
            &Store::open(&path).unwrap(),
            id,
            7,
            None,
            &[],
            Outcome::Applied,
        );
        let again = Store::open(&path).unwrap();
        assert_eq!(again.get(id).unwrap().caller_uid, 7);
    }
}
