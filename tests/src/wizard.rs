//! The first-boot web wizard under test: its server run as the
//! `telbox-wizard` user inside the box's network namespace, and a real
//! headless Chromium (Debian's `chromium` and `chromium-driver`) driven
//! over WebDriver from inside the LAN's namespace.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::bins::bin;
use crate::netns::Netns;

pub const WIZARD_USER: &str = appliance::dbus::WIZARD_USER;

/// Creates the wizard's system user when this machine lacks it (`make deps` does too).
pub fn ensure_wizard_user() {
    let known = Command::new("getent")
        .args(["passwd", WIZARD_USER])
        .output()
        .is_ok_and(|o| o.status.success());
    if !known {
        let out = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                WIZARD_USER,
            ])
            .output()
            .expect("useradd");
        assert!(
            out.status.success(),
            "useradd {WIZARD_USER}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The wizard's uid and gid.
pub fn wizard_ids() -> (u32, u32) {
    let user = nix::unistd::User::from_name(WIZARD_USER)
        .expect("user database")
        .expect("the telbox-wizard user exists");
    (user.uid.as_raw(), user.gid.as_raw())
}

/// Where screenshots go: `target/wizard-screenshots/` of the target directory in use.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("wizard-screenshots");
    fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

pub struct WizardServer {
    child: Option<Child>,
    pub state_dir: PathBuf,
    pub log: PathBuf,
    pub console: PathBuf,
    /// What the wizard wrote to its `--console` terminal.
    pub screen: PathBuf,
}

pub struct WizardOptions<'a> {
    pub netns: &'a Netns,
    pub bus_address: &'a str,
    pub https_port: u16,
    pub http_port: u16,
    pub confirm_timeout_s: u32,
    pub linger_s: u64,
    /// Wrong tokens per client address and window (seconds).
    pub token_tries: usize,
    pub token_window_s: u64,
    /// More arguments (its timeouts and connection limits, say).
    pub extra: &'a [&'a str],
    /// Its limit of open files, when lower than this process's.
    pub nofile: Option<u64>,
}

