//! A minimal HTTPS Kubernetes API server on 127.0.0.1, for the tests that
//! run the real `kubectl` with credctl as its exec credential plugin, and a
//! kubeconfig writer for it. kubectl sends an exec plugin's bearer token
//! over TLS only, so the stub speaks TLS (rustls, ring) with a CA and a
//! server certificate made at start by rcgen; one thread per connection.
//!
//! Always:
//! - it listens on 127.0.0.1 only, on a free port, and stops when dropped;
//! - its certificate is for `127.0.0.1` (and `localhost`), issued by a CA
//!   made for this server alone; the kubeconfig trusts exactly that CA;
//! - every request must carry `Authorization: Bearer T` with `check(T)`
//!   true, else it gets `401` and a Kubernetes `Status` body;
//! - every request is recorded (method, path, token, whether it passed, the
//!   status sent) in arrival order;
//! - it answers `/version`, `/api`, `/apis`, `/api/v1` (legacy discovery:
//!   configmaps and namespaces) and `GET /api/v1/namespaces/default/configmaps`
//!   (one ConfigMap, [`CONFIGMAP`]); anything else is a 404 `Status`;
//! - `/version` says v1.32. Where `kubectl` is the Google Cloud SDK's
//!   dispatcher, it probes `/version?timeout=5s` first (user agent
//!   `kubectl-dispatcher/…`, with the plugin's token) and, as the version
//!   matches its built-in kubectl, carries on in the same process, so the
//!   plugin's token is cached once for both.

#![allow(dead_code)]

use std::io::BufReader;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};

use super::http1;

/// How long a connection may sit idle.
const IDLE: Duration = Duration::from_secs(60);

/// The name of the one ConfigMap in `default`.
pub const CONFIGMAP: &str = "credctl-test";

/// The exec credential API version kubectl documents as current.
pub const EXEC_V1: &str = "client.authentication.k8s.io/v1";
/// The older one, still accepted by kubectl 1.32.
pub const EXEC_V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

/// One request as the stub saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// The bearer token sent, if any.
    pub token: Option<String>,
    pub authorized: bool,
    /// The status sent back (0 if the connection broke first).
    pub status: u16,
    pub accept: Option<String>,
    pub user_agent: Option<String>,
}

struct Shared {
    check: Box<dyn Fn(&str) -> bool + Send + Sync>,
    addr: SocketAddr,
    requests: Mutex<Vec<KubeRequest>>,
    /// Connection-level failures (TLS handshakes, bad requests).
    errors: Mutex<Vec<String>>,
    stop: AtomicBool,
}

pub struct KubeApi {
    addr: SocketAddr,
    ca_pem: String,
    shared: Arc<Shared>,
}

impl KubeApi {
    /// Listens on a free port of 127.0.0.1; `check(token)` decides every
    /// request.
    pub fn start(check: impl Fn(&str) -> bool + Send + Sync + 'static) -> KubeApi {
        let pki = TestPki::new();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(pki.chain, pki.key)
            .expect("server certificate and key");
        // Go offers h2 first; this stub speaks HTTP/1.1 only.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the API stub");
        let addr = listener.local_addr().expect("API stub address");
        let shared = Arc::new(Shared {
            check: Box::new(check),
            addr,
            requests: Mutex::new(Vec::new()),
            errors: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let accepting = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accepting.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = accepting.clone();
                let config = config.clone();
                std::thread::spawn(move || serve(stream, config, &shared));
            }
        });
        KubeApi {
            addr,
            ca_pem: pki.ca_pem,
            shared,
        }
    }

    /// `https://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The test CA, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<KubeRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The bearer tokens seen, one per request that carried one, in order.
    pub fn tokens(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter_map(|r| r.token)
            .collect()
    }

    /// How many requests were answered 401.
    pub fn unauthorized(&self) -> usize {
        self.requests().iter().filter(|r| r.status == 401).count()
    }

    /// Connection-level failures so far (for example a refused handshake).
    pub fn errors(&self) -> Vec<String> {
        self.shared
            .errors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Writes `DIR/kubeconfig` for this server: one cluster trusting the test
    /// CA, one user authenticated by `plugin`, one current context with
    /// namespace `default`. Returns its path.
    pub fn write_kubeconfig(&self, dir: &Path, plugin: &ExecPlugin) -> PathBuf {
        let ca_data = base64::engine::general_purpose::STANDARD.encode(self.ca_pem.as_bytes());
        let env: Vec<Value> = plugin
            .env
            .iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect();
        let mut exec = json!({
            "apiVersion": plugin.api_version,
            "command": plugin.command,
            "args": plugin.args,
            "env": env,
            "provideClusterInfo": false,
        });
        if let Some(mode) = &plugin.interactive_mode {
            exec["interactiveMode"] = json!(mode);
        }
        // JSON is YAML: kubectl reads it as is.
        let config = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{
                "name": "test",
                "cluster": {
                    "server": self.url(),
                    "certificate-authority-data": ca_data,
                },
            }],
            "users": [{ "name": "test", "user": { "exec": exec } }],
            "contexts": [{
                "name": "test",
                "context": { "cluster": "test", "user": "test", "namespace": "default" },
            }],
            "current-context": "test",
            "preferences": {},
        });
        let path = dir.join("kubeconfig");
        let text = serde_json::to_string_pretty(&config).expect("kubeconfig JSON");
        std::fs::write(&path, text).expect("write the kubeconfig");
        path
    }
}

