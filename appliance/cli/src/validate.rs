//! `appliance config validate FILE...`

use std::process::ExitCode;

use appliance::config::{self, Located};

#[derive(clap::Args)]
pub struct Args {
    /// Configuration files to check.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// Print the problems as a JSON array of {file, line, column, path, message, help}.
    #[arg(long)]
    json: bool,
}

enum Outcome {
    Valid,
    Invalid(Vec<Located>),
    Unreadable(String),
}

fn check_file(file: &str) -> Outcome {
    match std::fs::read_to_string(file) {
        Err(e) => Outcome::Unreadable(format!("{file}: error: cannot read: {e}")),
        Ok(text) => match config::load(&text, file) {
            Ok(_) => Outcome::Valid,
            Err(report) => Outcome::Invalid(report.problems),
        },
    }
}

pub fn run(args: &Args) -> ExitCode {
    let mut problems = Vec::new();
    let mut unreadable = false;
    for file in &args.files {
        match check_file(file) {
            Outcome::Valid => {
                if !args.json {
                    eprintln!("{file}: valid");
                }
            }
            Outcome::Invalid(p) => {
                if !args.json {
                    print!(
                        "{}",
                        config::Report {
                            problems: p.clone(),
                            too_large: None,
                        }
                        .render()
                    );
                }
                problems.extend(p);
            }
            Outcome::Unreadable(msg) => {
                eprintln!("{msg}");
                unreadable = true;
            }
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&problems).expect("problems serialize")
        );
    }
    if unreadable {
        ExitCode::from(2)
    } else if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        if !args.json {
            eprintln!("{} problem(s) found", problems.len());
        }
        ExitCode::from(1)
    }
}
