//! Compiles `proto/*.proto` with protox (pure Rust: a fresh machine has no `protoc`).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir("proto")?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "proto"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Ok(());
    }
    let fds = protox::compile(&files, ["proto"])?;
    prost_build::Config::new().compile_fds(fds)?;
    Ok(())
}
