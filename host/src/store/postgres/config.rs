//! How to reach a PostgreSQL store: its URL, kept out of messages, and TLS that trusts only
//! the authorities the platform names.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context as _};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::Result;

/// Where a PostgreSQL store is and how to reach it.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    url: String,
    tls_ca: Option<PathBuf>,
}

impl PostgresConfig {
    /// The database at `url` (`postgres://user[:password]@host:port/db`), over a plain
    /// connection: for a database on the same machine or a trusted network.
    pub fn new(url: impl Into<String>) -> PostgresConfig {
        PostgresConfig {
            url: url.into(),
            tls_ca: None,
        }
    }

    /// Connects over TLS only, checking that the server's certificate was signed by one of
    /// the authorities in the PEM file `ca` and names the host the URL names.
    pub fn with_tls_ca(mut self, ca: impl Into<PathBuf>) -> PostgresConfig {
        self.tls_ca = Some(ca.into());
        self
    }

    /// The URL, password included: for connecting, never for messages.
    pub(super) fn url(&self) -> &str {
        &self.url
    }

    /// The authorities TLS trusts, when the connection must be TLS.
    pub(super) fn tls_ca(&self) -> Option<&Path> {
        self.tls_ca.as_deref()
    }

    /// Where the database is, for messages: host, port and database, never the user or
    /// the password.
    pub(super) fn place(&self) -> String {
        match self.url.parse::<postgres::Config>() {
            Ok(config) => {
                // As the client does: hosts without a port of their own take the first
                // port given, or 5432.
                let first_port = config.get_ports().first().copied().unwrap_or(5432);
                let hosts: Vec<String> = config
                    .get_hosts()
                    .iter()
                    .zip(config.get_ports().iter().copied().chain(std::iter::repeat(first_port)))
                    .map(|(host, port)| match host {
                        postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
                        postgres::config::Host::Unix(path) => path.display().to_string(),
                    })
                    .collect();
                format!("{}/{}", hosts.join(","), config.get_dbname().unwrap_or_default())
            }
            Err(_) => "an unreadable URL".into(),
        }
    }
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password: show where, not who.
        f.debug_struct("PostgresConfig")
            .field("place", &self.place())
            .field("tls_ca", &self.tls_ca)
            .finish()
    }
}

/// A TLS connector that trusts the certificate authorities in the PEM file `ca`.
pub(super) fn tls_connector(ca: &Path) -> Result<MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(ca)
        .with_context(|| format!("reading the certificate authorities in {}", ca.display()))?;
    for certificate in certificates {
        let certificate = certificate.with_context(|| format!("reading {}", ca.display()))?;
        roots
            .add(certificate)
            .with_context(|| format!("a certificate in {} is not a usable authority", ca.display()))?;
    }
    if roots.is_empty() {
        return Err(anyhow!("{} holds no certificate", ca.display()).into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("configuring TLS")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
