//! telbox-wizard: the first-boot web wizard. An HTTPS page, claimed with a
//! one-time token, that sets the box up once through sysconfd's `Wizard`
//! interface on D-Bus, follows the box to its new address to confirm, and
//! stops once the wizard has completed.

mod app;
mod banner;
mod form;
mod limit;
mod page;
mod secrets;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

/// The first-boot web wizard of a telbox (HTTPS page, D-Bus client of sysconfd).
#[derive(Parser)]
#[command(name = "telbox-wizard", version)]
struct Cli {
    /// Where the setup token, the certificate and its key are kept (made at the first start).
    #[arg(long, default_value = appliance::dbus::WIZARD_STATE_DIR)]
    state_dir: PathBuf,
    /// Address and port of the HTTPS page.
    #[arg(long, default_value = "0.0.0.0:443")]
    https: SocketAddr,
    /// Address and port of plain HTTP, which only redirects to HTTPS ("" for none).
    #[arg(long, default_value = "0.0.0.0:80")]
    http: String,
    /// Seconds the box waits for the browser at its new address before it goes back.
    #[arg(long, default_value_t = 120)]
    confirm_timeout: u32,
    /// Seconds the "set up" page stays served once the wizard has completed, before the server exits.
    #[arg(long, default_value_t = 300)]
    linger: u64,
    /// Wrong setup tokens one client address may enter per window before it must wait.
    #[arg(long, default_value_t = 5)]
    token_tries: usize,
    /// The window of --token-tries, seconds.
    #[arg(long, default_value_t = 300)]
    token_window: u64,
    /// Seconds the TLS handshake and each request head may take; a
    /// connection idle this long is closed.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    header_timeout: u64,
    /// Seconds a whole request body may take, however it is dripped.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    body_timeout: u64,
    /// Seconds a whole request may take, its body and the answer.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    request_timeout: u64,
    /// Largest request body, bytes; a larger Content-Length is refused (413) unread.
    #[arg(long, default_value_t = 64 * 1024, value_name = "BYTES")]
    max_body: usize,
    /// Seconds a connection is kept before it is closed between two requests.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    conn_lifetime: u64,
    /// Connections one client address may hold; more are closed at once.
    #[arg(long, default_value_t = 32)]
    conns_per_client: usize,
    /// Connections all clients together may hold (fits the unit's
    /// LimitNOFILE=2048 with room to spare); when all are taken, the client
    /// holding the most gives up an idle one.
    #[arg(long, default_value_t = 512)]
    conns: usize,
    /// Another terminal the banner (token and fingerprint) is written to,
    /// besides standard output, such as /dev/tty1 (repeatable).
    #[arg(long, value_name = "TTY")]
    console: Vec<PathBuf>,
    /// Names the certificate is made for.
    #[arg(long, default_values_t = ["telbox".to_owned(), "telbox.local".to_owned()])]
    cert_name: Vec<String>,
}

fn main() -> ExitCode {
    telbox_program::docs::write_if_asked::<Cli>("8");
    // No quiet_on_closed_pipe() here, unlike the command-line tools: a
    // server keeps Rust's ignored SIGPIPE, so a client that goes away
    // mid-answer is one failed write on its own connection, never the end
    // of the process.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TELBOX_WIZARD_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("telbox-wizard: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    std::fs::create_dir_all(&cli.state_dir)
        .with_context(|| format!("creating {}", cli.state_dir.display()))?;
    let token = secrets::token(&cli.state_dir).context("the setup token")?;
    let id = secrets::identity(&cli.state_dir, &cli.cert_name).context("the certificate")?;
    let acceptor = serve::tls_acceptor(&id)?;

    let bus = zbus::Connection::system()
        .await
        .context("connecting to the system bus")?;
    let opts = app::Options {
        confirm_timeout_s: cli.confirm_timeout,
        https_port: cli.https.port(),
        token_tries: cli.token_tries.max(1),
        token_window: Duration::from_secs(cli.token_window.max(1)),
        state_dir: cli.state_dir.clone(),
    };
    let (app, mut done) = app::App::new(&bus, token.clone(), opts)
        .await
        .context("asking sysconfd about the wizard")?;

    let secs = |s: u64| Duration::from_secs(s.max(1));
    let limits = Arc::new(serve::Limits {
        header: secs(cli.header_timeout),
        body: secs(cli.body_timeout),
        request: secs(cli.request_timeout),
        body_max: cli.max_body.max(1024),
        lifetime: secs(cli.conn_lifetime),
        conns_per_client: cli.conns_per_client,
        conns_total: cli.conns,
    });
    let conns = serve::Conns::new(limits.conns_per_client, limits.conns_total);
    tokio::spawn(app.clone().keep_attempts());
    for listener in serve::bind(cli.https).await? {
        tokio::spawn(serve::serve(
            listener,
            Some(acceptor.clone()),
            app::router(app.clone()),
            limits.clone(),
            conns.clone(),
        ));
    }
    if !cli.http.is_empty() {
        let addr: SocketAddr = cli
            .http
            .parse()
            .with_context(|| format!("--http {}", cli.http))?;
        for listener in serve::bind(addr).await? {
            let router = app::redirect_router(app.clone());
            tokio::spawn(serve::serve(
                listener,
                None,
                router,
                limits.clone(),
                conns.clone(),
            ));
        }
    }
    tracing::info!(https = %cli.https, http = %cli.http, fingerprint = %id.fingerprint, "serving the first-boot page");
    tokio::spawn(banner::keep_shown(
        token,
        id.fingerprint.clone(),
        cli.https,
        cli.console.clone(),
        done.clone(),
    ));

    let linger = Duration::from_secs(cli.linger);
    tokio::select! {
        _ = done.wait_for(|d| *d) => {
            tracing::info!(linger_s = cli.linger, "the wizard has completed; the page says so, then the server stops");
            tokio::time::sleep(linger).await;
        }
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
