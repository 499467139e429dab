//! Man pages and shell completions made from a binary's own clap definition,
//! so they cannot drift from it. `make docs-gen` runs each binary with
//! [`ENV`] set to a directory; the binary writes them there and exits.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Command, CommandFactory};
use clap_complete::Shell;

/// The variable naming the directory to write into.
pub const ENV: &str = "TELBOX_GEN_DOCS";

/// The shells completions are made for, and where under the output directory
/// each one's file goes (the layout of `/usr/share`).
const SHELLS: [(Shell, &str); 2] = [
    (Shell::Bash, "bash-completion/completions"),
    (Shell::Zsh, "zsh/site-functions"),
];

/// When [`ENV`] is set, writes the documentation of `C` (man pages in
/// `section`) under that directory and exits; else returns. Call it first
/// thing in `main`.
pub fn write_if_asked<C: CommandFactory>(section: &str) {
    let Some(dir) = std::env::var_os(ENV) else {
        return;
    };
    let cmd = C::command();
    let name = cmd.get_name().to_owned();
    match write(cmd, section, Path::new(&dir)) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("{name}: writing its documentation into {dir:?}: {e}");
            std::process::exit(1);
        }
    }
}

/// Writes `DIR/man/manSECTION/NAME[-SUB…].SECTION`, one page for the command
/// and one for each subcommand, and the completions; returns the files.
pub fn write(cmd: Command, section: &str, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let name = cmd.get_name().to_owned();
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let man_dir = dir.join("man").join(format!("man{section}"));
    fs::create_dir_all(&man_dir)?;
    let mut files = Vec::new();
    man_pages(&cmd, section, &man_dir, &mut files)?;
    for (shell, place) in SHELLS {
        let shell_dir = dir.join(place);
        fs::create_dir_all(&shell_dir)?;
        let path = shell_dir.join(completion_file(shell, &name));
        let mut out = io::BufWriter::new(fs::File::create(&path)?);
        clap_complete::generate(shell, &mut cmd, &name, &mut out);
        out.flush()?;
        files.push(path);
    }
    Ok(files)
}

fn man_pages(cmd: &Command, section: &str, dir: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    let page = clap_mangen::Man::new(cmd.clone()).section(section);
    files.push(page.generate_to(dir)?);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        man_pages(sub, section, dir, files)?;
    }
    Ok(())
}

/// The name each shell looks a command's completion up by.
fn completion_file(shell: Shell, name: &str) -> String {
    match shell {
        Shell::Zsh => format!("_{name}"),
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command with a nested subcommand, like `appliance config validate`.
    fn tool() -> Command {
        Command::new("tool").about("A tool.").subcommand(
            Command::new("config")
                .about("Its configuration.")
                .subcommand(Command::new("validate").about("Check it.")),
        )
    }

    #[test]
    fn a_page_for_every_subcommand_and_both_completions() {
        let dir = tempfile::tempdir().unwrap();
        let files = write(tool(), "8", dir.path()).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|f| f.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "man/man8/tool.8",
                "man/man8/tool-config.8",
                "man/man8/tool-config-validate.8",
                "bash-completion/completions/tool",
                "zsh/site-functions/_tool",
            ]
        );
        let page = fs::read_to_string(dir.path().join("man/man8/tool-config-validate.8")).unwrap();
        assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{page}");
        assert!(page.contains(".TH tool-config-validate 8"), "{page}");
        assert!(page.contains("Check it."), "{page}");
        let bash = fs::read_to_string(dir.path().join(&names[3])).unwrap();
        assert!(bash.contains("complete -F _tool"), "{bash}");
        let zsh = fs::read_to_string(dir.path().join(&names[4])).unwrap();
        assert!(zsh.starts_with("#compdef tool"), "{zsh}");
    }
}
