//! The wizard's state and its HTTP handlers: claim with the token, show the
//! box, check the form, complete, confirm from the new address, done.
//!
//! Only the browser that applied a setup confirms it: its session (the
//! cookie the claim set), or the one-time confirm key that session was
//! given with the pending setup, which the page carries to the new address
//! in the URL's fragment (the cookie belongs to the old address). A request
//! at the new address without either confirms nothing: whoever else is on
//! the LAN only learns that a setup awaits its browser.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use appliance::dbus::PlanReport;
use appliance::views::DiscoverReport;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use telbox_client::{ConfigProxy, WizardProxy};
use tokio::sync::{watch, Mutex};

use crate::form::{by_field, ByField, Form, Problem, Rounds, Shown};
use crate::limit::{self, Attempts};
use crate::page;
use crate::secrets;

/// The connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct Conn {
    pub local: SocketAddr,
    pub peer: SocketAddr,
}

pub struct Options {
    /// The confirm window `Complete` asks for, seconds.
    pub confirm_timeout_s: u32,
    /// The HTTPS port, for the addresses the page sends the browser to.
    pub https_port: u16,
    /// Wrong tokens a client address may enter per window.
    pub token_tries: usize,
    pub token_window: Duration,
    /// Where wrong tokens and a pending setup are kept across restarts.
    pub state_dir: PathBuf,
}

/// A `Complete` the box went back from, for the page to say so.
#[derive(Debug, Clone, Serialize)]
pub struct RolledBack {
    pub address: String,
    pub url: String,
    pub seconds: u32,
}

enum Phase {
    /// The form, with the last attempt's rollback or failure if there was one.
    Open {
        rolled_back: Option<RolledBack>,
        failed: Option<String>,
    },
    /// The page has its answer; `Complete` follows (see [`ANSWER_FIRST`]).
    Applying {
        address: IpAddr,
        url: String,
        owner: Owner,
    },
    /// Applied; waiting for the owner's browser at `address` before the deadline.
    Pending {
        generation: u64,
        address: IpAddr,
        url: String,
        deadline: Instant,
        owner: Owner,
    },
    Done,
}

/// The browser that applied a setup: the only one that may confirm it.
#[derive(Clone, Serialize, Deserialize)]
struct Owner {
    /// Its session, the cookie its claim set.
    session: String,
    /// What it carries to the new address, where the cookie is not sent.
    key: String,
}

impl Owner {
    /// Whether the request carries this owner's session or confirm key
    /// (compared in time independent of their content).
    fn proves(&self, headers: &HeaderMap, key: &str) -> bool {
        let by_cookie =
            session_of(headers).is_some_and(|s| secrets::same_secret(&s, &self.session));
        let by_key = secrets::same_secret(key, &self.key) && !key.is_empty();
        by_cookie | by_key
    }
}

pub struct App {
    token: String,
    opts: Options,
    wizard: WizardProxy<'static>,
    config: ConfigProxy<'static>,
    sessions: Mutex<Vec<String>>,
    attempts: std::sync::Mutex<Attempts>,
    /// Wrong tokens were counted since they were last written down.
    attempts_changed: AtomicBool,
    phase: Mutex<Phase>,
    done: watch::Sender<bool>,
}

pub const COOKIE: &str = "telbox_wizard";

