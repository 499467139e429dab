//! Files that hold a device password: read only when nobody but the owner
//! may read them, so a secret left world-readable is noticed, not used.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The permission bits of group and others.
const GROUP_OTHER: u32 = 0o077;

/// Reads `path` whole, refusing it when its mode gives group or others any
/// access; the error then says the mode and the fix, `chmod 600 FILE`.
///
/// The mode is checked on the opened file, so it is the file that is read.
pub fn read_secret_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mode = file.metadata()?.permissions().mode();
    if mode & GROUP_OTHER != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "mode {:04o} lets group or others read it; run `chmod 600 {}`",
                mode & 0o7777,
                path.display()
            ),
        ));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn file_with_mode(dir: &Path, mode: u32) -> std::path::PathBuf {
        let path = dir.join(format!("fos-{mode:o}.pw"));
        fs::write(&path, "s3cret\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn an_owner_only_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o600, 0o400] {
            let path = file_with_mode(dir.path(), mode);
            assert_eq!(read_secret_file(&path).unwrap(), "s3cret\n");
        }
    }

    #[test]
    fn a_file_open_to_group_or_others_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o644, 0o640, 0o604] {
            let path = file_with_mode(dir.path(), mode);
            let err = read_secret_file(&path).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
            let message = err.to_string();
            assert!(message.contains(&format!("mode 0{mode:o}")), "{message}");
            assert!(
                message.contains(&format!("chmod 600 {}", path.display())),
                "{message}"
            );
            assert!(!message.contains("s3cret"), "{message}");
        }
    }

    #[test]
    fn a_missing_file_is_the_open_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_secret_file(&dir.path().join("none")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