impl WizardServer {
    /// Starts `telbox-wizard` as its own user in `netns`; waits until it serves.
    pub fn start(dir: &Path, o: &WizardOptions<'_>) -> WizardServer {
        ensure_wizard_user();
        let (uid, gid) = wizard_ids();
        let state_dir = dir.join("wizard-state");
        fs::create_dir_all(&state_dir).expect("wizard state dir");
        nix::unistd::chown(
            &state_dir,
            Some(nix::unistd::Uid::from_raw(uid)),
            Some(nix::unistd::Gid::from_raw(gid)),
        )
        .expect("chown wizard state dir");
        fs::set_permissions(&state_dir, fs::Permissions::from_mode(0o700)).expect("chmod");
        let log = dir.join("wizard.log");
        let console = dir.join("wizard.console");
        // Stands in for /dev/tty1: a file the wizard's user may write.
        let screen = dir.join("wizard.tty1");
        fs::write(&screen, "").expect("screen file");
        nix::unistd::chown(
            &screen,
            Some(nix::unistd::Uid::from_raw(uid)),
            Some(nix::unistd::Gid::from_raw(gid)),
        )
        .expect("chown screen file");
        let mut command = Command::new("ip");
        if let Some(n) = o.nofile {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                command.pre_exec(move || {
                    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, n, n)
                        .map_err(std::io::Error::from)
                });
            }
        }
        let child = command
            .args([
                "netns",
                "exec",
                o.netns.name(),
                "runuser",
                "-u",
                WIZARD_USER,
                "--",
                "env",
            ])
            .arg(format!("DBUS_SYSTEM_BUS_ADDRESS={}", o.bus_address))
            .arg(bin("telbox-wizard"))
            .arg("--state-dir")
            .arg(&state_dir)
            .args(["--https", &format!("0.0.0.0:{}", o.https_port)])
            .args(["--http", &format!("0.0.0.0:{}", o.http_port)])
            .args(["--confirm-timeout", &o.confirm_timeout_s.to_string()])
            .args(["--linger", &o.linger_s.to_string()])
            .args(["--token-tries", &o.token_tries.to_string()])
            .args(["--token-window", &o.token_window_s.to_string()])
            .args(o.extra)
            .arg("--console")
            .arg(&screen)
            .stdout(fs::File::create(&console).expect("console file"))
            .stderr(fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start telbox-wizard");
        let mut w = WizardServer {
            child: Some(child),
            state_dir,
            log,
            console,
            screen,
        };
        let start = Instant::now();
        while !w.log_text().contains("serving the first-boot page") {
            if let Some(status) = w.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("telbox-wizard exited ({status}):\n{}", w.log_text());
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "telbox-wizard not serving in 15 s:\n{}",
                w.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        w
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn console_text(&self) -> String {
        fs::read_to_string(&self.console).unwrap_or_default()
    }

    pub fn screen_text(&self) -> String {
        fs::read_to_string(&self.screen).unwrap_or_default()
    }

    /// The server's process id (`netns` is the one it runs in).
    pub fn pid(&self, netns: &Netns) -> Option<i32> {
        let out = Command::new("ip")
            .args(["netns", "pids", netns.name()])
            .output()
            .expect("ip netns pids");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .find(|pid| {
                fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "telbox-wizard")
            })
            .and_then(|pid| pid.parse().ok())
    }

    /// Kills the server at once, as a crash would (`netns` is the one it runs in).
    pub fn kill(&mut self, netns: &Netns) {
        if let Some(pid) = self.pid(netns) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// Whether the server still runs.
    pub fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Waits up to `limit` for the server to stop by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        let child = self.child.as_mut()?;
        while start.elapsed() < limit {
            if let Some(status) = child.try_wait().ok().flatten() {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

impl Drop for WizardServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // runuser's child is the server; the namespace's drop kills what is left.
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// chromedriver, run inside a network namespace, and a session on it.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    shots: PathBuf,
    prefix: String,
}

/// The browser's console, as chromedriver keeps it.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}

/// Phone-sized window: the page must work there.
pub const PHONE: (u32, u32) = (412, 915);

impl Browser {
    /// Starts chromedriver and a headless Chromium in this thread's network
    /// namespace (call it inside [`Netns::run`]). Fails, never skips, when
    /// either is missing: `make deps` installs them.
    pub async fn start(port: u16, prefix: &str) -> Browser {
        Browser::start_with(port, prefix, &[]).await
    }

    /// [`start`](Self::start) with more Chromium arguments (a proxy, say).
    pub async fn start_with(port: u16, prefix: &str, extra: &[String]) -> Browser {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: install Debian's chromium and chromium-driver (make deps)"
            );
        }
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::Builder::new()
            .prefix("telbox-chromium")
            .tempdir()
            .expect("profile dir");
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--ignore-certificate-errors",
            "--hide-scrollbars",
        ];
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        args.extend(extra.iter().cloned());
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push(format!("--window-size={},{}", PHONE.0, PHONE.1 + 100));
        let caps = json!({
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": args,
                "mobileEmulation": {
                    "deviceMetrics": { "width": PHONE.0, "height": PHONE.1, "pixelRatio": 1.0, "touch": true },
                },
            },
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) => {
                    assert!(
                        start.elapsed() < Duration::from_secs(20),
                        "no WebDriver session from chromedriver in 20 s: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
            shots: screenshot_dir(),
            prefix: prefix.to_owned(),
        }
    }

    /// Writes a PNG of the page as shown now; returns its path.
    pub async fn shot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a screenshot is a PNG");
        let path = self.shots.join(format!("{}-{name}.png", self.prefix));
        fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Runs `script` (a function body) in the page.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.expect("script")
    }

    /// The page's phase (`claim`, `open`, `pending`, `done`).
    pub async fn phase(&self) -> String {
        self.js("return document.body ? (document.body.dataset.phase || '') : ''")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits up to `limit` for `script` to return true.
    pub async fn wait_until(&self, what: &str, script: &str, limit: Duration) {
        let start = Instant::now();
        loop {
            if let Ok(Value::Bool(true)) = self.client.execute(script, vec![]).await {
                return;
            }
            if start.elapsed() > limit {
                let url = self.client.current_url().await.map(|u| u.to_string());
                let body = self
                    .js("return document.body ? document.body.innerText : ''")
                    .await;
                panic!("{what}: not within {limit:?}; at {url:?}, page:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn wait_phase(&self, phase: &str, limit: Duration) {
        self.wait_until(
            &format!("the page in phase {phase}"),
            &format!("return !!document.body && document.body.dataset.phase === '{phase}'"),
            limit,
        )
        .await;
    }

    /// Replaces the value of the input `id` as a person typing would.
    pub async fn fill(&self, id: &str, value: &str) {
        let el = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"));
        el.clear().await.expect("clear");
        if !value.is_empty() {
            el.send_keys(value).await.expect("type");
        }
    }

    pub async fn click(&self, id: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking #{id}: {e}"));
    }

    /// The visible text of element `id`.
    pub async fn text_of(&self, id: &str) -> String {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"))
            .text()
            .await
            .expect("text")
    }

    /// The console's entries since the last call: (level, source, message).
    pub async fn console(&self) -> Vec<(String, String, String)> {
        let entries = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("browser log");
        entries
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
                        (s("level"), s("source"), s("message"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Ends the session and chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
