//! The trust store for TLS: the system's certificates, or those of
//! `SSL_CERT_FILE` / `SSL_CERT_DIR` instead (as OpenSSL reads them), plus a
//! provider's own `ca_file`.
//!
//! What always holds: loading the store (about 2.7 ms for the 144
//! certificates of a Debian bundle) happens only when an HTTP client is
//! built, never on the fast path of `auth token`; a certificate file that
//! cannot be used is a configuration error naming the file.

use std::path::{Path, PathBuf};

use crate::http::{Cause, HttpError, TrustProblem};

/// Where trusted certificates come from.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// `$SSL_CERT_FILE`: replaces the system's store, with `cert_dir`.
    pub cert_file: Option<PathBuf>,
    /// `$SSL_CERT_DIR`: replaces the system's store, with `cert_file`.
    pub cert_dir: Option<PathBuf>,
    /// A provider's `ca_file`, trusted in addition.
    pub extra: Option<PathBuf>,
}

impl Trust {
    /// The certificates to trust, for reqwest.
    pub fn roots(&self) -> Result<Vec<reqwest::Certificate>, HttpError> {
        let loaded = if self.cert_file.is_some() || self.cert_dir.is_some() {
            rustls_native_certs::load_certs_from_paths(
                self.cert_file.as_deref(),
                self.cert_dir.as_deref(),
            )
        } else {
            rustls_native_certs::load_native_certs()
        };
        let rustls_native_certs::CertificateResult { certs, errors, .. } = loaded;
        if certs.is_empty()
            && let Some(e) = errors.into_iter().next()
        {
            return Err(HttpError::TrustStore {
                path: self.cert_file.clone().or(self.cert_dir.clone()),
                source: TrustProblem::Load(Cause::new(e)),
            });
        }
        let mut roots = Vec::with_capacity(certs.len() + 1);
        for der in certs {
            // A certificate that does not parse is skipped, as OpenSSL does.
            if let Ok(cert) = reqwest::Certificate::from_der(&der) {
                roots.push(cert);
            }
        }
        if let Some(path) = &self.extra {
            roots.extend(ca_file(path)?);
        }
        Ok(roots)
    }
}

/// The certificates of a provider's `ca_file` (PEM).
fn ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, HttpError> {
    let problem = |source| HttpError::TrustStore {
        path: Some(path.to_path_buf()),
        source,
    };
    let pem = crate::store::private::read_trusted(path)
        .map_err(|e| problem(TrustProblem::Private(Box::new(e))))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| problem(TrustProblem::Load(Cause::new(e))))?;
    if certs.is_empty() {
        return Err(problem(TrustProblem::NoCertificate));
    }
    Ok(certs)
}
