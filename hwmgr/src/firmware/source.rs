//! Where an archive comes from — a package name (the catalog's URL), a
//! local file or directory (a USB key, a bundle in the image), an http(s)
//! URL — and fetching it into a private copy whose sums are taken on the
//! way, so what is checked is exactly what is extracted.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::catalog::{is_package_name, Catalog, Package, MAX_ARCHIVE};
use super::fsutil::hex;
use super::FirmwareError;

/// What an admin names as the source of an install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A catalog package: fetched from its URL.
    Package(String),
    /// A local archive or a directory holding archives.
    Path(PathBuf),
    /// An http:// or https:// URL.
    Url(String),
}

impl Source {
    pub fn parse(text: &str) -> Result<Source, FirmwareError> {
        let text = text.trim();
        let bad = |why: &str| FirmwareError::Source(format!("{text:?}: {why}"));
        if text.is_empty() {
            return Err(bad("give a package name, a file, a directory or a URL"));
        }
        if text.chars().any(char::is_control) {
            return Err(bad("control characters are not allowed"));
        }
        if text.starts_with("http://") || text.starts_with("https://") {
            return Ok(Source::Url(text.to_owned()));
        }
        if let Some(path) = text.strip_prefix("file://") {
            return Source::parse(path);
        }
        if text.contains('/') {
            if !text.starts_with('/') {
                return Err(bad("give an absolute path"));
            }
            return Ok(Source::Path(PathBuf::from(text)));
        }
        if is_package_name(text) {
            return Ok(Source::Package(text.to_owned()));
        }
        Err(bad(
            "not a package name (a-z, 0-9, `-`, `.`), an absolute path or an http(s) URL",
        ))
    }
}

/// Where one archive is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Url(String),
}

impl Location {
    /// A catalog URL: http(s), `file://` or an absolute path.
    pub fn of_url(url: &str) -> Location {
        if let Some(path) = url.strip_prefix("file://") {
            Location::File(PathBuf::from(path))
        } else if url.starts_with('/') {
            Location::File(PathBuf::from(url))
        } else {
            Location::Url(url.to_owned())
        }
    }

    /// `archive` inside a directory or under a URL prefix.
    pub fn join(base: &Source, archive: &str) -> Option<Location> {
        match base {
            Source::Path(dir) => Some(Location::File(dir.join(archive))),
            Source::Url(prefix) => Some(Location::Url(format!(
                "{}/{archive}",
                prefix.trim_end_matches('/')
            ))),
            Source::Package(_) => None,
        }
    }

    /// The last path segment: the archive name a file or URL shows.
    pub fn file_name(&self) -> Option<String> {
        match self {
            Location::File(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()),
            Location::Url(u) => {
                let path = u.split(['?', '#']).next().unwrap_or(u);
                path.rsplit('/')
                    .next()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            }
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Url(u) => f.write_str(u),
        }
    }
}

/// One archive to fetch, for a package known now or identified by its sums later.
#[derive(Debug, Clone)]
pub struct Planned {
    pub package: Option<Package>,
    pub location: Location,
}

