//! A throwaway PostgreSQL server for the tests and the load test: Debian's server (installed
//! with apt-get when the machine lacks it), a fresh cluster in a temporary folder (which the
//! server's own user can reach wherever the checkout is), on a free loopback port, stopped
//! and removed when dropped. It also takes TLS connections, with a certificate made for the
//! run by a throwaway certificate authority (Debian's `openssl`), so tests can check that the
//! store verifies the server it talks to.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::packages::{install, is_root};

/// A running server.
pub struct Postgres {
    pg_ctl: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    as_postgres: bool,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`: the superuser, trusted on loopback.
    pub url: String,
    /// The folder holding `ca.crt`, the authority that signed the server's certificate (for
    /// 127.0.0.1 and localhost), and `server.crt`, which no authority trusts as one.
    pub tls: PathBuf,
}

impl Postgres {
    /// Installs the server if needed, creates a fresh cluster and starts it.
    pub fn start() -> Result<Postgres> {
        let bin = match server_bin() {
            Some(bin) => bin,
            None => {
                install(&["postgresql"])?;
                server_bin().context("apt-get installed postgresql but no server binaries were found")?
            }
        };
        let dir = std::env::temp_dir().join(format!("prepaid-postgres-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        // The server refuses to run as root: run it as the `postgres` user the package made.
        let tls = dir.join("tls");
        make_certificates(&tls)?;
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir))?;
        }
        let data = dir.join("data");
        let port = free_port()?;
        let postgres = Postgres {
            pg_ctl: bin.join("pg_ctl"),
            dir: dir.clone(),
            data: data.clone(),
            as_postgres,
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            tls: tls.clone(),
        };
        run(postgres
            .command(&bin.join("initdb"))
            .args([
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data))?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 \
             -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            dir.display(),
            tls.join("server.crt").display(),
            tls.join("server.key").display()
        );
        let log = dir.join("server.log");
        run(postgres
            .command(&postgres.pg_ctl)
            .args(["start", "-w", "-D"])
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-o", &options]))
        .with_context(|| {
            format!(
                "the server's log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        })?;
        eprintln!("PostgreSQL for the tests at {}", postgres.url);
        Ok(postgres)
    }

    /// `program` run as the server's user.
    fn command(&self, program: &Path) -> Command {
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command(&self.pg_ctl)
            .args(["stop", "-m", "fast", "-D"])
            .arg(&self.data)
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest installed server's `bin` folder.
fn server_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// A certificate authority and a server certificate it signs for 127.0.0.1 and localhost,
/// valid for two days, in `dir`.
fn make_certificates(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if Command::new("openssl").arg("version").output().is_err() {
        install(&["openssl"])?;
    }
    let openssl = |args: &[&str]| run(Command::new("openssl").current_dir(dir).args(args));
    let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let authority = [
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=prepaid test authority",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ];
    openssl(&[&["req", "-x509"], &key[..], &authority[..]].concat())
        .context("making the test certificate authority (Debian's openssl package)")?;
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )?;
    openssl(
        &[
            &["req"],
            &key[..],
            &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
        ]
        .concat(),
    )?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ])?;
    // The server refuses a key others can read.
    run(Command::new("chmod").arg("600").arg(dir.join("server.key")))
}

fn run(command: &mut Command) -> Result<()> {
    let output = command.output().with_context(|| format!("running {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}
