//! Compiles `proto/*.proto` with protox (pure Rust: a fresh machine has no `protoc`).
//!
//! All OFD protos share the package `ofd`, so prost writes one `ofd.rs` that `src/country/kz/ofd/proto.rs`
//! includes. Generated types derive `serde::Serialize` for the `kassa ofd` JSON output; enum fields
//! (plain `i32` in prost) are shown by name through `ofd_enum_names.rs`, generated here too.
use std::fmt::Write as _;

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

    let mut config = prost_build::Config::new();
    config
        .type_attribute(".", "#[derive(serde::Serialize)]")
        // OrgRegInfo field 6 is a string in 2.0.3 but a varint in 2.0.2 replies: hand-written decoder.
        .extern_path(".ofd.OrgRegInfo", "crate::country::kz::ofd::org::OrgRegInfo")
        // The QR "bytes" are the check URL as text: show them as a string in JSON.
        .field_attribute(
            ".ofd.TicketResponse.qr_code",
            "#[serde(serialize_with = \"crate::country::kz::ofd::proto::serialize_opt_bytes_as_text\")]",
        );

    let mut impls = String::new();
    for file in &fds.file {
        let package = file.package.clone().unwrap_or_default();
        for e in &file.enum_type {
            enum_impl(&mut impls, &[], e.name.as_deref().unwrap_or_default());
        }
        for m in &file.message_type {
            walk(&mut config, &mut impls, &package, &[], m);
        }
    }
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("ofd_enum_names.rs"), impls)?;
    config.compile_fds(fds)?;
    Ok(())
}

/// Visits a message: attributes for its enum fields, impls for its nested enums, then nested messages.
fn walk(
    config: &mut prost_build::Config,
    impls: &mut String,
    package: &str,
    outer: &[String],
    m: &protox::prost_reflect::prost_types::DescriptorProto,
) {
    let name = m.name.clone().unwrap_or_default();
    let mut path = outer.to_vec();
    path.push(name);
    for f in &m.field {
        // 14 = TYPE_ENUM; label 1 optional, 2 required, 3 repeated.
        if f.r#type != Some(14) {
            continue;
        }
        let helper = match f.label {
            Some(3) => "many",
            Some(2) => "one",
            _ => "opt",
        };
        let enum_path = rust_path(f.type_name.as_deref().unwrap_or_default(), package);
        let field = format!(".{package}.{}.{}", path.join("."), f.name.as_deref().unwrap_or_default());
        let attr = format!(
            "#[serde(serialize_with = \"crate::country::kz::ofd::proto::enum_names::{helper}::<_, {enum_path}>\")]"
        );
        config.field_attribute(field, attr);
    }
    for e in &m.enum_type {
        enum_impl(impls, &path, e.name.as_deref().unwrap_or_default());
    }
    for nested in &m.nested_type {
        walk(config, impls, package, &path, nested);
    }
}

fn enum_impl(impls: &mut String, outer: &[String], name: &str) {
    let mut rust = String::from("crate::country::kz::ofd::proto::");
    for o in outer {
        rust.push_str(&snake(o));
        rust.push_str("::");
    }
    rust.push_str(name);
    let _ = writeln!(
        impls,
        "impl crate::country::kz::ofd::proto::enum_names::ProtoEnum for {rust} {{\n    \
         fn name_of(v: i32) -> Option<&'static str> {{ Self::try_from(v).ok().map(|e| e.as_str_name()) }}\n}}"
    );
}

/// `.ofd.TicketRequest.Item.ItemTypeEnum` → `crate::country::kz::ofd::proto::ticket_request::item::ItemTypeEnum`.
fn rust_path(proto_name: &str, package: &str) -> String {
    let prefix = format!(".{package}.");
    let rest = proto_name.strip_prefix(&prefix).unwrap_or(proto_name);
    let parts: Vec<&str> = rest.split('.').collect();
    let mut out = String::from("crate::country::kz::ofd::proto::");
    for (i, p) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            out.push_str(p);
        } else {
            out.push_str(&snake(p));
            out.push_str("::");
        }
    }
    out
}

/// Message name to prost's module name (`ZXReport` → `zx_report`, `TicketRequest` → `ticket_request`).
fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev_lower = chars[i - 1].is_ascii_lowercase();
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev_lower || (next_lower && chars[i - 1].is_ascii_uppercase()) {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}
