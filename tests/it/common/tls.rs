//! A throwaway certificate authority, made at test time, for servers that the
//! tests run over TLS on loopback (e.g. [`super::idp::Idp::start_tls`]).
//!
//! [`TestCa::new`] generates (with `rcgen`) a self-signed CA and a server
//! certificate signed by it, and writes them as PEM into a temporary directory
//! that the `TestCa` owns:
//!
//! - `ca.pem`: the CA certificate, the one thing a client must trust;
//! - `server.pem`: the server certificate alone (the CA signs it directly, so
//!   there is no intermediate to send);
//! - `server.key`: the server's private key (PKCS#8).
//!
//! What always holds:
//! - The server certificate has the subject alternative names DNS `localhost`,
//!   DNS [`HOSTS_NAME`], IP `127.0.0.1` and IP `::1`, and nothing else; it
//!   verifies against `ca.pem` for exactly those names.
//! - Every `TestCa` has fresh keys and its own subject name, and is unrelated
//!   to every other one: to test "untrusted certificate", trust a second
//!   `TestCa::new()` (a client then fails with rustls' `UnknownIssuer`, as
//!   with a real foreign CA; two CAs of one name would give `BadSignature`).
//! - The CA's private key exists only in memory while `new` runs; it is never
//!   written anywhere. Nothing is written outside the temporary directory,
//!   which is removed when the `TestCa` is dropped, so keep the `TestCa` alive
//!   while a server may still read the files.
//! - Validity is rcgen's default (1975 to 4096): no clock in a test matters.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tempfile::TempDir;

/// A name no resolver knows, for tests that put it in an /etc/hosts of
/// their own (`.test` is reserved for testing, RFC 6761).
pub const HOSTS_NAME: &str = "idp.credctl.test";

/// The names the server certificate is valid for.
pub const SERVER_NAMES: [&str; 4] = ["localhost", HOSTS_NAME, "127.0.0.1", "::1"];

/// A CA and one server certificate it signed, as files in a temporary
/// directory. See the module documentation.
pub struct TestCa {
    dir: TempDir,
    ca_pem: String,
}

impl TestCa {
    /// Generates a new CA (ECDSA P-256) and a server certificate for
    /// [`SERVER_NAMES`], and writes `ca.pem`, `server.pem` and `server.key`.
    /// Each call makes a new CA, unrelated to any other.
    pub fn new() -> TestCa {
        TestCa::for_names(&SERVER_NAMES)
    }

    /// [`TestCa::new`], with a server certificate for `names` only.
    pub fn for_names(names: &[&str]) -> TestCa {
        let dir = tempfile::tempdir().expect("temporary directory for the test CA");
        // The directory's random name makes the CA's name unique.
        let unique = dir
            .path()
            .file_name()
            .expect("temporary directory name")
            .to_string_lossy()
            .into_owned();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("credctl test CA {unique}"));
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().expect("generate the CA key");
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign the CA");
        let ca = Issuer::new(ca_params, ca_key);

        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("server certificate parameters");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("generate the server key");
        let cert = params
            .signed_by(&key, &ca)
            .expect("sign the server certificate");

        let test_ca = TestCa {
            dir,
            ca_pem: ca_cert.pem(),
        };
        fs::write(test_ca.ca_pem_path(), &test_ca.ca_pem).expect("write ca.pem");
        fs::write(test_ca.cert_path(), cert.pem()).expect("write server.pem");
        fs::write(test_ca.key_path(), key.serialize_pem()).expect("write server.key");
        test_ca
    }

    /// The temporary directory holding the three files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `ca.pem`: the CA certificate.
    pub fn ca_pem_path(&self) -> PathBuf {
        self.dir().join("ca.pem")
    }

    /// `server.pem`: the server certificate.
    pub fn cert_path(&self) -> PathBuf {
        self.dir().join("server.pem")
    }

    /// `server.key`: the server's private key.
    pub fn key_path(&self) -> PathBuf {
        self.dir().join("server.key")
    }

    /// The CA certificate, PEM (the contents of `ca.pem`).
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    /// The CA certificate for `reqwest::ClientBuilder::add_root_certificate`.
    pub fn reqwest_cert(&self) -> reqwest::Certificate {
        reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).expect("parse the test CA")
    }

    /// A blocking client that trusts this CA and no other root: no proxy,
    /// redirects not followed, every request bounded by 30 s.
    pub fn client(&self) -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .tls_built_in_root_certs(false)
            .add_root_certificate(self.reqwest_cert())
            .build()
            .expect("build a client trusting the test CA")
    }
}
