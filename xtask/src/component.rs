//! Building a crate of this workspace into a WebAssembly component.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::debian;

/// A crate to build for wasm32.
pub struct Crate<'a> {
    /// Its package name.
    pub package: &'a str,
    /// Its library's file stem (`prepaid_contract`).
    pub artifact: &'a str,
    /// The cargo feature to build it with.
    pub features: Option<&'a str>,
}

/// The contract.
pub const CONTRACT: Crate<'static> = Crate {
    package: "prepaid-contract",
    artifact: "prepaid_contract",
    features: None,
};

/// The contract with one rule changed on purpose (its `paid-rate-sessions` feature): the
/// component the migration plan's test moves wallets onto.
pub const CONTRACT_VARIANT: Crate<'static> = Crate {
    package: "prepaid-contract",
    artifact: "prepaid_contract",
    features: Some("paid-rate-sessions"),
};

/// The guest's stack, in bytes.
const GUEST_STACK: usize = 128 << 10;
/// The guest's initial linear memory, in bytes: stack, data and the heap of an ordinary event.
const GUEST_INITIAL_MEMORY: usize = 1 << 20;

/// The ways the test guest misbehaves, one component each.
pub const GUEST_FEATURES: [&str; 8] = [
    "panic",
    "spin",
    "memory",
    "recursion",
    "big-output",
    "garbage",
    "opaque-state",
    "takeover",
];

/// The SHA-256 of `bytes`, hex: a component's code hash.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// How rustc for wasm32 is reached on this machine.
enum Toolchain {
    /// rustup's own target: plain `cargo build --target wasm32-unknown-unknown`.
    Rustup,
    /// The Debian rustc: a wrapper script used as `RUSTC`, with the std sources it ships.
    Debian { rustc: PathBuf, sysroot: PathBuf },
}

/// Which toolchain a build uses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The pinned one, whose builds the golden traces and published code hashes come from,
    /// unless `PREPAID_TOOLCHAIN=rustup` asks for the machine's own wasm32 target (a
    /// different compiler, so different bytes and fuel).
    Default,
    /// The pinned one, whatever the environment says: what `check-hash` must use.
    Pinned,
}

fn select_toolchain(root: &Path, choice: Choice) -> Result<Toolchain> {
    let asked = std::env::var("PREPAID_TOOLCHAIN").unwrap_or_default();
    match (choice, asked.as_str()) {
        (Choice::Default, "rustup") => Ok(Toolchain::Rustup),
        (Choice::Pinned, _) | (Choice::Default, "" | "debian") => {
            let (rustc, sysroot) = debian::ensure(&root.join(".toolchain"))?;
            Ok(Toolchain::Debian { rustc, sysroot })
        }
        (Choice::Default, other) => bail!("PREPAID_TOOLCHAIN is `debian`, `rustup` or unset, not `{other}`"),
    }
}

/// The toolchain `choice` stands for on this machine, in words.
pub fn describe_choice(choice: Choice) -> String {
    match (choice, std::env::var("PREPAID_TOOLCHAIN").as_deref()) {
        (Choice::Default, Ok("rustup")) => "rustup's wasm32-unknown-unknown target".to_string(),
        _ => format!("the pinned toolchain (Debian's rustc {})", debian::VERSION),
    }
}

/// What `toolchain` is, in words.
fn describe(toolchain: &Toolchain) -> String {
    match toolchain {
        Toolchain::Rustup => "rustup's wasm32-unknown-unknown target".to_string(),
        Toolchain::Debian { .. } => format!("Debian's rustc {}", debian::VERSION),
    }
}

/// Builds `krate` into a component at `out` and returns its code hash.
pub fn build_component(
    root: &Path,
    krate: &Crate<'_>,
    choice: Choice,
    target_dir: &Path,
    out: &Path,
) -> Result<String> {
    let started = Instant::now();
    let toolchain = select_toolchain(root, choice)?;
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"));
    let mut rustflags = vec![
        format!("--remap-path-prefix={}=/prepaid", root.display()),
        format!("--remap-path-prefix={}=/cargo", cargo_home.display()),
        // A 128 KiB stack instead of rustc's 1 MiB default keeps everything an event
        // touches in the first pages of memory, which the host keeps resident between
        // instances; the rules recurse only as deep as their JSON.
        format!("-Clink-arg=-zstack-size={GUEST_STACK}"),
        // Memory the instance starts with, so an ordinary event's heap fits without a
        // `memory.grow`: growing changes page protections, which costs the host a TLB
        // flush on every event.
        format!("-Clink-arg=--initial-memory={GUEST_INITIAL_MEMORY}"),
    ];
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(root).args([
        "rustc",
        "--package",
        krate.package,
        "--lib",
        "--crate-type",
        "cdylib",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "contract",
        "--locked",
    ]);
    if let Some(features) = krate.features {
        cargo.args(["--features", features]);
    }
    cargo.env("CARGO_TARGET_DIR", target_dir);
    if let Toolchain::Debian { rustc, sysroot } = &toolchain {
        rustflags.push(format!("--remap-path-prefix={}=/rustc", sysroot.display()));
        cargo
            .arg("-Zbuild-std=core,alloc")
            .env("RUSTC", rustc)
            .env("RUSTC_BOOTSTRAP", "1")
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER",
                rustup_lld().context("the Debian rustc links with rustup's rust-lld")?,
            );
    }
    // Only the flags and profile below: a caller's RUSTFLAGS or profile overrides would
    // change the bytes.
    cargo
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags.join("\u{1f}"))
        .env_remove("RUSTFLAGS");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CARGO_PROFILE_") {
            cargo.env_remove(name);
        }
    }
    let status = cargo.status().context("running cargo")?;
    if !status.success() {
        bail!("building {} for wasm32 failed ({status})", krate.package);
    }
    let module_path = target_dir.join(format!("wasm32-unknown-unknown/contract/{}.wasm", krate.artifact));
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
    // Written beside and renamed into place, so that a test or a server reading the
    // component while it is rebuilt sees the old bytes or the new, never half of either.
    let dir = out.parent().unwrap_or(Path::new("."));
    let mut staged = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("writing into {}", dir.display()))?;
    std::io::Write::write_all(&mut staged, &component).with_context(|| format!("writing {}", out.display()))?;
    staged
        .persist(out)
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "built {} ({} bytes) in {:.1}s with {}",
        out.display(),
        component.len(),
        started.elapsed().as_secs_f64(),
        describe(&toolchain)
    );
    Ok(sha256_hex(&component))
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
