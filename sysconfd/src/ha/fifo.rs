//! keepalived's notify FIFO: one line per state change, in the order they
//! happened (`INSTANCE "telbox" MASTER 200`). keepalived holds the FIFO
//! open for writing and reading, so lines written while sysconfd restarts
//! wait in the pipe: none is lost. The reader takes one line at a time,
//! so a line is out of the pipe only when the runtime has it.

use std::io;
use std::path::Path;

use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use super::machine::{Path as VrrpPath, VrrpState};

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

/// Creates the FIFO (mode 0600) unless it exists.
pub fn create(path: &Path) -> io::Result<()> {
    match nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600)) {
        Ok(()) => Ok(()),
        Err(nix::errno::Errno::EEXIST) => Ok(()),
        Err(e) => Err(io::Error::from(e)),
    }
}

/// Follows the FIFO for ever, sending each notice in order.
pub async fn follow(path: std::path::PathBuf, tx: mpsc::UnboundedSender<Notice>) {
    loop {
        if let Err(e) = follow_once(&path, &tx).await {
            tracing::warn!(path = %path.display(), error = %e, "reading keepalived's notify FIFO");
        }
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn follow_once(path: &Path, tx: &mpsc::UnboundedSender<Notice>) -> io::Result<()> {
    create(path)?;
    // Opened for reading and writing, so no writer closing it ends the stream.
    let mut pipe = tokio::net::unix::pipe::OpenOptions::new()
        .read_write(true)
        .open_receiver(path)?;
    let mut line = Vec::with_capacity(64);
    let mut byte = [0u8; 1];
    loop {
        if pipe.read(&mut byte).await? == 0 {
            return Ok(());
        }
        if byte[0] != b'\n' {
            if line.len() < 512 {
                line.push(byte[0]);
            }
            continue;
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        line.clear();
        tracing::debug!(line = %text, "keepalived notice");
        if let Some(notice) = parse(&text) {
            if tx.send(notice).is_err() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        create(&path).unwrap();
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
        let reader = tokio::spawn(follow(path.clone(), tx));
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
        let again = tokio::spawn(follow(path, tx));
        assert_eq!(
            rx.recv().await,
            Some(Notice::State(VrrpPath::Advert, VrrpState::Fault))
        );
        again.abort();
    }
}