/// The archives `source` stands for. `package` names the package when the
/// source's file name is not the catalog's archive name.
pub fn resolve(
    catalog: &Catalog,
    source: &Source,
    package: Option<&str>,
) -> Result<Vec<Planned>, FirmwareError> {
    let named = match package {
        Some(name) => Some(
            catalog
                .get(name)
                .cloned()
                .ok_or_else(|| FirmwareError::UnknownPackage(name.to_owned()))?,
        ),
        None => None,
    };
    match source {
        Source::Package(name) => {
            let pkg = catalog
                .get(name)
                .cloned()
                .ok_or_else(|| FirmwareError::UnknownPackage(name.clone()))?;
            if named.as_ref().is_some_and(|n| n.name != pkg.name) {
                return Err(FirmwareError::Source(format!(
                    "the source names package {name}, not {}",
                    package.unwrap_or_default()
                )));
            }
            Ok(vec![Planned {
                location: Location::of_url(&pkg.url),
                package: Some(pkg),
            }])
        }
        Source::Path(path) if path.is_dir() => {
            let wanted: Vec<&Package> = match &named {
                Some(p) => vec![p],
                None => catalog.packages.iter().collect(),
            };
            let found: Vec<Planned> = wanted
                .into_iter()
                .filter(|p| path.join(&p.archive).is_file())
                .map(|p| Planned {
                    package: Some(p.clone()),
                    location: Location::File(path.join(&p.archive)),
                })
                .collect();
            if found.is_empty() {
                let what = match &named {
                    Some(p) => p.archive.clone(),
                    None => "any archive the catalog names".to_owned(),
                };
                return Err(FirmwareError::Source(format!(
                    "{} holds no {what}",
                    path.display()
                )));
            }
            Ok(found)
        }
        Source::Path(path) => {
            if !path.is_file() {
                return Err(FirmwareError::Source(format!(
                    "{} is not a file or a directory",
                    path.display()
                )));
            }
            let location = Location::File(path.clone());
            Ok(vec![Planned {
                package: named.or_else(|| by_name(catalog, &location)),
                location,
            }])
        }
        Source::Url(url) => {
            let location = Location::Url(url.clone());
            Ok(vec![Planned {
                package: named.or_else(|| by_name(catalog, &location)),
                location,
            }])
        }
    }
}

fn by_name(catalog: &Catalog, location: &Location) -> Option<Package> {
    catalog.by_archive(&location.file_name()?).cloned()
}

/// An archive copied into the state directory, with its sums.
#[derive(Debug)]
pub struct Fetched {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub sha1: String,
    pub md5: String,
}

impl Drop for Fetched {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// How long a download may take, and wait for each read.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const READ_TIMEOUT: Duration = Duration::from_secs(30);
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// Copies the archive at `location` to `into`, reading at most `limit`
/// bytes. `progress(done, total)` follows the bytes (`total` 0 when unknown).
pub fn fetch(
    location: &Location,
    into: &Path,
    limit: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Fetched, FirmwareError> {
    let failed = |why: String| FirmwareError::Fetch {
        location: location.to_string(),
        why,
    };
    let (mut reader, total): (Box<dyn Read>, u64) = match location {
        Location::File(path) => {
            let f = File::open(path).map_err(|e| failed(e.to_string()))?;
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            (Box::new(f), len)
        }
        Location::Url(url) => http_get(url, limit).map_err(failed)?,
    };
    if let Some(dir) = into.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| FirmwareError::io(format!("creating {}", dir.display()), e))?;
    }
    let mut out = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(into)
        .map_err(|e| FirmwareError::io(format!("creating {}", into.display()), e))?;
    let mut fetched = Fetched {
        path: into.to_owned(),
        size: 0,
        sha256: String::new(),
        sha1: String::new(),
        md5: String::new(),
    };
    let (mut s256, mut s1, mut m5) = (Sha256::new(), Sha1::new(), Md5::new());
    let mut buf = vec![0u8; 64 * 1024];
    progress(0, total);
    loop {
        let n = reader.read(&mut buf).map_err(|e| failed(e.to_string()))?;
        if n == 0 {
            break;
        }
        fetched.size += n as u64;
        if fetched.size > limit {
            return Err(failed(format!("it is larger than {limit} bytes")));
        }
        s256.update(&buf[..n]);
        s1.update(&buf[..n]);
        m5.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(|e| FirmwareError::io(format!("writing {}", into.display()), e))?;
        progress(fetched.size, total);
    }
    out.sync_all()
        .map_err(|e| FirmwareError::io(format!("writing {}", into.display()), e))?;
    fetched.sha256 = hex(&s256.finalize());
    fetched.sha1 = hex(&s1.finalize());
    fetched.md5 = hex(&m5.finalize());
    Ok(fetched)
}

