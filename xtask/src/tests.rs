//! Running the workspace's tests: cargo builds every test binary once (`cargo test
//! --no-run`), then each runs here, one after another, as `cargo test` would run it (from its
//! package's folder, with the filter and options given), and last the doc tests.
//!
//! Run outside cargo, the binaries do not hold cargo's lock on the target directory, so a
//! test may run cargo on that directory itself: the author's guide builds its copy of the
//! repository into this one's build directory, reusing every dependency already compiled
//! instead of building wasmtime again. Every binary runs even when one fails, so that one
//! run shows every failure (a rule change moves traces in several places at once).
//!
//! The tests and the `prepaid` processes they start share one artifact cache
//! (`PREPAID_CACHE`, in the target directory): the component is compiled once per code hash
//! for the whole run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// One test binary cargo built.
pub struct TestBinary {
    /// Its package's folder and target: `tests it`, `host lib`.
    name: String,
    executable: PathBuf,
    /// Its package's folder, where `cargo test` runs it.
    dir: PathBuf,
}

/// The tests' build (`cargo test --no-run`), under way beside other work.
pub struct Build {
    cargo: crate::Background,
    /// What cargo prints on stdout: a JSON message a line.
    messages: std::thread::JoinHandle<std::io::Result<Vec<u8>>>,
}

impl Build {
    /// Starts building every test binary of the workspace at `root`.
    pub fn start(root: &Path) -> Result<Build> {
        let mut command = crate::cargo_command(
            root,
            [
                "test",
                "--workspace",
                "--all-targets",
                "--locked",
                "--no-run",
                "--message-format=json-render-diagnostics",
            ],
        );
        command.stdout(Stdio::piped());
        let mut cargo = crate::Background::spawn(command, "building the tests")?;
        let mut stdout = cargo.child.stdout.take().context("cargo's stdout")?;
        let messages = std::thread::spawn(move || {
            let mut messages = Vec::new();
            std::io::Read::read_to_end(&mut stdout, &mut messages).map(|_| messages)
        });
        Ok(Build { cargo, messages })
    }

    /// Waits for the build, and names the test binaries it made, in cargo's order.
    pub fn finish(self, root: &Path) -> Result<Vec<TestBinary>> {
        self.cargo.wait()?;
        let messages = self
            .messages
            .join()
            .map_err(|_| anyhow::anyhow!("reading cargo's messages panicked"))?
            .context("reading cargo's messages")?;
        let mut binaries = Vec::new();
        for line in messages.split(|byte| *byte == b'\n') {
            let Ok(message) = serde_json::from_slice::<serde_json::Value>(line) else {
                continue;
            };
            let is_test = message["reason"] == "compiler-artifact" && message["profile"]["test"] == true;
            let (Some(executable), true) = (message["executable"].as_str(), is_test) else {
                continue;
            };
            let manifest = Path::new(
                message["manifest_path"]
                    .as_str()
                    .context("an artifact without its manifest")?,
            );
            let dir = manifest.parent().context("a manifest without a folder")?;
            let target = &message["target"];
            let kind = target["kind"][0].as_str().unwrap_or_default();
            let name = if kind == "test" {
                target["name"].as_str()
            } else {
                Some(kind)
            };
            binaries.push(TestBinary {
                name: format!(
                    "{} {}",
                    dir.strip_prefix(root).unwrap_or(dir).display(),
                    name.unwrap_or_default()
                ),
                executable: executable.into(),
                dir: dir.to_path_buf(),
            });
        }
        if binaries.is_empty() {
            bail!("cargo built no test binary");
        }
        Ok(binaries)
    }
}

/// Runs `binaries`, then the doc tests, of the workspace at `root` (target directory
/// `target`) on `component`, passing `args` to each test binary.
pub fn run(root: &Path, binaries: &[TestBinary], component: &Path, target: &Path, args: &[String]) -> Result<()> {
    let environment = [
        ("PREPAID_COMPONENT", component.to_path_buf()),
        ("PREPAID_GUESTS", root.join(crate::GUESTS)),
        ("PREPAID_CACHE", target.join("artifact-cache")),
    ];
    let mut failed = Vec::new();
    for binary in binaries {
        eprintln!("     Running {} ({})", binary.name, binary.executable.display());
        let status = Command::new(&binary.executable)
            .args(args)
            .current_dir(&binary.dir)
            .envs(environment.iter().map(|(name, value)| (name, value)))
            .status()
            .with_context(|| format!("running {}", binary.executable.display()))?;
        if !status.success() {
            failed.push(format!("{} ({status})", binary.name));
        }
    }
    let doc = crate::cargo_command(root, ["test", "--workspace", "--doc", "--locked"])
        .envs(environment.iter().map(|(name, value)| (name, value)))
        .status()
        .context("running cargo test --doc")?;
    if !doc.success() {
        failed.push(format!("the doc tests ({doc})"));
    }
    if !failed.is_empty() {
        bail!(
            "{} of {} test runs failed: {}",
            failed.len(),
            binaries.len() + 1,
            failed.join(", ")
        );
    }
    Ok(())
}