impl App {
    pub async fn new(
        bus: &zbus::Connection,
        token: String,
        opts: Options,
    ) -> zbus::Result<(Arc<App>, watch::Receiver<bool>)> {
        let wizard = WizardProxy::builder(bus)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?;
        let config = ConfigProxy::builder(bus)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?;
        let completed = wizard.completed().await?;
        let (done, done_rx) = watch::channel(completed);
        let mut sessions = Vec::new();
        let phase = if completed {
            let _ = std::fs::remove_file(opts.state_dir.join(PENDING_FILE));
            Phase::Done
        } else if let Some(saved) = Saved::load(&opts.state_dir, &config).await {
            // Restarted while a setup waited for its browser: it still may.
            tracing::info!(generation = saved.generation, address = %saved.address, "a setup still awaits its browser's confirm");
            sessions.push(saved.owner.session.clone());
            Phase::Pending {
                generation: saved.generation,
                address: saved.address,
                url: saved.url,
                deadline: Instant::now() + Duration::from_secs(opts.confirm_timeout_s.into()),
                owner: saved.owner,
            }
        } else {
            Phase::Open {
                rolled_back: None,
                failed: None,
            }
        };
        let mut attempts = Attempts::new(opts.token_tries, opts.token_window);
        let kept = opts.state_dir.join(ATTEMPTS_FILE);
        if let Some(saved) = std::fs::read(&kept)
            .ok()
            .and_then(|b| serde_json::from_slice::<limit::Saved>(&b).ok())
        {
            attempts.restore(saved, Instant::now(), SystemTime::now());
        }
        let app = App {
            token,
            opts,
            wizard,
            config,
            sessions: Mutex::new(sessions),
            attempts: std::sync::Mutex::new(attempts),
            attempts_changed: AtomicBool::new(false),
            phase: Mutex::new(phase),
            done,
        };
        Ok((Arc::new(app), done_rx))
    }

    fn url_for(&self, ip: IpAddr) -> String {
        let host = match ip {
            IpAddr::V6(v6) => format!("[{v6}]"),
            IpAddr::V4(v4) => v4.to_string(),
        };
        match self.opts.https_port {
            443 => format!("https://{host}/"),
            port => format!("https://{host}:{port}/"),
        }
    }

    async fn claimed(&self, headers: &HeaderMap) -> bool {
        let Some(id) = session_of(headers) else {
            return false;
        };
        // Every session compared, each in constant time.
        self.sessions
            .lock()
            .await
            .iter()
            .fold(false, |known, s| known | secrets::same_secret(&id, s))
    }

    fn finish(&self, phase: &mut Phase) {
        *phase = Phase::Done;
        self.forget_pending();
        let _ = self.done.send(true);
    }

    fn forget_pending(&self) {
        let _ = std::fs::remove_file(self.opts.state_dir.join(PENDING_FILE));
    }

