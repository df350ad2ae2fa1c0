//! What the tests need from Debian's packages, installed with apt-get when the machine lacks
//! it: PostgreSQL's server and openssl ([`crate::postgres`]), and the browser the page tests
//! drive ([`browser`]).

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Installs Debian's `packages` (the machine must let us: root).
pub fn install(packages: &[&str]) -> Result<()> {
    let named = packages.join(" ");
    if !is_root() {
        bail!("{named} is not installed and installing it needs root: run `apt-get install {named}` as root");
    }
    eprintln!("installing {named} from Debian's packages");
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
    };
    if install().is_ok_and(|status| status.success()) {
        return Ok(());
    }
    let update = Command::new("apt-get")
        .arg("update")
        .status()
        .context("running apt-get update")?;
    if !update.success() {
        bail!("apt-get update failed ({update})");
    }
    let status = install().context("running apt-get")?;
    if !status.success() {
        bail!("apt-get install {named} failed ({status})");
    }
    Ok(())
}

/// Whether this process runs as root (which may install packages, and runs PostgreSQL as
/// its `postgres` user).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Debian's Chromium and its WebDriver server, for tests/it/browser.rs, with a font that has
/// Chinese characters (the pages' labels and screenshots): installed if missing, and named
/// to the tests by `PREPAID_CHROMIUM` and `PREPAID_CHROMEDRIVER`.
pub fn browser() -> Result<()> {
    const CHROMIUM: &str = "/usr/bin/chromium";
    const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
    const CJK_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";
    if ![CHROMIUM, CHROMEDRIVER, CJK_FONT]
        .iter()
        .all(|path| Path::new(path).exists())
    {
        install(&["chromium", "chromium-driver", "fonts-wqy-microhei"])?;
    }
    std::env::set_var("PREPAID_CHROMIUM", CHROMIUM);
    std::env::set_var("PREPAID_CHROMEDRIVER", CHROMEDRIVER);
    Ok(())
}
