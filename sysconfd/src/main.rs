fn main() {
    eprintln!("sysconfd: not yet implemented");
    std::process::exit(1);
}
