//! Reading one-value sysfs attribute files.

use std::io;
use std::path::Path;

/// The attribute's text without the trailing newline; `None` if the file is
/// absent or unreadable (kernels differ in which attributes exist, and some
/// return ENODEV on read, like `basechan` of a span with no channels).
pub fn attr(dir: &Path, name: &str) -> Option<String> {
    read(&dir.join(name)).ok()
}

/// Like [`attr`] but an empty value counts as absent.
pub fn attr_nonempty(dir: &Path, name: &str) -> Option<String> {
    attr(dir, name).filter(|v| !v.is_empty())
}

/// A decimal attribute.
pub fn attr_u32(dir: &Path, name: &str) -> Option<u32> {
    attr(dir, name)?.parse().ok()
}

/// The first attribute that exists among `names` (for renamed attributes).
pub fn attr_any(dir: &Path, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| attr(dir, n))
}

fn read(path: &Path) -> io::Result<String> {
    let text = std::fs::read_to_string(path)?;
    Ok(text.trim_end_matches(['\n', '\0']).to_owned())
}

/// The entries of a directory, sorted by name; an absent directory is empty.
pub fn entries(dir: &Path) -> io::Result<Vec<std::path::PathBuf>> {
    let read = match std::fs::read_dir(dir) {
        Ok(read) => read,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut paths = read
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<Vec<_>>>()?;
    paths.sort();
    Ok(paths)
}

/// The last component of a path as text.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
