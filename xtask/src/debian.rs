//! The pinned Debian Rust toolchain for machines whose rustup has no wasm32 target
//! (DESIGN.md §8): fetched with `apt-get download` from Debian's archive, which apt checks
//! against Debian's signed package lists, and unpacked with `dpkg -x` into a folder of the
//! project that git ignores. Nothing is installed system-wide.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The rustc version of the pinned packages.
pub const VERSION: &str = "1.96.0";

/// The packages, at exact versions: the compiler, its std for the host (proc macros), the
/// std sources (`-Zbuild-std` builds core and alloc for wasm32 from them) and LLVM.
const PACKAGES: &[&str] = &[
    "rustc-web=1.96.0+dfsg1-1~deb12u2",
    "libstd-rust-web-1.96=1.96.0+dfsg1-1~deb12u2",
    "libstd-rust-web-dev=1.96.0+dfsg1-1~deb12u2",
    "rust-web-src=1.96.0+dfsg1-1~deb12u2",
    "libllvm22=1:22.1.8-1~deb12u1",
];

/// Makes sure the toolchain is unpacked under `dir`; returns the `rustc` wrapper to use as
/// `RUSTC` and the toolchain's sysroot.
pub fn ensure(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let unpacked = dir.join(format!("rust-{VERSION}"));
    let sysroot = unpacked.join("usr");
    let wrapper = dir.join(format!("rustc-{VERSION}"));
    if !sysroot.join("bin/rustc").exists() {
        fetch(dir, &unpacked)?;
    }
    let libs = [sysroot.join("lib"), sysroot.join("lib/x86_64-linux-gnu")];
    let script = format!(
        "#!/bin/sh\n# Runs Debian's rustc {VERSION} from {}.\nLD_LIBRARY_PATH={}:{} exec {} \"$@\"\n",
        unpacked.display(),
        libs[0].display(),
        libs[1].display(),
        sysroot.join("bin/rustc").display()
    );
    std::fs::write(&wrapper, script).with_context(|| format!("writing {}", wrapper.display()))?;
    make_executable(&wrapper)?;
    Ok((wrapper, sysroot))
}

fn fetch(dir: &Path, unpacked: &Path) -> Result<()> {
    let debs = dir.join("debs");
    std::fs::create_dir_all(&debs).with_context(|| format!("creating {}", debs.display()))?;
    eprintln!("fetching Debian's rustc {VERSION} into {} (once)", dir.display());
    if !apt_download(&debs)? {
        // The pinned versions come from bookworm-security; a machine whose package lists
        // predate them needs fresh lists first.
        run(Command::new("apt-get").args(["update", "-q"]))?;
        if !apt_download(&debs)? {
            bail!("apt-get could not download {}", PACKAGES.join(" "));
        }
    }
    let partial = dir.join("unpacking");
    if partial.exists() {
        std::fs::remove_dir_all(&partial).with_context(|| format!("removing {}", partial.display()))?;
    }
    for entry in std::fs::read_dir(&debs)? {
        let deb = entry?.path();
        if deb.extension().is_some_and(|ext| ext == "deb") {
            run(Command::new("dpkg").arg("-x").arg(&deb).arg(&partial))?;
        }
    }
    // Renamed into place only when complete, so an interrupted fetch is redone.
    std::fs::rename(&partial, unpacked).with_context(|| format!("moving the toolchain to {}", unpacked.display()))?;
    Ok(())
}

fn apt_download(debs: &Path) -> Result<bool> {
    let status = Command::new("apt-get")
        .arg("download")
        .args(PACKAGES)
        .current_dir(debs)
        .status()
        .context("running apt-get (Debian's package tool is needed to fetch the wasm toolchain)")?;
    Ok(status.success())
}

fn run(command: &mut Command) -> Result<()> {
    let status = command.status().with_context(|| format!("running {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(())
}

fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", path.display()))
}