    /// Writes the wrong tokens down when they changed, every few seconds
    /// (never once per request), so a restart resets no one's count.
    pub async fn keep_attempts(self: Arc<Self>) {
        let path = self.opts.state_dir.join(ATTEMPTS_FILE);
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            if !self.attempts_changed.swap(false, Ordering::AcqRel) {
                continue;
            }
            let saved = self
                .attempts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .saved(Instant::now(), SystemTime::now());
            let Ok(json) = serde_json::to_vec(&saved) else {
                continue;
            };
            let written = tokio::task::spawn_blocking({
                let path = path.clone();
                move || secrets::write_new(&path, &json, 0o600)
            })
            .await;
            if let Ok(Err(e)) = written {
                tracing::warn!(file = %path.display(), error = %e, "could not keep the wrong tokens");
            }
        }
    }

    /// The owner's browser reached the box at `local`: if that is where the
    /// pending generation put it, the user can reach the box there, so it is kept.
    async fn confirm_from(&self, local: IpAddr, headers: &HeaderMap, key: &str) -> Confirmed {
        // The page may arrive while Complete is still running.
        let waiting = Instant::now();
        let mut phase = loop {
            let phase = self.phase.lock().await;
            if !matches!(*phase, Phase::Applying { .. }) || waiting.elapsed() > APPLYING_WAIT {
                break phase;
            }
            drop(phase);
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let (generation, address, session) = match &*phase {
            Phase::Done => return Confirmed::Already,
            Phase::Pending {
                generation,
                address,
                owner,
                ..
            } => {
                if !owner.proves(headers, key) {
                    return Confirmed::NotOwner;
                }
                (*generation, *address, owner.session.clone())
            }
            Phase::Applying { owner, .. } if !owner.proves(headers, key) => {
                return Confirmed::NotOwner
            }
            _ => return Confirmed::NothingPending,
        };
        if address != local.to_canonical() {
            return Confirmed::Elsewhere(address);
        }
        match self.wizard.confirm(generation).await {
            Ok(()) => {
                tracing::info!(generation, %address, "the owner's browser reached the new address: confirmed");
                self.finish(&mut phase);
                Confirmed::Now(session)
            }
            Err(e) => {
                let why = bus_message(e);
                tracing::warn!(generation, error = %why, "confirming the wizard's generation failed");
                drop(phase);
                self.refresh().await;
                Confirmed::Failed(why)
            }
        }
    }

    /// Follows sysconfd: a pending generation that is no longer pending was
    /// either confirmed (the wizard completed) or rolled back.
    async fn refresh(&self) {
        let mut phase = self.phase.lock().await;
        let Phase::Pending {
            generation,
            address,
            ref url,
            ..
        } = *phase
        else {
            return;
        };
        let url = url.clone();
        let pending = match self.config.pending_confirmation().await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "asking sysconfd for the pending generation failed");
                return;
            }
        };
        if pending == generation {
            return;
        }
        match self.wizard.completed().await {
            Ok(true) => self.finish(&mut phase),
            Ok(false) => {
                tracing::info!(generation, "the wizard's generation was rolled back");
                self.forget_pending();
                *phase = Phase::Open {
                    rolled_back: Some(RolledBack {
                        address: address.to_string(),
                        url,
                        seconds: self.opts.confirm_timeout_s,
                    }),
                    failed: None,
                };
            }
            Err(e) => {
                tracing::warn!(error = %e, "asking sysconfd whether the wizard completed failed")
            }
        }
    }

    /// Calls `Complete` and follows its answer: waiting for the browser at
    /// the new address, done at once (nothing to confirm), or the form again.
    async fn apply(&self, toml: String, address: IpAddr, url: String, owner: Owner) {
        let timeout = self.opts.confirm_timeout_s;
        let answer = self.wizard.complete(&toml, timeout).await;
        let mut phase = self.phase.lock().await;
        match answer {
            Ok(generation) => {
                tracing::info!(generation, %address, "first-boot configuration applied; waiting for the browser there");
                if matches!(self.wizard.completed().await, Ok(true)) {
                    self.finish(&mut phase);
                } else {
                    let saved = Saved {
                        generation,
                        address,
                        url: url.clone(),
                        owner: owner.clone(),
                    };
                    saved.store(&self.opts.state_dir);
                    *phase = Phase::Pending {
                        generation,
                        address,
                        url,
                        deadline: Instant::now() + Duration::from_secs(timeout.into()),
                        owner,
                    };
                }
            }
            Err(e) => {
                let failed = bus_message(e);
                tracing::warn!(error = %failed, "Complete failed");
                *phase = Phase::Open {
                    rolled_back: None,
                    failed: Some(failed),
                };
            }
        }
    }

    async fn discover(&self) -> Result<DiscoverReport, String> {
        let text = self.wizard.discover().await.map_err(bus_message)?;
        serde_json::from_str(&text).map_err(|e| format!("sysconfd's Discover answer: {e}"))
    }

    /// sysconfd's problems with `form`, by field (empty when it validates).
    async fn validate(&self, form: &Form) -> Result<ByField, String> {
        let (valid, json) = self
            .config
            .validate(&form.to_toml())
            .await
            .map_err(bus_message)?;
        if valid {
            return Ok(ByField::new());
        }
        let problems: Vec<Problem> =
            serde_json::from_str(&json).map_err(|e| format!("sysconfd's Validate answer: {e}"))?;
        Ok(by_field(problems))
    }

    /// Every problem of `form` at once (see [`crate::form::all_problems`]).
    async fn problems(&self, form: &Form) -> Result<ByField, String> {
        let mut rounds = Rounds::new(form);
        while rounds.take(self.validate(rounds.probe()).await?) {}
        Ok(rounds.finish())
    }
}

fn bus_message(e: zbus::Error) -> String {
    match e {
        zbus::Error::MethodError(name, Some(msg), _) => {
            let short = name.rsplit('.').next().unwrap_or("Error").to_owned();
            format!("{short}: {msg}")
        }
        other => other.to_string(),
    }
}

fn session_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn not_claimed() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "enter the setup token first (shown on the box's console, or by `appliance wizard token`)",
    )
}

