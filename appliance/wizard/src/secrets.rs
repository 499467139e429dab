//! What the wizard makes at its first start and keeps in its state
//! directory: the setup token and the self-signed certificate.
//!
//! | file | mode | what |
//! |---|---|---|
//! | `setup-token` | 0600 | the one-time token the page asks for |
//! | `key.pem` | 0600 | the certificate's private key |
//! | `cert.pem` | 0644 | the self-signed certificate |
//! | `cert-fingerprint` | 0644 | its SHA-256 fingerprint, as the console shows it |
//! | `token-attempts.json` | 0600 | recent wrong tokens by client address, kept across restarts |
//! | `pending.json` | 0600 | the setup awaiting its browser's confirm, and that browser's session |

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

pub use appliance::dbus::{
    WIZARD_FINGERPRINT_FILE as FINGERPRINT_FILE, WIZARD_TOKEN_FILE as TOKEN_FILE,
};
pub const CERT_FILE: &str = "cert.pem";
pub const KEY_FILE: &str = "key.pem";

/// Letters of a token: no 0/O, 1/I/L or U, so it reads back off a console.
const TOKEN_ALPHABET: &[u8; 32] = b"ABCDEFGHJKMNPQRSTVWXYZ0123456789";
/// Token characters (5 bits each: 100 bits), shown in groups of five.
const TOKEN_CHARS: usize = 20;

pub fn random_bytes(n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; n];
    fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf)
}

/// A fresh token such as `K7QXM-2PZRA-…`.
pub fn new_token() -> io::Result<String> {
    let bytes = random_bytes(TOKEN_CHARS)?;
    let mut out = String::new();
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        out.push(TOKEN_ALPHABET[usize::from(b & 31)] as char);
    }
    Ok(out)
}

/// A token as typed: upper case, without spaces or dashes, look-alikes read as meant.
pub fn normalize_token(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .take(64)
        .collect()
}

/// Compares in time independent of where the two differ.
pub fn same_token(typed: &str, token: &str) -> bool {
    same_secret(&normalize_token(typed), &normalize_token(token))
}

/// Whether `a` and `b` are the same, in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let mut diff = a.len() ^ b.len();
    for (x, y) in a.bytes().zip(b.bytes()) {
        diff |= usize::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

/// `n` random bytes in lower-case hex.
pub fn random_hex(n: usize) -> io::Result<String> {
    Ok(random_bytes(n)?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Writes `path` whole (a temporary file renamed over it) with `mode`.
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}

/// The token in `dir`, made on the first call.
pub fn token(dir: &Path) -> io::Result<String> {
    let path = dir.join(TOKEN_FILE);
    match fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_owned()),
        Ok(_) => make_token(&path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => make_token(&path),
        Err(e) => Err(e),
    }
}

fn make_token(path: &Path) -> io::Result<String> {
    let t = new_token()?;
    write_new(path, format!("{t}\n").as_bytes(), 0o600)?;
    Ok(t)
}

/// The certificate and key the page is served with.
pub struct Identity {
    pub certs: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// SHA-256 of the certificate, `AB:CD:…`.
    pub fingerprint: String,
}

pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The certificate in `dir`, generated (self-signed, for `names`) on the first call.
pub fn identity(dir: &Path, names: &[String]) -> anyhow::Result<Identity> {
    let (cert_path, key_path) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
    if !(cert_path.exists() && key_path.exists()) {
        let made = rcgen::generate_simple_self_signed(names.to_vec())?;
        write_new(
            &key_path,
            made.signing_key.serialize_pem().as_bytes(),
            0o600,
        )?;
        write_new(&cert_path, made.cert.pem().as_bytes(), 0o644)?;
    }
    let certs = CertificateDer::pem_file_iter(&cert_path)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(&key_path)?;
    let first = certs
        .first()
        .ok_or_else(|| anyhow::anyhow!("{} holds no certificate", cert_path.display()))?;
    let fingerprint = fingerprint(first);
    let fp_path = dir.join(FINGERPRINT_FILE);
    if fs::read_to_string(&fp_path).ok().as_deref().map(str::trim) != Some(&fingerprint) {
        write_new(&fp_path, format!("{fingerprint}\n").as_bytes(), 0o644)?;
    }
    Ok(Identity {
        certs,
        key,
        fingerprint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_and_read_back_as_typed() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_CHARS + 3, "{a}");
        assert!(same_token(&a.to_lowercase().replace('-', " "), &a));
        assert!(!same_token(&b, &a));
        assert!(!same_token("", &a));
        assert!(!same_token(&a[..a.len() - 1], &a));
    }

    #[test]
    fn the_token_and_certificate_are_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let t = token(dir.path()).unwrap();
        assert_eq!(token(dir.path()).unwrap(), t);
        let id = identity(dir.path(), &["telbox".into()]).unwrap();
        let again = identity(dir.path(), &["telbox".into()]).unwrap();
        assert_eq!(id.fingerprint, again.fingerprint);
        assert_eq!(id.fingerprint.len(), 32 * 3 - 1);
        use std::os::unix::fs::PermissionsExt;
        for (f, mode) in [(TOKEN_FILE, 0o600), (KEY_FILE, 0o600), (CERT_FILE, 0o644)] {
            let m = fs::metadata(dir.path().join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(m & 0o777, mode, "{f}");
        }
    }
}
