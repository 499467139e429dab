//! Stand-in firmware packages for tests and the demo: the vendor archives
//! cannot be downloaded here, so these are `.tar.gz` files built on the
//! spot with `dahdi-fw-*.bin` members of made-up content, a catalog naming
//! them with their real package names and the archives' own SHA-256, and a
//! tiny HTTP server to fetch them from.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// Made-up firmware content: `size` bytes that differ for every `label`.
pub fn content(label: &str, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    let mut block = Sha256::digest(label.as_bytes());
    while out.len() < size {
        out.extend_from_slice(&block);
        block = Sha256::digest(block);
    }
    out.truncate(size);
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A `.tar.gz` holding `members` (name, content), in that order.
pub fn tar_gz(members: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_400_000_000);
        header.set_cksum();
        tar.append_data(&mut header, name, *bytes)
            .expect("tar member");
    }
    tar.into_inner().expect("tar").finish().expect("gzip")
}

/// One package: its catalog entry's facts and its archive.
#[derive(Debug, Clone)]
pub struct TestPackage {
    pub name: String,
    pub version: String,
    /// The archive's file name.
    pub archive: String,
    /// The firmware files, with their content.
    pub files: Vec<(String, Vec<u8>)>,
    pub bytes: Vec<u8>,
}

impl TestPackage {
    /// A package whose archive holds `files` (of `size` bytes each) and a
    /// licence text that is not installed, as Digium's tarballs have.
    pub fn new(name: &str, version: &str, files: &[&str], size: usize) -> TestPackage {
        let stem = name.strip_prefix("digium-").unwrap_or(name);
        let archive = format!("dahdi-fw-{stem}-{version}.tar.gz");
        let files: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|f| (f.to_string(), content(&format!("{f} {version}"), size)))
            .collect();
        let licence = b"Test firmware: no rights reserved.\n".as_slice();
        let mut members: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        members.push(("LICENSE.test", licence));
        let bytes = tar_gz(&members);
        TestPackage {
            name: name.to_owned(),
            version: version.to_owned(),
            archive,
            files,
            bytes,
        }
    }

    pub fn sha256(&self) -> String {
        sha256_hex(&self.bytes)
    }

    /// Writes the archive into `dir`; returns its path.
    pub fn write_to(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).expect("archive dir");
        let path = dir.join(&self.archive);
        std::fs::write(&path, &self.bytes).expect("write archive");
        path
    }

    /// The catalog entry, fetched from `url_base/ARCHIVE`.
    pub fn catalog_entry(&self, url_base: &str) -> String {
        let files: Vec<String> = self.files.iter().map(|(n, _)| format!("{n:?}")).collect();
        let mut out = String::new();
        let _ = write!(
            out,
            "[[package]]\nname = {:?}\nversion = {:?}\ndescription = \"test firmware {}\"\n\
             archive = {:?}\nurl = \"{}/{}\"\nsize = {}\nsha256 = {:?}\nfiles = [{}]\n\n",
            self.name,
            self.version,
            self.name,
            self.archive,
            url_base.trim_end_matches('/'),
            self.archive,
            self.bytes.len(),
            self.sha256(),
            files.join(", ")
        );
        out
    }
}

/// The catalog sysconfd reads under `root` in place of the built-in one.
pub fn write_catalog(root: &Path, packages: &[&TestPackage], url_base: &str) {
    let path = root.join("etc/telbox/firmware-catalog.toml");
    std::fs::create_dir_all(path.parent().unwrap()).expect("catalog dir");
    let text: String = packages.iter().map(|p| p.catalog_entry(url_base)).collect();
    std::fs::write(path, text).expect("write catalog");
}

/// An HTTP/1.1 server for the files of one directory (GET only; 404 for
/// anything else). Stops when dropped.
pub struct HttpServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    requests: Arc<AtomicUsize>,
}

impl HttpServer {
    /// Binds 127.0.0.1 of the calling thread's network namespace (the
    /// socket stays there, whichever thread serves it).
    pub fn serve(dir: &Path) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the test HTTP server");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("address");
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let dir = dir.to_owned();
        let thread = {
            let (stop, requests) = (stop.clone(), requests.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            requests.fetch_add(1, Ordering::Relaxed);
                            let _ = answer(stream, &dir);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        HttpServer {
            addr,
            stop,
            thread: Some(thread),
            requests,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(stream: TcpStream, dir: &Path) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut out = stream;
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let name = path.trim_start_matches('/');
    let plain = !name.is_empty() && !name.contains('/') && !name.starts_with('.');
    let body = (request.starts_with("GET ") && plain)
        .then(|| std::fs::read(dir.join(name)).ok())
        .flatten();
    match body {
        Some(bytes) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len()
            )?;
            out.write_all(&bytes)?;
        }
        None => write!(
            out,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?,
    }
    out.flush()
}
