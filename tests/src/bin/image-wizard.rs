//! Sets up a telbox booted in QEMU through its first-boot wizard, in
//! headless Chromium, as a person on the box's LAN would: the setup token,
//! the form, the plan preview, apply, and the confirmation from the box's
//! new address.
//!
//! The guest's addresses are not routable from the host (QEMU's user
//! network), so Chromium goes through a small CONNECT proxy in this process
//! that maps each guest address the page visits to the host port QEMU
//! forwards to it (`--map 10.0.2.15:443=127.0.0.1:40443`). The page itself
//! sees only the guest's own addresses.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use telbox_tests::wizard::Browser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Complete the first-boot wizard of a QEMU guest in headless Chromium.
#[derive(Parser)]
#[command(name = "image-wizard")]
struct Args {
    /// The setup token (`appliance wizard token` in the guest).
    #[arg(long)]
    token: String,
    /// The wizard's address as the guest has it now.
    #[arg(long)]
    from: String,
    /// The static address the form sets (prefix and gateway below).
    #[arg(long)]
    address: String,
    #[arg(long, default_value_t = 24)]
    prefix: u8,
    #[arg(long)]
    gateway: String,
    #[arg(long, default_value = "pbx")]
    hostname: String,
    /// GUEST:PORT=HOST:PORT, once per forwarded port.
    #[arg(long = "map", value_parser = parse_map)]
    maps: Vec<(String, SocketAddr)>,
    /// chromedriver's port.
    #[arg(long, default_value_t = 9531)]
    driver_port: u16,
    /// Prefix of the screenshots' names.
    #[arg(long, default_value = "image")]
    shots: String,
    /// How long the apply and the confirmation may take, in seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

fn parse_map(s: &str) -> Result<(String, SocketAddr), String> {
    let (guest, host) = s
        .split_once('=')
        .ok_or_else(|| format!("{s}: expected GUEST:PORT=HOST:PORT"))?;
    let host = host
        .parse()
        .map_err(|e| format!("{host}: not HOST:PORT ({e})"))?;
    Ok((guest.to_owned(), host))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let maps: BTreeMap<String, SocketAddr> = args.maps.iter().cloned().collect();
    let proxy = TcpListener::bind("127.0.0.1:0").await?;
    let proxy_addr = proxy.local_addr()?;
    tokio::spawn(serve_proxy(proxy, maps));
    let started = Instant::now();
    let b = Browser::start_with(
        args.driver_port,
        &args.shots,
        &[format!("--proxy-server=http://{proxy_addr}")],
    )
    .await;
    let outcome = drive(&b, &args).await;
    if outcome.is_err() {
        b.shot("failed").await;
        let text = b
            .js("return document.body ? document.body.innerText : ''")
            .await;
        eprintln!(
            "the page when it failed:\n{}",
            text.as_str().unwrap_or_default()
        );
    }
    b.close().await;
    outcome?;
    println!(
        "image-wizard: claimed at https://{}/, applied, confirmed at https://{}/ in {:.1} s",
        args.from,
        args.address,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn drive(b: &Browser, a: &Args) -> anyhow::Result<()> {
    let limit = Duration::from_secs(a.timeout);
    b.client
        .goto(&format!("https://{}/", a.from))
        .await
        .context("opening the wizard")?;
    b.wait_phase("claim", Duration::from_secs(60)).await;
    b.shot("1-claim").await;
    b.fill("token", &a.token).await;
    b.click("claim-submit").await;
    b.wait_phase("open", Duration::from_secs(30)).await;
    b.shot("2-box").await;
    for (id, value) in [
        ("hostname", a.hostname.as_str()),
        ("domain", "example.com"),
        ("address", a.address.as_str()),
        ("prefix", &a.prefix.to_string()),
        ("gateway", a.gateway.as_str()),
        ("dns", a.gateway.as_str()),
        ("timezone", "UTC"),
    ] {
        b.fill(id, value).await;
    }
    b.js("delete document.body.dataset.checked").await;
    b.click("check").await;
    // The page checks again by itself after typing; Apply is enabled only
    // once the last check has answered (slow under emulation).
    b.wait_until(
        "the form checked valid, Apply enabled",
        "return document.body.dataset.checked === 'valid' && !document.getElementById('apply').disabled",
        Duration::from_secs(60),
    )
    .await;
    b.shot("3-preview").await;
    b.click("apply").await;
    b.wait_until(
        "the page past the form",
        "return document.body.dataset.phase !== 'open'",
        Duration::from_secs(60),
    )
    .await;
    b.shot("4-pending").await;
    let new = format!("https://{}/", a.address);
    b.wait_until(
        "the browser at the new address, set up",
        &format!("return location.href === '{new}' && document.body.dataset.phase === 'done'"),
        limit,
    )
    .await;
    b.shot("5-done").await;
    let phase = b.phase().await;
    if phase != "done" {
        bail!("the page ends in phase {phase:?}");
    }
    Ok(())
}

/// Answers CONNECT for the mapped guest addresses; refuses anything else.
async fn serve_proxy(listener: TcpListener, maps: BTreeMap<String, SocketAddr>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let maps = maps.clone();
        tokio::spawn(async move {
            if let Err(e) = tunnel(client, &maps).await {
                eprintln!("proxy: {e:#}");
            }
        });
    }
}

async fn tunnel(mut client: TcpStream, maps: &BTreeMap<String, SocketAddr>) -> anyhow::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 || client.read(&mut byte).await? == 0 {
            bail!("no request head");
        }
        head.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&head);
    let target = line
        .strip_prefix("CONNECT ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default()
        .to_owned();
    let Some(host) = maps.get(&target) else {
        client
            .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            .await?;
        return Ok(());
    };
    let mut upstream = match TcpStream::connect(host).await {
        Ok(s) => s,
        Err(e) => {
            client
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                .await?;
            bail!("{target} -> {host}: {e}");
        }
    };
    client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await?;
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    Ok(())
}