/// A GET whose body is read as it comes, with its announced length.
fn http_get(url: &str, limit: u64) -> Result<(Box<dyn Read>, u64), String> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_per_read(Some(READ_TIMEOUT))
        .timeout_global(Some(DOWNLOAD_TIMEOUT))
        .user_agent("telbox-firmware")
        .build()
        .new_agent();
    let response = agent.get(url).call().map_err(|e| e.to_string())?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!(
            "the server answered {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or_default()
        ));
    }
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // One byte over the limit is read, so an oversized body is told apart.
    let reader = response
        .into_body()
        .into_with_config()
        .limit(limit.saturating_add(1))
        .reader();
    Ok((Box::new(reader), total))
}

/// The largest archive accepted for `package`: its catalog size, else [`MAX_ARCHIVE`].
pub fn limit_for(package: Option<&Package>) -> u64 {
    package.and_then(|p| p.size).unwrap_or(MAX_ARCHIVE)
}

/// Checks `fetched` against every sum the catalog gives for `package` and
/// the one the admin pinned. Nothing is extracted before this passes.
pub fn verify(
    package: &Package,
    fetched: &Fetched,
    pinned: Option<&str>,
    location: &Location,
) -> Result<(), FirmwareError> {
    let mismatch = |algorithm: &str, expected: &str, got: &str| FirmwareError::ChecksumMismatch {
        package: package.name.clone(),
        location: location.to_string(),
        algorithm: algorithm.to_owned(),
        expected: expected.to_owned(),
        got: got.to_owned(),
    };
    if !package.has_checksum() && pinned.is_none() {
        return Err(FirmwareError::NoChecksum {
            package: package.name.clone(),
            sha256: fetched.sha256.clone(),
            note: package.checksum_note.clone().unwrap_or_default(),
        });
    }
    if let Some(size) = package.size.filter(|s| *s != fetched.size) {
        return Err(mismatch(
            "size",
            &size.to_string(),
            &fetched.size.to_string(),
        ));
    }
    let checks = [
        ("SHA-256", pinned, &fetched.sha256),
        ("SHA-256", package.sha256.as_deref(), &fetched.sha256),
        ("SHA-1", package.sha1.as_deref(), &fetched.sha1),
        ("MD5", package.md5.as_deref(), &fetched.md5),
    ];
    for (algorithm, expected, got) in checks {
        if let Some(expected) = expected.filter(|e| !e.eq_ignore_ascii_case(got)) {
            return Err(mismatch(algorithm, expected, got));
        }
    }
    Ok(())
}

/// The catalog package whose sums `fetched` matches.
pub fn identify<'a>(catalog: &'a Catalog, fetched: &Fetched) -> Option<&'a Package> {
    catalog.packages.iter().find(|p| {
        p.sha256.as_deref() == Some(fetched.sha256.as_str())
            || p.sha1.as_deref() == Some(fetched.sha1.as_str())
            || p.md5.as_deref() == Some(fetched.md5.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_told_apart() {
        assert_eq!(
            Source::parse("digium-te435").unwrap(),
            Source::Package("digium-te435".into())
        );
        assert_eq!(
            Source::parse("/media/usb").unwrap(),
            Source::Path("/media/usb".into())
        );
        assert_eq!(
            Source::parse("file:///media/usb/a.tar.gz").unwrap(),
            Source::Path("/media/usb/a.tar.gz".into())
        );
        assert!(matches!(
            Source::parse("https://mirror.example/fw/a.tar.gz").unwrap(),
            Source::Url(_)
        ));
        assert!(Source::parse("usb/a.tar.gz").is_err());
        assert!(Source::parse("Digium TE435").is_err());
        assert!(Source::parse("a\nb").is_err());
    }

    #[test]
    fn a_url_shows_its_archive_name() {
        let l = Location::Url("http://h:8080/x/dahdi-fw-te435-13001e.tar.gz?x=1".into());
        assert_eq!(
            l.file_name().as_deref(),
            Some("dahdi-fw-te435-13001e.tar.gz")
        );
        let base = Source::Url("http://h/fw/".into());
        assert_eq!(
            Location::join(&base, "a.tar.gz"),
            Some(Location::Url("http://h/fw/a.tar.gz".into()))
        );
    }
}
