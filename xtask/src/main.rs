//! The project's build tool:
//! - `cargo xtask contract` builds the contract into a WebAssembly component
//!   reproducibly, fetching the wasm toolchain first where the machine lacks one;
//! - `cargo xtask demo` builds it and runs `prepaid demo`;
//! - `cargo xtask test` builds it, checks that a second clean build gives the same bytes,
//!   and runs every test of the workspace against it.
//!
//! Toolchain: rustup's `wasm32-unknown-unknown` target where it is installed; otherwise the
//! Debian-packaged rustc pinned in [`debian`] (DESIGN.md §8), unpacked into the git-ignored
//! `.toolchain/`, with `core` and `alloc` built from its sources (`-Zbuild-std`). Paths are
//! remapped and the profile has one codegen unit and no debug info, so two builds from the
//! same source and toolchain give the same bytes.

mod debian;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use sha2::{Digest, Sha256};

/// The project's build tool.
#[derive(Parser)]
enum Xtask {
    /// Builds the contract component and prints its code hash (sha256, hex).
    Contract {
        /// Where to write the component.
        #[arg(long, default_value = COMPONENT)]
        out: PathBuf,
        /// Cargo's target directory for the wasm build (kept apart from the host's, whose
        /// compiler may differ).
        #[arg(long, default_value = CONTRACT_TARGET_DIR)]
        target_dir: PathBuf,
    },
    /// Builds the component and runs the demo on the embedded SQLite journal.
    Demo {
        /// Arguments for `prepaid demo`.
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Builds the component, checks the build is reproducible, and runs all tests.
    Test {
        /// Arguments for `cargo test`.
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
}

/// Where the component goes.
const COMPONENT: &str = "target/contract/prepaid_contract.wasm";
/// Cargo's target directory for the wasm build.
const CONTRACT_TARGET_DIR: &str = "target/contract-build";

fn main() -> Result<()> {
    let root = workspace_root();
    let component = root.join(COMPONENT);
    match Xtask::parse() {
        Xtask::Contract { out, target_dir } => build_contract(&root, &root.join(target_dir), &root.join(out)).map(drop),
        Xtask::Demo { args } => {
            build_contract(&root, &root.join(CONTRACT_TARGET_DIR), &component)?;
            let run = [
                "run",
                "--quiet",
                "--package",
                "prepaid-host",
                "--bin",
                "prepaid",
                "--",
                "demo",
            ];
            cargo(&root, &component, run, &args)
        }
        Xtask::Test { args } => {
            let code_hash = build_contract(&root, &root.join(CONTRACT_TARGET_DIR), &component)?;
            check_reproducible(&root, &code_hash)?;
            cargo(
                &root,
                &component,
                ["test", "--workspace", "--all-targets", "--locked"],
                &args,
            )?;
            cargo(&root, &component, ["test", "--workspace", "--doc", "--locked"], &[])
        }
    }
}

/// Runs cargo with `args` then `extra`, the component under test in `PREPAID_COMPONENT`.
fn cargo<const N: usize>(root: &Path, component: &Path, args: [&str; N], extra: &[String]) -> Result<()> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(args)
        .args(extra)
        .env("PREPAID_COMPONENT", component)
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Builds the component again from scratch in a fresh target directory and insists on
/// the same code hash: the same source and toolchain must give the same bytes.
fn check_reproducible(root: &Path, code_hash: &str) -> Result<()> {
    let scratch = root.join("target/repro-check");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch).with_context(|| format!("removing {}", scratch.display()))?;
    }
    let again = build_contract(root, &scratch.join("build"), &scratch.join("prepaid_contract.wasm"))?;
    std::fs::remove_dir_all(&scratch).with_context(|| format!("removing {}", scratch.display()))?;
    if again != code_hash {
        bail!("the contract build is not reproducible: a clean rebuild gives {again}, not {code_hash}");
    }
    eprintln!("reproducible: a clean rebuild gives the same code hash {code_hash}");
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// How rustc for wasm32 is reached on this machine.
enum Toolchain {
    /// rustup's own target: plain `cargo build --target wasm32-unknown-unknown`.
    Rustup,
    /// The Debian rustc: a wrapper script used as `RUSTC`, with the std sources it ships.
    Debian { rustc: PathBuf, sysroot: PathBuf },
}

fn select_toolchain(root: &Path) -> Result<Toolchain> {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    if let Ok(output) = installed {
        if String::from_utf8_lossy(&output.stdout)
            .lines()
            .any(|line| line.trim() == "wasm32-unknown-unknown")
        {
            return Ok(Toolchain::Rustup);
        }
    }
    let (rustc, sysroot) = debian::ensure(&root.join(".toolchain"))?;
    Ok(Toolchain::Debian { rustc, sysroot })
}

/// Builds the component into `out` and returns its code hash.
fn build_contract(root: &Path, target_dir: &Path, out: &Path) -> Result<String> {
    let started = Instant::now();
    let toolchain = select_toolchain(root)?;
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"));
    let mut remaps = vec![
        format!("--remap-path-prefix={}=/prepaid", root.display()),
        format!("--remap-path-prefix={}=/cargo", cargo_home.display()),
    ];
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(root).args([
        "rustc",
        "--package",
        "prepaid-contract",
        "--lib",
        "--crate-type",
        "cdylib",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "contract",
        "--locked",
    ]);
    cargo.env("CARGO_TARGET_DIR", target_dir);
    if let Toolchain::Debian { rustc, sysroot } = &toolchain {
        remaps.push(format!("--remap-path-prefix={}=/rustc", sysroot.display()));
        cargo
            .arg("-Zbuild-std=core,alloc")
            .env("RUSTC", rustc)
            .env("RUSTC_BOOTSTRAP", "1")
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER",
                rustup_lld().context("the Debian rustc links with rustup's rust-lld")?,
            );
    }
    // Only the flags below: a caller's RUSTFLAGS would change the bytes.
    cargo
        .env("CARGO_ENCODED_RUSTFLAGS", remaps.join("\u{1f}"))
        .env_remove("RUSTFLAGS");
    let status = cargo.status().context("running cargo")?;
    if !status.success() {
        bail!("building the contract for wasm32 failed ({status})");
    }
    let module_path = target_dir.join("wasm32-unknown-unknown/contract/prepaid_contract.wasm");
    let module = std::fs::read(&module_path).with_context(|| format!("reading {}", module_path.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .context("reading the core module's WIT metadata")?
        .validate(true)
        .encode()
        .context("encoding the component")?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(out, &component).with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "built {} ({} bytes) in {:.1}s with {}",
        out.display(),
        component.len(),
        started.elapsed().as_secs_f64(),
        match toolchain {
            Toolchain::Rustup => "rustup's wasm32-unknown-unknown target".to_string(),
            Toolchain::Debian { .. } => format!("Debian's rustc {}", debian::VERSION),
        }
    );
    let code_hash = hex::encode(Sha256::digest(&component));
    println!("{code_hash}");
    Ok(code_hash)
}

/// rustup's `rust-lld`, which links wasm32 for any rustc.
fn rustup_lld() -> Result<PathBuf> {
    let output = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .context("running rustc")?;
    let sysroot = String::from_utf8(output.stdout).context("rustc's sysroot is not UTF-8")?;
    let lld = Path::new(sysroot.trim()).join("lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld");
    if !lld.exists() {
        bail!("{} is missing", lld.display());
    }
    Ok(lld)
}
