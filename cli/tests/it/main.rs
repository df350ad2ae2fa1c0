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

/// A trust file `trust.json` in `dir` naming `regulator` (hex) and the component under
/// test, as `prepaid apply` and `prepaid serve` take it.
fn trust_file(dir: &Path, regulator: &str) -> PathBuf {
    let component = std::fs::read(prepaid_host::component_path()).expect("the component under test");
    let path = dir.join("trust.json");
    std::fs::write(
        &path,
        serde_json::json!({
            "regulators": [{"key": regulator, "name": "regulator", "region": "test"}],
            "components": [prepaid_host::outcome::sha256_hex(&component)],
        })
        .to_string(),
    )
    .unwrap();
    path
}

/// Runs `prepaid` with `input` on stdin.
fn prepaid_with_input(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_prepaid"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running prepaid");
    // A command that refuses its arguments exits without reading its input.
    match child.stdin.take().unwrap().write_all(input.as_bytes()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => panic!("writing to prepaid: {error}"),
        _ => {}
    }
    child.wait_with_output().unwrap()
}

/// Output as text, lossily.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
