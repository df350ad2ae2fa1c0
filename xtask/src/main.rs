//! The project's build tool:
//! - `cargo xtask contract` builds the contract into a WebAssembly component
//!   reproducibly, fetching the wasm toolchain first where the machine lacks one;
//! - `cargo xtask check-hash FILE` rebuilds the contract from source in a clean directory
//!   and confirms it has FILE's code hash (how an auditor ties deployed code to source);
//! - `cargo xtask guests` builds the misbehaving test components of `tests/guest`;
//! - `cargo xtask demo` builds the contract and runs `prepaid demo`;
//! - `cargo xtask test` builds everything, checks that a second clean build gives the same
//!   bytes, starts a throwaway PostgreSQL ([`postgres`]), installs the browser the page tests
//!   drive when missing ([`packages::browser`]) and runs every test of the workspace
//!   ([`tests`]);
//! - `cargo xtask loadtest` measures two `prepaid serve` processes over one PostgreSQL
//!   against one over SQLite ([`loadtest`]).
//!
//! Toolchain: rustup's `wasm32-unknown-unknown` target where it is installed; otherwise the
//! Debian-packaged rustc pinned in [`debian`] (DESIGN.md §8), unpacked into the git-ignored
//! `.toolchain/`, with `core` and `alloc` built from its sources (`-Zbuild-std`). Paths are
//! remapped and the profile has one codegen unit and no debug info, so two builds from the
//! same source and toolchain give the same bytes.

mod component;
mod debian;
mod loadtest;
mod packages;
mod postgres;
mod tests;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::Parser;

use component::{build_component, Choice, Crate, CONTRACT, CONTRACT_VARIANT, GUEST_FEATURES};