/// Every page and answer: no caching, no framing, scripts and styles from the box only.
async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, header::CACHE_CONTROL, "no-store");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self' https:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    res
}

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route("/style.css", get(page::style))
        .route("/icon.svg", get(page::icon))
        .route("/api/claim", post(claim))
        .route("/api/state", get(state))
        .route("/api/check", post(check))
        .route("/api/complete", post(complete))
        .route("/api/reach", get(reach))
        .route("/api/confirm", post(confirm))
        .layer(middleware::from_fn(headers))
        .with_state(app)
}

/// Plain HTTP: off to HTTPS at the same address, and nothing else.
pub fn redirect_router(app: Arc<App>) -> Router {
    Router::new().fallback(redirect).with_state(app)
}

async fn redirect(
    State(app): State<Arc<App>>,
    Extension(conn): Extension<Conn>,
    uri: axum::http::Uri,
) -> Response {
    let base = app.url_for(conn.local.ip());
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let location = format!("{}{}", base.trim_end_matches('/'), path);
    match HeaderValue::from_str(&location) {
        Ok(v) => (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, v)]).into_response(),
        Err(_) => error(StatusCode::BAD_REQUEST, "bad request path"),
    }
}

#[derive(Deserialize)]
struct Claim {
    token: String,
}

async fn claim(
    State(app): State<Arc<App>>,
    Extension(conn): Extension<Conn>,
    Json(claim): Json<Claim>,
) -> Response {
    let client = conn.peer.ip().to_canonical();
    let now = Instant::now();
    // The token first, in constant time, whatever follows.
    let right = secrets::same_token(&claim.token, &app.token);
    // Only this address's own wrong guesses make it wait: what others
    // entered never refuses the right token here. A waiting address is
    // refused whatever it sends, or its guesses would go on.
    if let Err(wait) = app
        .attempts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .check(client, now)
    {
        let secs = wait.as_secs().max(1);
        let mut res = error(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many wrong tokens; try again in {secs} s"),
        );
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    if !right {
        app.attempts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .failed(client, now);
        app.attempts_changed.store(true, Ordering::Release);
        tracing::warn!(client = %client, "a wrong setup token was entered");
        return error(
            StatusCode::FORBIDDEN,
            "that is not the setup token; check the box's console",
        );
    }
    let id = match secrets::random_bytes(16) {
        Ok(b) => b.iter().map(|x| format!("{x:02x}")).collect::<String>(),
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("no randomness: {e}"),
            )
        }
    };
    {
        let mut sessions = app.sessions.lock().await;
        if sessions.len() >= MAX_SESSIONS {
            sessions.remove(0);
        }
        sessions.push(id.clone());
    }
    tracing::info!(client = %client, "the box was claimed with the setup token");
    let mut res = Json(json!({ "claimed": true })).into_response();
    if let Some(v) = session_cookie(&id) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// The form's starting values: the interface and address the browser came in on.
fn prefill(discover: &DiscoverReport, local: IpAddr) -> Form {
    let mut form = Form {
        hostname: "telbox".into(),
        timezone: "UTC".into(),
        ..Form::default()
    };
    let arrived = discover.interfaces.iter().find_map(|nic| {
        nic.addresses
            .iter()
            .find(|a| IpAddr::V4(a.addr) == local)
            .map(|a| (nic, a))
    });
    match arrived {
        Some((nic, a)) => {
            form.interface = nic.name.clone();
            form.address = a.addr.to_string();
            form.prefix = a.prefix.to_string();
        }
        None => {
            if let Some(nic) = discover.interfaces.first() {
                form.interface = nic.name.clone();
            }
        }
    }
    form
}

