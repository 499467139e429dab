//! keepalived's notify FIFO: one line per state change, in the order they
//! happened (`INSTANCE "telbox" MASTER 200`). keepalived holds the FIFO
//! open for writing and reading, so lines written while sysconfd restarts
//! wait in the pipe: none is lost. The reader takes one line at a time,
//! so a line is out of the pipe only when the runtime has it.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::machine::{Path as VrrpPath, VrrpState};
use crate::os::ha::HaOs;

/// One line of the FIFO that concerns sysconfd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// An instance changed state.
    State(VrrpPath, VrrpState),
    /// A master heard a peer with a lower priority (two masters after a heal).
    LowerPriorityPeer(VrrpPath),
}

/// Reads a FIFO line; `None` for lines about other instances or events.
pub fn parse(line: &str) -> Option<Notice> {
    let rest = line.trim_end().strip_prefix("INSTANCE \"")?;
    let (name, rest) = rest.split_once('"')?;
    let path = match name {
        "telbox" => VrrpPath::Advert,
        "telbox_second" => VrrpPath::Second,
        _ => return None,
    };
    let event = rest.split_whitespace().next()?;
    let state = match event {
        "MASTER" => VrrpState::Master,
        "BACKUP" => VrrpState::Backup,
        "FAULT" => VrrpState::Fault,
        "STOP" | "DELETED" => VrrpState::Stop,
        "MASTER_RX_LOWER_PRI" => return Some(Notice::LowerPriorityPeer(path)),
        _ => return None,
    };
    Some(Notice::State(path, state))
}

/// Follows the FIFO for ever, sending each notice in order.
pub async fn follow(os: Arc<dyn HaOs>, path: PathBuf, tx: mpsc::UnboundedSender<Notice>) {
    loop {
        if let Err(e) = follow_once(&*os, &path, &tx).await {
            tracing::warn!(path = %path.display(), error = %e, "reading keepalived's notify FIFO");
        }
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn follow_once(
    os: &dyn HaOs,
    path: &Path,
    tx: &mpsc::UnboundedSender<Notice>,
) -> io::Result<()> {
    os.create_fifo(path)?;
    let mut hear = |line: String| {
        tracing::debug!(line = %line, "keepalived notice");
        match parse(&line) {
            Some(notice) => tx.send(notice).is_ok(),
            None => true,
        }
    };
    os.follow_fifo(path, &mut hear).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::ha::{RealHaOs, SimHaOs};

    #[test]
    fn keepalived_lines_are_read_for_our_instances_only() {
        assert_eq!(
            parse("INSTANCE \"telbox\" MASTER 200\n"),
            Some(Notice::State(VrrpPath::Advert, VrrpState::Master))
        );
        assert_eq!(
            parse("INSTANCE \"telbox_second\" BACKUP 100"),
            Some(Notice::State(VrrpPath::Second, VrrpState::Backup))
        );
        assert_eq!(
            parse("INSTANCE \"telbox\" MASTER_RX_LOWER_PRI 200"),
            Some(Notice::LowerPriorityPeer(VrrpPath::Advert))
        );
        assert_eq!(parse("INSTANCE \"other\" MASTER 200"), None);
        assert_eq!(parse("GROUP \"telbox\" MASTER 0"), None);
        assert_eq!(parse("INSTANCE \"telbox\" MASTER_PRIORITY 50"), None);
    }

    #[tokio::test]
    async fn lines_come_out_in_order_and_survive_a_reader_that_went_away() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.fifo");
        RealHaOs.create_fifo(&path).unwrap();
        // A writer holding the pipe open, as keepalived does.
        let mut writer = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        use std::io::Write;
        writer
            .write_all(b"INSTANCE \"telbox\" BACKUP 100\nINSTANCE \"telbox\" MASTER 100\n")
            .unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let reader = tokio::spawn(follow(Arc::new(RealHaOs), path.clone(), tx));
        assert_eq!(
            rx.recv().await,
            Some(Notice::State(VrrpPath::Advert, VrrpState::Backup))
        );
        assert_eq!(
            rx.recv().await,
            Some(Notice::State(VrrpPath::Advert, VrrpState::Master))
        );
        reader.abort();
        let _ = reader.await;
        writer
            .write_all(b"INSTANCE \"telbox\" FAULT 100\n")
            .unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let again = tokio::spawn(follow(Arc::new(RealHaOs), path, tx));
        assert_eq!(
            rx.recv().await,
            Some(Notice::State(VrrpPath::Advert, VrrpState::Fault))
        );
        again.abort();
    }

    #[tokio::test]
    async fn the_simulated_fifo_gives_our_notices_in_order() {
        let os = SimHaOs::new();
        let path = PathBuf::from("/var/lib/telbox/ha/notify.fifo");
        os.notify("INSTANCE \"telbox\" BACKUP 100");
        os.notify("INSTANCE \"other\" MASTER 100");
        let (tx, mut rx) = mpsc::unbounded_channel();
        let reader = tokio::spawn(follow(Arc::new(os.clone()), path.clone(), tx));
        assert_eq!(
            rx.recv().await,
            Some(Notice::State(VrrpPath::Advert, VrrpState::Backup))
        );
        os.notify("INSTANCE \"telbox_second\" MASTER 100");
        assert_eq!(
            rx.recv().await,
            Some(Notice::State(VrrpPath::Second, VrrpState::Master))
        );
        reader.abort();
        assert_eq!(os.with(|s| s.fifos.clone()), vec![path]);
        assert!(os.with(|s| s.fifo_lines.is_empty()), "every line was read");
    }
}