/// The project's build tool.
#[derive(Parser)]
enum Xtask {
    /// Builds the contract component and prints its code hash (sha256, hex).
    Contract {
        /// Where to write the component.
        #[arg(long, default_value = COMPONENT)]
        out: PathBuf,
        /// Cargo's target directory for the wasm build (default: `contract-build` in cargo's
        /// target directory; kept apart from the host's, whose compiler may differ).
        #[arg(long)]
        target_dir: Option<PathBuf>,
    },
    /// Rebuilds the contract from this source in a clean directory and checks that the
    /// result has the expected code hash: that of a component file, or a hash as printed by
    /// `prepaid verify` (64 hex digits).
    CheckHash {
        /// A component file, or a code hash.
        component: String,
    },
    /// Builds the misbehaving test components into target/guests/.
    Guests,
    /// Builds the component and runs the demo on the embedded SQLite journal.
    Demo {
        /// Arguments for `prepaid demo`.
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Builds the components, checks the build is reproducible, starts a throwaway
    /// PostgreSQL and runs all tests.
    Test {
        /// Arguments for every test binary (a filter, `--skip NAME`, `--exact`).
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Starts a throwaway PostgreSQL, runs COMMAND with `PREPAID_TEST_POSTGRES` and
    /// `PREPAID_TEST_POSTGRES_TLS` set as `test` sets them, and stops the server: one test
    /// that needs PostgreSQL, without the whole suite
    /// (`cargo xtask with-postgres cargo test -p prepaid-cli --test it guides::readme`).
    WithPostgres {
        /// The command and its arguments.
        #[arg(trailing_var_arg = true, required = true)]
        command: Vec<String>,
    },
    /// Load test on loopback: two `prepaid serve` processes over one PostgreSQL, then one
    /// over SQLite, driven by `prepaid loadtest` with the same mix.
    Loadtest {
        /// Wallets (six events each).
        #[arg(long, default_value_t = 500)]
        wallets: usize,
        /// Clients sending at once.
        #[arg(long, default_value_t = 16)]
        clients: usize,
    },
}

/// Where the contract component goes.
const COMPONENT: &str = "target/contract/prepaid_contract.wasm";
/// Where the test guests go, one `<feature>.wasm` each.
const GUESTS: &str = "target/guests";
/// Cargo's target directory for wasm builds, inside `CARGO_TARGET_DIR` when that is set.
const WASM_TARGET_DIR: &str = "contract-build";

fn main() -> Result<()> {
    let root = workspace_root();
    let component = root.join(COMPONENT);
    // A relative one is relative to where the caller is, as cargo reads it.
    let target_dir = cargo_target_dir(&root).join(WASM_TARGET_DIR);
    match Xtask::parse() {
        Xtask::Contract { out, target_dir: dir } => {
            let dir = dir.map_or(target_dir, |dir| root.join(dir));
            let code_hash = build_component(&root, &CONTRACT, Choice::Default, &dir, &root.join(out))?;
            println!("{code_hash}");
            Ok(())
        }
        Xtask::CheckHash { component } => {
            let is_hash = component.len() == 64 && component.bytes().all(|b| b.is_ascii_hexdigit());
            let code_hash = if is_hash {
                component.to_ascii_lowercase()
            } else {
                let bytes = std::fs::read(&component).with_context(|| format!("reading {component}"))?;
                component::sha256_hex(&bytes)
            };
            check_hash(&root, &code_hash, Choice::Pinned, "repro-check")
        }
        Xtask::Guests => build_guests(&root, &target_dir),
        Xtask::Demo { args } => {
            // The CLI builds while the contract does: the contract's build runs mostly one
            // crate at a time (core, then the rules under LTO), which leaves a core idle.
            // `--workspace --examples` (there are none) resolves features as the suite's
            // build does, dev-dependencies included, so `cargo xtask test` after the demo
            // builds only the tests instead of every dependency again.
            let cli = Background::spawn(
                cargo_command(
                    &root,
                    [
                        "build",
                        "--quiet",
                        "--locked",
                        "--workspace",
                        "--bin",
                        "prepaid",
                        "--examples",
                    ],
                ),
                "building prepaid",
            )?;
            build_component(&root, &CONTRACT, Choice::Default, &target_dir, &component)?;
            cli.wait()?;
            let prepaid = cargo_target_dir(&root).join("debug/prepaid");
            let status = Command::new(&prepaid)
                .arg("demo")
                .args(&args)
                .env("PREPAID_COMPONENT", &component)
                .status()
                .with_context(|| format!("running {}", prepaid.display()))?;
            if !status.success() {
                bail!("prepaid demo failed ({status})");
            }
            Ok(())
        }
        Xtask::Test { args } => {
            // The tests build while the components do (see Demo).
            let tests = tests::Build::start(&root)?;
            let code_hash = build_component(&root, &CONTRACT, Choice::Default, &target_dir, &component)?;
            // The same toolchain as the build just made: the check is of reproducibility,
            // and the run's one clean build of the contract. It runs beside the rest (a
            // core's work, a crate at a time) and must pass with it.
            let reproducible = {
                let root = root.clone();
                // A folder of its own: the auditor's guide runs `check-hash` at the same time.
                std::thread::spawn(move || check_hash(&root, &code_hash, Choice::Default, "repro-check-suite"))
            };
            build_guests(&root, &target_dir)?;
            let _postgres = start_postgres()?;
            packages::browser()?;
            let binaries = tests.finish(&root)?;
            let tested = tests::run(&root, &binaries, &component, &cargo_target_dir(&root), &args);
            let reproducible = reproducible
                .join()
                .map_err(|_| anyhow::anyhow!("the reproducibility check panicked"))?;
            match (tested, reproducible) {
                (Ok(()), result) | (result, Ok(())) => result,
                (Err(tests), Err(build)) => Err(tests.context(format!("and the build is not reproducible: {build:#}"))),
            }
        }
        Xtask::WithPostgres { command } => {
            let _postgres = start_postgres()?;
            let status = Command::new(&command[0])
                .args(&command[1..])
                .status()
                .with_context(|| format!("running {}", command[0]))?;
            if !status.success() {
                bail!("{} failed ({status})", command.join(" "));
            }
            Ok(())
        }
        Xtask::Loadtest { wallets, clients } => {
            build_component(&root, &CONTRACT, Choice::Default, &target_dir, &component)?;
            run_cargo(
                &root,
                [
                    "build",
                    "--release",
                    "--locked",
                    "--package",
                    "prepaid-cli",
                    "--bin",
                    "prepaid",
                ],
            )?;
            loadtest::run(&root, &component, wallets, clients)
        }
    }
}

/// Starts the tests' PostgreSQL and tells this process's children where it is; the server
/// stops when the returned value drops.
fn start_postgres() -> Result<postgres::Postgres> {
    let postgres = postgres::Postgres::start()?;
    std::env::set_var("PREPAID_TEST_POSTGRES", &postgres.url);
    std::env::set_var("PREPAID_TEST_POSTGRES_TLS", &postgres.tls);
    Ok(postgres)
}

/// Cargo's target directory for this workspace: `CARGO_TARGET_DIR` (a relative one is
/// relative to where the caller is, as cargo reads it), else `target/`.
fn cargo_target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || root.join("target"),
        |dir| std::path::absolute(&dir).unwrap_or_else(|_| dir.into()),
    )
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// `cargo ARGS --manifest-path <this workspace>`, run from the caller's directory.
fn cargo_command<const N: usize>(root: &Path, args: [&str; N]) -> Command {
    let (subcommand, rest) = args.split_first().expect("a cargo subcommand");
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .arg(subcommand)
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .args(rest);
    command
}

/// Runs `cargo ARGS` on this workspace, and fails if it does.
fn run_cargo<const N: usize>(root: &Path, args: [&str; N]) -> Result<()> {
    let status = cargo_command(root, args).status().context("running cargo")?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// A command running beside this one; killed if it is dropped before [`Background::wait`].
struct Background {
    child: std::process::Child,
    what: &'static str,
}

impl Background {
    fn spawn(mut command: Command, what: &'static str) -> Result<Background> {
        let child = command
            .spawn()
            .with_context(|| format!("{what}: starting {command:?}"))?;
        Ok(Background { child, what })
    }

    /// Waits for it, and fails if it did.
    fn wait(mut self) -> Result<()> {
        let status = self.child.wait().with_context(|| self.what)?;
        if !status.success() {
            bail!("{} failed ({status})", self.what);
        }
        Ok(())
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Builds the contract again from scratch in a fresh target directory (`folder` in
/// target/) with the toolchain `choice` names and insists on `code_hash`: the same source
/// and toolchain must give the same bytes.
fn check_hash(root: &Path, code_hash: &str, choice: Choice, folder: &str) -> Result<()> {
    let scratch = root.join("target").join(folder);
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch).with_context(|| format!("removing {}", scratch.display()))?;
    }
    let rebuilt_path = scratch.join("prepaid_contract.wasm");
    let rebuilt = build_component(root, &CONTRACT, choice, &scratch.join("build"), &rebuilt_path)?;
    std::fs::remove_dir_all(scratch.join("build")).with_context(|| format!("removing {}", scratch.display()))?;
    let toolchain = component::describe_choice(choice);
    if rebuilt != code_hash {
        let source = Command::new("git")
            .args(["describe", "--always", "--dirty", "--abbrev=12"])
            .current_dir(root)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map_or_else(
                || "this source (not a git checkout)".to_string(),
                |output| format!("commit {}", String::from_utf8_lossy(&output.stdout).trim()),
            );
        bail!(
            "MISMATCH: a clean build of {source} with {toolchain} gives code hash {rebuilt}, not \
             {code_hash}.\n\
             The same source and toolchain always give the same bytes, so the code that ran was \
             built from other source (or with another toolchain or build settings). Next steps: ask the platform which commit it deployed, check \
             it out (`git checkout COMMIT`, with no local changes: `-dirty` above means there are \
             some) and run `cargo xtask check-hash {code_hash}` again. The component rebuilt here \
             is kept at {} to compare with the one the platform ran.",
            rebuilt_path.display()
        );
    }
    std::fs::remove_dir_all(&scratch).with_context(|| format!("removing {}", scratch.display()))?;
    println!("match: a clean build of this source with {toolchain} gives code hash {code_hash}");
    Ok(())
}

/// Builds each test guest into `target/guests/<feature>.wasm`, and the contract with one
/// rule changed into `target/guests/paid-rate-sessions.wasm`.
fn build_guests(root: &Path, target_dir: &Path) -> Result<()> {
    build_component(
        root,
        &CONTRACT_VARIANT,
        Choice::Default,
        target_dir,
        &root.join(GUESTS).join("paid-rate-sessions.wasm"),
    )?;
    for feature in GUEST_FEATURES {
        let guest = Crate {
            package: "prepaid-test-guest",
            artifact: "prepaid_test_guest",
            features: Some(feature),
        };
        build_component(
            root,
            &guest,
            Choice::Default,
            target_dir,
            &root.join(GUESTS).join(format!("{feature}.wasm")),
        )?;
    }
    Ok(())
}