async fn state(
    State(app): State<Arc<App>>,
    Extension(conn): Extension<Conn>,
    headers: HeaderMap,
) -> Response {
    app.refresh().await;
    let claimed = app.claimed(&headers).await;
    let phase = app.phase.lock().await;
    match &*phase {
        Phase::Done => Json(json!({ "phase": "done" })).into_response(),
        Phase::Pending { owner, .. } | Phase::Applying { owner, .. }
            if !owner.proves(&headers, "") =>
        {
            awaiting()
        }
        _ if !claimed => Json(json!({ "phase": "claim" })).into_response(),
        Phase::Pending {
            url,
            deadline,
            generation,
            address,
            owner,
        } => Json(json!({
            "phase": "pending",
            "generation": generation,
            "address": address.to_string(),
            "url": url,
            "key": owner.key,
            "seconds_left": deadline.saturating_duration_since(Instant::now()).as_secs(),
        }))
        .into_response(),
        Phase::Applying {
            url,
            address,
            owner,
        } => Json(json!({
            "phase": "pending",
            "address": address.to_string(),
            "url": url,
            "key": owner.key,
            "seconds_left": app.opts.confirm_timeout_s,
        }))
        .into_response(),
        Phase::Open {
            rolled_back,
            failed,
        } => {
            let (rolled_back, failed) = (rolled_back.clone(), failed.clone());
            drop(phase);
            match app.discover().await {
                Ok(d) => Json(json!({
                    "phase": "open",
                    "form": prefill(&d, conn.local.ip()),
                    "discover": d,
                    "rolled_back": rolled_back,
                    "failed": failed,
                    "confirm_timeout_s": app.opts.confirm_timeout_s,
                }))
                .into_response(),
                Err(e) => error(StatusCode::BAD_GATEWAY, e),
            }
        }
    }
}

#[derive(Serialize)]
struct Checked {
    valid: bool,
    problems: ByField,
    plan: Vec<String>,
    warnings: Vec<String>,
}

async fn check(
    State(app): State<Arc<App>>,
    Extension(conn): Extension<Conn>,
    headers: HeaderMap,
    Json(form): Json<Form>,
) -> Response {
    if !app.claimed(&headers).await {
        return not_claimed();
    }
    let form = form.tidy();
    let mut problems = match app.problems(&form).await {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_GATEWAY, e),
    };
    let (mut plan, mut warnings) = (Vec::new(), Vec::new());
    if problems.is_empty() {
        let session = conn.local.ip().to_string();
        match app.wizard.preview(&form.to_toml(), &session).await {
            Ok((_, json)) => {
                if let Ok(report) = serde_json::from_str::<PlanReport>(&json) {
                    plan = report.actions.into_iter().map(|a| a.summary).collect();
                    warnings = report.warnings;
                }
            }
            Err(e) => {
                problems.entry("form").or_default().push(Shown {
                    message: bus_message(e),
                    help: None,
                });
            }
        }
    }
    Json(Checked {
        valid: problems.is_empty(),
        problems,
        plan,
        warnings,
    })
    .into_response()
}

async fn complete(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Json(form): Json<Form>,
) -> Response {
    if matches!(*app.phase.lock().await, Phase::Done) {
        return error(
            StatusCode::CONFLICT,
            "the box is already set up; the first-boot wizard has completed",
        );
    }
    if !app.claimed(&headers).await {
        return not_claimed();
    }
    let form = form.tidy();
    match app.problems(&form).await {
        Ok(p) if p.is_empty() => {}
        Ok(problems) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "valid": false, "problems": problems })),
            )
                .into_response()
        }
        Err(e) => return error(StatusCode::BAD_GATEWAY, e),
    }
    let Some(address) = form.new_address() else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the address is not an IPv4 address",
        );
    };
    let mut phase = app.phase.lock().await;
    if !matches!(*phase, Phase::Open { .. }) {
        return error(
            StatusCode::CONFLICT,
            "a configuration is already being applied",
        );
    }
    let address = IpAddr::V4(address);
    let url = app.url_for(address);
    let (Some(session), Ok(key)) = (session_of(&headers), secrets::random_hex(16)) else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "no randomness");
    };
    let owner = Owner { session, key };
    *phase = Phase::Applying {
        address,
        url: url.clone(),
        owner: owner.clone(),
    };
    drop(phase);
    // The answer goes out on the connection to the old address, which the
    // apply may take away: it must reach the browser first.
    let (toml, worker) = (form.to_toml(), app.clone());
    let (moved_url, key) = (url.clone(), owner.key.clone());
    tokio::spawn(async move {
        tokio::time::sleep(ANSWER_FIRST).await;
        worker.apply(toml, address, moved_url, owner).await;
    });
    Json(json!({
        "phase": "pending",
        "url": url,
        "address": address.to_string(),
        "key": key,
        "seconds_left": app.opts.confirm_timeout_s,
    }))
    .into_response()
}

