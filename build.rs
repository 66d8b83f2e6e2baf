//! Compiles `proto/*.proto` with protox (pure Rust: a fresh machine has no `protoc`).
//!
//! All OFD protos share the package `ofd`, so prost writes one `ofd.rs` that `src/ofd/proto.rs`
//! includes. Generated types derive `serde::Serialize` for the `kassa ofd` JSON output.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let mut files: Vec<std::path::PathBuf> = match std::fs::read_dir("proto") {
        Ok(dir) => dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "proto"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    if files.is_empty() {
        return Ok(());
    }
    let fds = protox::compile(&files, ["proto"])?;
    prost_build::Config::new()
        .type_attribute(".", "#[derive(serde::Serialize)]")
        // OrgRegInfo field 6 is a string in 2.0.3 but a varint in 2.0.2 replies: hand-written decoder.
        .extern_path(".ofd.OrgRegInfo", "crate::ofd::org::OrgRegInfo")
        // The QR "bytes" are the check URL as text: show them as a string in JSON.
        .field_attribute(
            ".ofd.TicketResponse.qr_code",
            "#[serde(serialize_with = \"crate::ofd::proto::serialize_opt_bytes_as_text\")]",
        )
        .compile_fds(fds)?;
    Ok(())
}