impl Drop for KubeApi {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// A kubeconfig `users[].user.exec` block.
#[derive(Clone, Debug)]
pub struct ExecPlugin {
    pub api_version: String,
    pub command: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// `interactiveMode`; required by v1, optional before.
    pub interactive_mode: Option<String>,
}

impl ExecPlugin {
    /// `apiVersion: client.authentication.k8s.io/v1`, `interactiveMode: Never`.
    pub fn v1(command: &str, args: &[&str]) -> ExecPlugin {
        ExecPlugin {
            api_version: EXEC_V1.to_string(),
            command: command.to_string(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            interactive_mode: Some("Never".to_string()),
        }
    }

    /// The same, as `client.authentication.k8s.io/v1beta1`.
    pub fn v1beta1(command: &str, args: &[&str]) -> ExecPlugin {
        ExecPlugin {
            api_version: EXEC_V1BETA1.to_string(),
            ..ExecPlugin::v1(command, args)
        }
    }

    /// Adds an `env` entry.
    pub fn env(mut self, name: &str, value: &str) -> ExecPlugin {
        self.env.push((name.to_string(), value.to_string()));
        self
    }
}

/// A CA made for one server, and that server's certificate and key.
struct TestPki {
    ca_pem: String,
    /// Server certificate, then the CA.
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl TestPki {
    fn new() -> TestPki {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::default();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca.distinguished_name
            .push(DnType::CommonName, "credctl test CA");
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");

        let server_key = KeyPair::generate().expect("server key");
        let mut server =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .expect("server names");
        server
            .distinguished_name
            .push(DnType::CommonName, "credctl test API server");
        server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let issuer = Issuer::from_params(&ca, &ca_key);
        let server_cert = server
            .signed_by(&server_key, &issuer)
            .expect("server certificate");

        TestPki {
            ca_pem: ca_cert.pem(),
            chain: vec![server_cert.der().clone(), ca_cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        }
    }
}

fn note_error(shared: &Shared, error: String) {
    shared
        .errors
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(error);
}

/// Serves one TLS connection until the client closes it, an error, or
/// [`IDLE`] of silence.
fn serve(stream: TcpStream, config: Arc<rustls::ServerConfig>, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(IDLE));
    let _ = stream.set_write_timeout(Some(IDLE));
    let connection = match rustls::ServerConnection::new(config) {
        Ok(c) => c,
        Err(e) => return note_error(shared, format!("TLS setup: {e}")),
    };
    let mut tls = BufReader::new(rustls::StreamOwned::new(connection, stream));
    loop {
        let head = match http1::read_head(&mut tls) {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(e) => {
                // Go clients drop idle connections without close_notify.
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::UnexpectedEof
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                ) {
                    note_error(shared, format!("reading a request: {e}"));
                }
                return;
            }
        };
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        // GETs carry no body; read any away to stay in step.
        let drained = std::io::copy(&mut head.body(&mut tls), &mut std::io::sink()).is_ok();
        let token = head.bearer().map(str::to_string);
        let authorized = token.as_deref().is_some_and(|t| (shared.check)(t));
        let (status, body) = if authorized {
            answer(&head.method, head.path(), shared.addr)
        } else {
            (401, status_json(401, "Unauthorized", "Unauthorized"))
        };
        let headers = [("Content-Type".to_string(), "application/json".to_string())];
        let close = !drained || head.wants_close();
        let body = body.to_string();
        let sent = http1::write_response(tls.get_mut(), status, &headers, body.as_bytes(), close);
        shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(KubeRequest {
                method: head.method.clone(),
                path: head.path().to_string(),
                query: head.query().to_string(),
                token,
                authorized,
                status: if sent.is_ok() { status } else { 0 },
                accept: head.header("accept").map(str::to_string),
                user_agent: head.header("user-agent").map(str::to_string),
            });
        if sent.is_err() || close {
            tls.get_mut().conn.send_close_notify();
            let _ = std::io::Write::flush(tls.get_mut());
            return;
        }
    }
}

/// A Kubernetes `Status` object.
fn status_json(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
}

/// The answer to an authorized request.
fn answer(method: &str, path: &str, addr: SocketAddr) -> (u16, Value) {
    if method != "GET" {
        return (
            405,
            status_json(405, "MethodNotAllowed", "the stub only reads"),
        );
    }
    let body = match path {
        "/version" => json!({
            "major": "1",
            "minor": "32",
            "gitVersion": "v1.32.0",
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "go1.23.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }),
        "/api" => json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                { "clientCIDR": "0.0.0.0/0", "serverAddress": addr.to_string() },
            ],
        }),
        "/apis" => json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": [] }),
        "/api/v1" => json!({
            "kind": "APIResourceList",
            "groupVersion": "v1",
            "resources": [
                {
                    "name": "configmaps",
                    "singularName": "configmap",
                    "namespaced": true,
                    "kind": "ConfigMap",
                    "verbs": ["get", "list"],
                    "shortNames": ["cm"],
                },
                {
                    "name": "namespaces",
                    "singularName": "namespace",
                    "namespaced": false,
                    "kind": "Namespace",
                    "verbs": ["get", "list"],
                    "shortNames": ["ns"],
                },
            ],
        }),
        "/api/v1/namespaces/default/configmaps" => json!({
            "kind": "ConfigMapList",
            "apiVersion": "v1",
            "metadata": { "resourceVersion": "1" },
            "items": [{
                "metadata": {
                    "name": CONFIGMAP,
                    "namespace": "default",
                    "uid": "00000000-0000-0000-0000-000000000001",
                    "resourceVersion": "1",
                    "creationTimestamp": "2026-06-01T12:00:00Z",
                },
                "data": { "greeting": "hello" },
            }],
        }),
        _ => {
            return (
                404,
                status_json(404, "NotFound", "the stub does not serve this"),
            );
        }
    };
    (200, body)
}