/// What anyone but the owner's browser learns while a setup is pending.
fn awaiting() -> Response {
    Json(json!({
        "phase": "awaiting",
        "message": "a new setup of this box awaits confirmation by the browser that made it",
    }))
    .into_response()
}

/// Wrong tokens kept across restarts, in the state directory.
const ATTEMPTS_FILE: &str = "token-attempts.json";
/// The setup awaiting its browser, kept across restarts, in the state directory.
const PENDING_FILE: &str = "pending.json";

/// A pending setup as a restart finds it.
#[derive(Serialize, Deserialize)]
struct Saved {
    generation: u64,
    address: IpAddr,
    url: String,
    owner: Owner,
}

impl Saved {
    fn store(&self, dir: &std::path::Path) {
        let path = dir.join(PENDING_FILE);
        let written = serde_json::to_vec(self)
            .map_err(std::io::Error::other)
            .and_then(|json| secrets::write_new(&path, &json, 0o600));
        if let Err(e) = written {
            tracing::warn!(file = %path.display(), error = %e, "could not keep the pending setup");
        }
    }

    /// The kept setup, if sysconfd still waits for its confirm.
    async fn load(dir: &std::path::Path, config: &ConfigProxy<'static>) -> Option<Saved> {
        let path = dir.join(PENDING_FILE);
        let saved: Saved = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        if config.pending_confirmation().await.ok()? == saved.generation {
            Some(saved)
        } else {
            let _ = std::fs::remove_file(&path);
            None
        }
    }
}

/// How long a confirm waits for `Complete` to return.
const APPLYING_WAIT: Duration = Duration::from_secs(15);

/// Sessions kept; the oldest claim is forgotten first.
const MAX_SESSIONS: usize = 64;

enum Confirmed {
    /// Confirmed, by the browser of this session.
    Now(String),
    Already,
    NotOwner,
    NothingPending,
    Elsewhere(IpAddr),
    Failed(String),
}

#[derive(Deserialize, Default)]
struct ConfirmBody {
    #[serde(default)]
    key: String,
}

/// The owner's browser at the new address: its session cookie, or the
/// confirm key it carried there (then it gets its session cookie here too).
async fn confirm(
    State(app): State<Arc<App>>,
    Extension(conn): Extension<Conn>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let body: ConfirmBody = serde_json::from_slice(&body).unwrap_or_default();
    let key = body.key.trim();
    match app.confirm_from(conn.local.ip(), &headers, key).await {
        Confirmed::Now(session) => {
            let mut res = Json(json!({ "phase": "done" })).into_response();
            // When the browser came with the key, its session follows it here.
            if let Some(v) = session_cookie(&session) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Confirmed::Already => Json(json!({ "phase": "done" })).into_response(),
        Confirmed::NotOwner => {
            tracing::warn!(client = %conn.peer.ip(), "a confirm without the owner's session was refused");
            let mut res = awaiting();
            *res.status_mut() = StatusCode::FORBIDDEN;
            res
        }
        Confirmed::NothingPending => error(StatusCode::CONFLICT, "no setup awaits confirmation"),
        Confirmed::Elsewhere(address) => error(
            StatusCode::CONFLICT,
            format!("confirm from the new address, {}", app.url_for(address)),
        ),
        Confirmed::Failed(why) => error(StatusCode::BAD_GATEWAY, why),
    }
}

fn session_cookie(id: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{COOKIE}={id}; Path=/; Secure; HttpOnly; SameSite=Strict"
    ))
    .ok()
}

/// How long `Complete` waits after the page has its answer.
const ANSWER_FIRST: Duration = Duration::from_millis(500);

/// What the page at the old address fetches at the new one, to learn when
/// the box answers there; it confirms nothing (see [`confirm`]).
async fn reach() -> impl IntoResponse {
    (
        [(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        )],
        StatusCode::NO_CONTENT,
    )
}
