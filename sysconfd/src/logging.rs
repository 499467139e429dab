//! Logging: to journald when its socket exists, else to stderr. Secrets
//! never reach a log line: configs are logged only redacted, by generation.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

pub fn init() {
    let filter = EnvFilter::try_from_env("SYSCONFD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let journald = std::path::Path::new("/run/systemd/journal/socket")
        .exists()
        .then(|| tracing_journald::layer().ok())
        .flatten();
    let stderr = journald.is_none().then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
    });
    let _ = tracing_subscriber::registry()
        .with(journald.with_filter(filter.clone()))
        .with(stderr.with_filter(filter))
        .try_init();
}
