//! udev as the hardware watch's event source: network interfaces that
//! appear or go, and the DAHDI devices, spans and channels the overlay's
//! rule tags `telbox-dahdi`. Events only say *when* to look again; what
//! changed is still read from sysfs and netlink, so a missed event is
//! caught by the watch's slower fallback poll.

use std::os::fd::AsRawFd;
use std::thread;

use tokio::sync::mpsc;

/// The udev tag of DAHDI devices (usr/lib/udev/rules.d/70-telbox-dahdi.rules).
pub const DAHDI_TAG: &str = "telbox-dahdi";

/// What a udev event was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Net,
    Dahdi,
}

#[derive(Debug, Clone)]
pub struct Uevent {
    pub kind: Kind,
    pub action: String,
    pub subsystem: String,
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum UeventError {
    #[error("udev monitor: {0}")]
    Monitor(#[from] std::io::Error),
    #[error("udev monitor thread ended before it listened")]
    Gone,
}

impl std::fmt::Display for Uevent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.action, self.subsystem, self.name)
    }
}

fn socket(
    filter: impl FnOnce(udev::MonitorBuilder) -> std::io::Result<udev::MonitorBuilder>,
) -> std::io::Result<udev::MonitorSocket> {
    filter(udev::MonitorBuilder::new()?)?.listen()
}

fn event(kind: Kind, e: &udev::Event) -> Uevent {
    let text = |s: Option<&std::ffi::OsStr>| s.map(|s| s.to_string_lossy().into_owned());
    Uevent {
        kind,
        action: e.event_type().to_string(),
        subsystem: text(e.subsystem()).unwrap_or_default(),
        name: e.sysname().to_string_lossy().into_owned(),
    }
}

/// Listens to udev on a thread of its own; events arrive on the receiver.
/// Fails when udev cannot be listened to (no udev, no netlink access).
pub fn monitor() -> Result<mpsc::Receiver<Uevent>, UeventError> {
    let (tx, rx) = mpsc::channel(256);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    thread::Builder::new()
        .name("udev-monitor".into())
        .spawn(move || {
            let sockets = socket(|b| b.match_subsystem("net")).and_then(|net| {
                Ok([
                    (Kind::Net, net),
                    (Kind::Dahdi, socket(|b| b.match_tag(DAHDI_TAG))?),
                ])
            });
            let sockets = match sockets {
                Ok(s) => {
                    let _ = ready_tx.send(Ok(()));
                    s
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            listen(&sockets, &tx);
        })?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(rx),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(UeventError::Gone),
    }
}

fn listen(sockets: &[(Kind, udev::MonitorSocket)], tx: &mpsc::Sender<Uevent>) {
    let mut fds: Vec<libc::pollfd> = sockets
        .iter()
        .map(|(_, s)| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: fds points at fds.len() initialised pollfd structs whose
        // descriptors stay open (owned by `sockets`) for the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            tracing::warn!(error = %std::io::Error::last_os_error(), "udev monitor stopped");
            return;
        }
        for ((kind, socket), fd) in sockets.iter().zip(&fds) {
            if fd.revents & libc::POLLIN == 0 {
                continue;
            }
            for e in socket.iter() {
                if tx.blocking_send(event(*kind, &e)).is_err() {
                    return;
                }
            }
        }
    }
}
