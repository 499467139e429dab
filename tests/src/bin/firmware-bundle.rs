//! Writes stand-in firmware archives and the catalog naming them.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use telbox_tests::firmware_bundle::{write_catalog, TestPackage};

/// Build stand-in firmware packages for the demo and manual tests.
///
/// The vendor's archives cannot be downloaded here. For each PACKAGE of
/// telbox's built-in catalog this writes DIR/<its archive name>, a .tar.gz
/// holding the package's dahdi-fw-*.bin files with made-up content, and
/// ROOT/etc/telbox/firmware-catalog.toml, a catalog with the packages' real
/// names, versions and files but the stand-in archives' own size and
/// SHA-256, which sysconfd reads instead of the built-in one. Then
/// `appliance firmware install DIR` installs them.
#[derive(Parser)]
#[command(name = "firmware-bundle", version, verbatim_doc_comment)]
struct Args {
    /// Where to write the archives (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The root prefix sysconfd runs over, for the catalog.
    #[arg(long, value_name = "ROOT")]
    root: PathBuf,
    /// Each file's size in bytes.
    #[arg(long, default_value_t = 100_000)]
    size: usize,
    /// Packages of the built-in catalog (`digium-tc400m`…).
    #[arg(required = true, value_name = "PACKAGE")]
    packages: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let catalog = hwmgr::firmware::Catalog::builtin();
    let mut made = Vec::new();
    for name in &args.packages {
        let real = catalog
            .get(name)
            .with_context(|| format!("no package {name} in the built-in catalog"))?;
        let files: Vec<&str> = real.files.iter().map(String::as_str).collect();
        let mut pkg = TestPackage::new(&real.name, &real.version, &files, args.size);
        pkg.archive = real.archive.clone();
        let path = pkg.write_to(&args.out);
        println!("{} {} -> {}", pkg.name, pkg.version, path.display());
        made.push(pkg);
    }
    let url = format!("file://{}", std::path::absolute(&args.out)?.display());
    write_catalog(&args.root, &made.iter().collect::<Vec<_>>(), &url);
    Ok(())
}
