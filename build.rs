//! Generates the gRPC code for every `.proto` file in `proto/`.
//!
//! protox parses the files in pure Rust, so the build needs no system `protoc`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = PathBuf::from("proto");
    println!("cargo:rerun-if-changed={}", proto_dir.display());

    let mut files: Vec<PathBuf> = std::fs::read_dir(&proto_dir)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Ok(());
    }

    let descriptors = protox::compile(&files, [&proto_dir])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // RPCs the provider does not implement answer Unimplemented, which
        // Terraform treats as "not supported" for the optional ones.
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}
