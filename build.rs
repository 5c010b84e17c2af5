//! Generates the gRPC code for every `.proto` file in `proto/`.
//!
//! protox parses the files in pure Rust, so the build needs no system `protoc`.
//! The Terraform protocol packages get default method stubs, so RPCs the
//! provider does not implement return Unimplemented, which Terraform treats as
//! "not supported" for the optional ones. The go-plugin services are
//! implemented in full and keep tonic's plain traits.

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = PathBuf::from("proto");
    println!("cargo:rerun-if-changed={}", proto_dir.display());

    let mut files: Vec<PathBuf> = std::fs::read_dir(&proto_dir)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    files.sort();
    let (terraform, others): (Vec<PathBuf>, Vec<PathBuf>) = files
        .into_iter()
        .partition(|path| is_terraform_protocol(path));

    compile(&terraform, &proto_dir, true)?;
    compile(&others, &proto_dir, false)?;
    Ok(())
}

fn is_terraform_protocol(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with("tfplugin"))
}

fn compile(
    files: &[PathBuf],
    proto_dir: &Path,
    default_stubs: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    if files.is_empty() {
        return Ok(());
    }
    let descriptors = protox::compile(files, [proto_dir])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .generate_default_stubs(default_stubs)
        .compile_fds(descriptors)?;
    Ok(())
}
