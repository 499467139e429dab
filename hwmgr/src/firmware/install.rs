//! Install, remove and upgrade: each a fetch, a check, an extraction
//! under temporary names, and only then a short commit — record first
//! (marked incomplete), renames, record complete.

use std::path::PathBuf;

use appliance::firmware::{phase, ChangeReport, PackageChange, WrittenFile, FIRMWARE_DIR};

use super::archive::{self, Extracted};
use super::catalog::Package;
use super::fsutil::{hash_file, sync_dir};
use super::record::{Record, RecordedFile};
use super::source::{self, Fetched, Location, Planned, Source};
use super::{Firmware, FirmwareError};

/// How far an install or upgrade is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress<'a> {
    pub package: &'a str,
    /// One of [`appliance::firmware::phase`].
    pub phase: &'static str,
    pub done: u64,
    /// 0 when unknown.
    pub total: u64,
}

/// What `install` is asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallRequest {
    /// A package name, an absolute file or directory path, or an http(s) URL.
    pub source: String,
    /// The package, when the source's name does not say it.
    pub package: Option<String>,
    /// A SHA-256 the archive must have (for packages the catalog has no sum for).
    pub sha256: Option<String>,
    /// Replace files changed by hand or not installed by telbox.
    pub force: bool,
}

type ProgressFn<'a> = &'a mut dyn FnMut(Progress<'_>);

/// One file to commit.
enum Step {
    /// Rename the temporary file over the target.
    Write { temp: PathBuf, target: PathBuf },
    /// The same content is there already: nothing to write.
    Keep,
}

impl Firmware {
    /// Installs what `req.source` stands for. Nothing under `/lib/firmware`
    /// changes unless the archive's sums match and no file in the way was
    /// changed by hand (or `force`).
    pub fn install(
        &self,
        req: &InstallRequest,
        progress: ProgressFn<'_>,
    ) -> Result<ChangeReport, FirmwareError> {
        let pinned = req
            .sha256
            .as_deref()
            .map(|s| {
                let s = s.trim().to_ascii_lowercase();
                if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(s)
                } else {
                    Err(FirmwareError::Source(format!(
                        "--sha256 {s:?} is not 64 hex digits"
                    )))
                }
            })
            .transpose()?;
        let source = Source::parse(&req.source)?;
        let planned = source::resolve(&self.catalog, &source, req.package.as_deref())?;
        self.clean_interrupted();
        let mut report = ChangeReport::default();
        for p in planned {
            match self.install_one(&p, &req.source, pinned.as_deref(), req.force, progress) {
                Ok((change, warnings)) => {
                    report.changes.push(change);
                    report.warnings.extend(warnings);
                }
                Err(e) => return Err(partly(&report, e)),
            }
        }
        Ok(report)
    }

    fn install_one(
        &self,
        planned: &Planned,
        source_text: &str,
        pinned: Option<&str>,
        force: bool,
        progress: ProgressFn<'_>,
    ) -> Result<(PackageChange, Vec<String>), FirmwareError> {
        let (package, fetched) = self.fetch_verified(planned, pinned, progress)?;
        let old = self.records().load(&package.name)?;
        if let Some(old) = old.as_ref().filter(|o| o.version != package.version) {
            return Err(FirmwareError::OtherVersion {
                package: package.name.clone(),
                installed: old.version.clone(),
                available: package.version.clone(),
            });
        }
        self.commit(
            &package,
            &fetched,
            old.as_ref(),
            source_text,
            force,
            progress,
        )
    }

    /// Fetches and checks one archive; the package is identified by its sums
    /// when its name did not tell it.
    fn fetch_verified(
        &self,
        planned: &Planned,
        pinned: Option<&str>,
        progress: ProgressFn<'_>,
    ) -> Result<(Package, Fetched), FirmwareError> {
        let label = planned
            .package
            .as_ref()
            .map_or_else(|| planned.location.to_string(), |p| p.name.clone());
        let archive = planned
            .location
            .file_name()
            .unwrap_or_else(|| "archive".to_owned());
        let into = self.downloads().join(format!(
            ".{archive}{}{}",
            archive::PART_MARK,
            std::process::id()
        ));
        let limit = source::limit_for(planned.package.as_ref());
        let fetched = source::fetch(&planned.location, &into, limit, &mut |done, total| {
            progress(Progress {
                package: &label,
                phase: phase::FETCH,
                done,
                total,
            })
        })?;
        progress(Progress {
            package: &label,
            phase: phase::VERIFY,
            done: 0,
            total: 0,
        });
        let package = match &planned.package {
            Some(p) => p.clone(),
            None => source::identify(&self.catalog, &fetched)
                .cloned()
                .ok_or_else(|| FirmwareError::Unidentified {
                    location: planned.location.to_string(),
                })?,
        };
        source::verify(&package, &fetched, pinned, &planned.location)?;
        Ok((package, fetched))
    }

    /// Extracts `package` from the verified `fetched` archive and puts its
    /// files in place of `old`'s (the same package, installed before).
    fn commit(
        &self,
        package: &Package,
        fetched: &Fetched,
        old: Option<&Record>,
        source_text: &str,
        force: bool,
        progress: ProgressFn<'_>,
    ) -> Result<(PackageChange, Vec<String>), FirmwareError> {
        let dir = self.dir();
        let created_dir = !dir.exists() || old.is_some_and(|o| o.created_dir);
        let mut extracted = archive::extract(&fetched.path, package, &dir, &mut |done, total| {
            progress(Progress {
                package: &package.name,
                phase: phase::EXTRACT,
                done,
                total,
            })
        })?;
        let planned = self.plan_commit(package, &extracted, old, force);
        let (steps, files, to_delete, mut change, warnings) = match planned {
            Ok(p) => p,
            Err(e) => {
                extracted.discard();
                return Err(e);
            }
        };
        progress(Progress {
            package: &package.name,
            phase: phase::COMMIT,
            done: 0,
            total: steps.len() as u64,
        });
        let mut record = Record {
            name: package.name.clone(),
            version: package.version.clone(),
            archive: package.archive.clone(),
            archive_sha256: fetched.sha256.clone(),
            source: source_text.to_owned(),
            installed_at: now(),
            complete: false,
            created_dir,
            files,
        };
        if let Err(e) = self.records().save(&record) {
            extracted.discard();
            return Err(e);
        }
        let io = |what: String| move |e| FirmwareError::io(what, e);
        for step in &steps {
            if let Step::Write { temp, target } = step {
                std::fs::rename(temp, target)
                    .map_err(io(format!("moving {} into place", target.display())))?;
            }
        }
        for path in &to_delete {
            let on_disk = self.root.path(path);
            match std::fs::remove_file(&on_disk) {
                Ok(()) => change.removed.push(path.clone()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(format!("removing {}", on_disk.display()))(e)),
            }
        }
        sync_dir(&dir).map_err(io(format!("syncing {}", dir.display())))?;
        // Temporary files of members whose content was already there.
        extracted.discard();
        record.complete = true;
        self.records().save(&record)?;
        progress(Progress {
            package: &package.name,
            phase: phase::COMMIT,
            done: steps.len() as u64,
            total: steps.len() as u64,
        });
        Ok((change, warnings))
    }

    /// What committing `extracted` over `old` means, file by file, or why
    /// it may not happen. Returns the steps, the new record's files, the
    /// old files to delete, the change and warnings.
    #[allow(clippy::type_complexity)]
    fn plan_commit(
        &self,
        package: &Package,
        extracted: &Extracted,
        old: Option<&Record>,
        force: bool,
    ) -> Result<
        (
            Vec<Step>,
            Vec<RecordedFile>,
            Vec<String>,
            PackageChange,
            Vec<String>,
        ),
        FirmwareError,
    > {
        let others: Vec<Record> = self
            .records()
            .all()?
            .into_iter()
            .filter(|r| r.name != package.name)
            .collect();
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        let mut steps = Vec::new();
        let mut files = Vec::new();
        let mut change = PackageChange {
            package: package.name.clone(),
            version: Some(package.version.clone()),
            previous_version: old.map(|o| o.version.clone()),
            skipped: extracted.skipped.clone(),
            ..PackageChange::default()
        };
        for s in &extracted.staged {
            let path = format!("{FIRMWARE_DIR}/{}", s.name);
            let current = hash_file(&s.target)
                .map_err(|e| FirmwareError::io(format!("reading {}", s.target.display()), e))?;
            let recorded = old.and_then(|o| o.files.iter().find(|f| f.path == path));
            let owner = others
                .iter()
                .find(|r| r.files.iter().any(|f| f.path == path));
            let mut preexisting = false;
            let mut refuse = |why: String, problems: &mut Vec<String>| {
                if force {
                    warnings.push(format!("{why}: replaced (--force)"));
                } else {
                    problems.push(why);
                }
            };
            match (&current, recorded, owner) {
                (None, _, _) => {}
                (Some(_), _, Some(other)) => refuse(
                    format!("{path} belongs to package {}", other.name),
                    &mut problems,
                ),
                (Some((sum, _)), Some(rec), None) if *sum == rec.sha256 => {
                    preexisting = rec.preexisting && *sum == s.sha256;
                }
                (Some(_), Some(_), None) => refuse(
                    format!("{path} was changed by hand since it was installed"),
                    &mut problems,
                ),
                (Some((sum, _)), None, None) if *sum == s.sha256 => preexisting = true,
                (Some(_), None, None) => refuse(
                    format!("{path} is there already and was not installed by telbox"),
                    &mut problems,
                ),
            }
            let same = current.as_ref().is_some_and(|(sum, _)| *sum == s.sha256);
            if same {
                steps.push(Step::Keep);
                change
                    .kept
                    .push(format!("{path}: already holds this version"));
            } else {
                steps.push(Step::Write {
                    temp: s.temp.clone(),
                    target: s.target.clone(),
                });
                change.written.push(WrittenFile {
                    path: path.clone(),
                    sha256: s.sha256.clone(),
                    size: s.size,
                });
            }
            files.push(RecordedFile {
                path,
                sha256: s.sha256.clone(),
                size: s.size,
                preexisting,
            });
        }
        let mut to_delete = Vec::new();
        for f in old.map(|o| o.files.as_slice()).unwrap_or_default() {
            if files.iter().any(|n| n.path == f.path) {
                continue;
            }
            let state = f.state(&self.root)?;
            match state {
                appliance::firmware::FileState::Missing => {}
                _ if f.preexisting => change
                    .kept
                    .push(format!("{}: was there before the install", f.path)),
                appliance::firmware::FileState::Intact => to_delete.push(f.path.clone()),
                appliance::firmware::FileState::Changed => {
                    let why = format!(
                        "{} (of {} {}) was changed by hand since it was installed",
                        f.path,
                        package.name,
                        old.map(|o| o.version.as_str()).unwrap_or_default()
                    );
                    if force {
                        warnings.push(format!("{why}: removed (--force)"));
                        to_delete.push(f.path.clone());
                    } else {
                        problems.push(why);
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(FirmwareError::Refused {
                package: package.name.clone(),
                problems,
                forceable: true,
            });
        }
        Ok((steps, files, to_delete, change, warnings))
    }

    /// Removes an installed package's files: exactly those recorded, and
    /// only if none was changed since (unless `force`).
    pub fn remove(&self, name: &str, force: bool) -> Result<ChangeReport, FirmwareError> {
        let record = self
            .records()
            .load(name)?
            .ok_or_else(|| FirmwareError::NotInstalled(name.to_owned()))?;
        self.clean_interrupted();
        let mut change = PackageChange {
            package: record.name.clone(),
            previous_version: Some(record.version.clone()),
            ..PackageChange::default()
        };
        let mut warnings = Vec::new();
        let mut problems = Vec::new();
        let mut to_delete = Vec::new();
        for f in &record.files {
            use appliance::firmware::FileState::*;
            match f.state(&self.root)? {
                Missing => change.kept.push(format!("{}: already gone", f.path)),
                _ if f.preexisting => change
                    .kept
                    .push(format!("{}: was there before the install", f.path)),
                Intact => to_delete.push(f.path.clone()),
                Changed if force => {
                    warnings.push(format!(
                        "{} was changed by hand since it was installed: removed (--force)",
                        f.path
                    ));
                    to_delete.push(f.path.clone());
                }
                Changed => problems.push(format!(
                    "{} was changed by hand since it was installed (sha256 was {})",
                    f.path, f.sha256
                )),
            }
        }
        if !problems.is_empty() {
            return Err(FirmwareError::Refused {
                package: record.name.clone(),
                problems,
                forceable: true,
            });
        }
        let dir = self.dir();
        for path in to_delete {
            let on_disk = self.root.path(&path);
            match std::fs::remove_file(&on_disk) {
                Ok(()) => change.removed.push(path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(FirmwareError::io(
                        format!("removing {}", on_disk.display()),
                        e,
                    ))
                }
            }
        }
        if dir.exists() {
            sync_dir(&dir)
                .map_err(|e| FirmwareError::io(format!("syncing {}", dir.display()), e))?;
        }
        self.records().delete(&record.name)?;
        let last = self.records().all()?.is_empty();
        if record.created_dir && last {
            // Only when empty: anything else there stays.
            let _ = std::fs::remove_dir(&dir);
        }
        Ok(ChangeReport {
            changes: vec![change],
            warnings,
        })
    }

    /// Upgrades every installed package whose catalog version differs.
    /// `source` (a directory or a URL prefix holding the archives) replaces
    /// the catalog's URLs when given.
    pub fn upgrade(
        &self,
        source: Option<&str>,
        force: bool,
        progress: ProgressFn<'_>,
    ) -> Result<ChangeReport, FirmwareError> {
        let base = match source.filter(|s| !s.trim().is_empty()) {
            Some(s) => match Source::parse(s)? {
                Source::Package(_) => {
                    return Err(FirmwareError::Source(format!(
                        "{s:?}: upgrade takes a directory or a URL holding the archives"
                    )))
                }
                b => Some(b),
            },
            None => None,
        };
        self.clean_interrupted();
        let mut report = ChangeReport::default();
        for record in self.records().all()? {
            let Some(package) = self.catalog.get(&record.name) else {
                report.warnings.push(format!(
                    "{} {} is installed but not in the catalog: left as it is",
                    record.name, record.version
                ));
                continue;
            };
            if package.version == record.version {
                continue;
            }
            let location = match &base {
                Some(b) => Location::join(b, &package.archive).expect("a directory or URL"),
                None => Location::of_url(&package.url),
            };
            let planned = Planned {
                package: Some(package.clone()),
                location: location.clone(),
            };
            let result =
                self.fetch_verified(&planned, None, progress)
                    .and_then(|(pkg, fetched)| {
                        self.commit(
                            &pkg,
                            &fetched,
                            Some(&record),
                            &location.to_string(),
                            force,
                            progress,
                        )
                    });
            match result {
                Ok((change, warnings)) => {
                    report.changes.push(change);
                    report.warnings.extend(warnings);
                }
                Err(e) => return Err(partly(&report, e)),
            }
        }
        Ok(report)
    }
}

/// `e`, saying first what was done before it.
fn partly(report: &ChangeReport, e: FirmwareError) -> FirmwareError {
    if report.changes.is_empty() {
        return e;
    }
    let done: Vec<String> = report
        .changes
        .iter()
        .map(|c| {
            format!(
                "{} {} installed",
                c.package,
                c.version.as_deref().unwrap_or_default()
            )
        })
        .collect();
    FirmwareError::Partly {
        done: done.join(", "),
        error: Box::new(e),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firmware::Catalog;
    use crate::Root;
    use sha2::{Digest, Sha256};

    fn tar_gz(members: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        for (name, bytes) in members {
            let mut h = tar::Header::new_gnu();
            // Written raw: the builder refuses the `..` a hostile archive holds.
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append(&h, *bytes).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    /// A box under a temporary root with one package whose archive is in `usb/`.
    fn setup(members: &[(&str, &[u8])]) -> (tempfile::TempDir, Firmware, String) {
        let dir = tempfile::tempdir().unwrap();
        let archive = tar_gz(members);
        let usb = dir.path().join("usb");
        std::fs::create_dir_all(&usb).unwrap();
        std::fs::write(usb.join("dahdi-fw-x-1.tar.gz"), &archive).unwrap();
        let sum: String = Sha256::digest(&archive)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let catalog = Catalog::parse(
            &format!(
                "[[package]]\nname = \"x\"\nversion = \"1\"\ndescription = \"x\"\n\
                 archive = \"dahdi-fw-x-1.tar.gz\"\nurl = \"/nowhere/dahdi-fw-x-1.tar.gz\"\n\
                 sha256 = \"{sum}\"\nfiles = [\"dahdi-fw-x.bin\"]\n"
            ),
            "test",
        )
        .unwrap();
        let root = Root::new(dir.path().join("root"));
        let fw = Firmware::with_catalog(&root, &dir.path().join("state"), catalog);
        let source = usb.join("dahdi-fw-x-1.tar.gz").display().to_string();
        (dir, fw, source)
    }

    fn install(fw: &Firmware, source: &str) -> Result<ChangeReport, FirmwareError> {
        let req = InstallRequest {
            source: source.to_owned(),
            ..InstallRequest::default()
        };
        fw.install(&req, &mut |_| {})
    }

    #[test]
    fn a_file_identical_before_the_install_stays_after_the_remove() {
        let (dir, fw, source) = setup(&[("dahdi-fw-x.bin", b"firmware")]);
        let target = dir.path().join("root/lib/firmware/dahdi-fw-x.bin");
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, b"firmware").unwrap();
        let report = install(&fw, &source).unwrap();
        assert!(report.changes[0].written.is_empty(), "{report:?}");
        let removed = fw.remove("x", false).unwrap();
        assert!(removed.changes[0].removed.is_empty(), "{removed:?}");
        assert_eq!(std::fs::read(&target).unwrap(), b"firmware");
    }

    #[test]
    fn the_firmware_directory_an_install_made_goes_with_the_last_package() {
        let (dir, fw, source) = setup(&[("./dahdi-fw-x.bin", b"firmware")]);
        let lib = dir.path().join("root/lib/firmware");
        install(&fw, &source).unwrap();
        assert_eq!(
            std::fs::read(lib.join("dahdi-fw-x.bin")).unwrap(),
            b"firmware"
        );
        fw.remove("x", false).unwrap();
        assert!(!lib.exists());
        assert!(fw.list().unwrap().packages[0].installed.is_none());
    }

    #[test]
    fn an_archive_leaving_its_directory_or_lacking_the_file_writes_nothing() {
        for members in [
            &[("../dahdi-fw-x.bin", b"evil".as_slice())][..],
            &[("dahdi-fw-y.bin", b"other".as_slice())][..],
        ] {
            let (dir, fw, source) = setup(members);
            let err = install(&fw, &source).unwrap_err().to_string();
            assert!(err.contains("nothing was installed"), "{err}");
            let lib = dir.path().join("root/lib/firmware");
            let left: Vec<_> = std::fs::read_dir(&lib)
                .map(|d| d.flatten().map(|e| e.file_name()).collect())
                .unwrap_or_default();
            assert!(left.is_empty(), "{left:?}");
            assert!(!dir.path().join("root/dahdi-fw-x.bin").exists());
        }
    }
}
