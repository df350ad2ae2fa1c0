//! The `prepaid` command's tests, one module per concern, in one binary:
//! `cargo test -p prepaid-cli --test it guides::` runs one module.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod cli;
mod guides;
mod history;
mod serve;

/// The workspace's root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the CLI lives in the workspace")
        .to_path_buf()
}

/// Runs the `prepaid` under test with `args` and waits for it.
fn prepaid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prepaid"))
        .args(args)
        .output()
        .expect("running prepaid")
}

/// Output as text, lossily.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
