//! A smart-HTTP git server on 127.0.0.1 for the tests that run the real
//! `git` against credctl as a credential helper. Each request runs the real
//! `git http-backend` as a CGI over bare repositories in a temporary
//! directory; one thread per connection, keep-alive, no async.
//!
//! Always:
//! - it listens on 127.0.0.1 only, on a free port, and stops when dropped;
//! - every request must carry HTTP Basic credentials that the caller's check
//!   accepts, or it gets `401` with `WWW-Authenticate: Basic realm="test"`
//!   and git is never run for it;
//! - every request is recorded (method, path, user, whether it passed, the
//!   status sent, whether the body was chunked), in arrival order;
//! - request bodies are streamed into the CGI, de-chunked when git sends
//!   `Transfer-Encoding: chunked` (large pushes);
//! - the server's git never reads the real configuration or home directory.
//!
//! Also here: [`TestEnv::git`], a `git` client cut off from the real
//! configuration, and [`run`], which bounds the wait for any command.

#![allow(dead_code)]

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::TestEnv;
use super::http1::{self, Head};

/// Decides whether a user and password may use the server.
pub type Check = dyn Fn(&str, &str) -> bool + Send + Sync;

/// How long a connection may sit idle, and the longest a command run
/// through [`run`] may take.
pub const WAIT: Duration = Duration::from_secs(60);

/// The server's realm, as git shows it to credential helpers (`wwwauth[]`).
pub const REALM: &str = "test";

/// One request as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// The Basic user name, whether or not the password passed.
    pub user: Option<String>,
    pub authorized: bool,
    /// The status sent back (0 if the connection broke first).
    pub status: u16,
    /// Whether the body came with `Transfer-Encoding: chunked`.
    pub chunked: bool,
}

struct Shared {
    check: Box<Check>,
    root: PathBuf,
    home: PathBuf,
    requests: Mutex<Vec<GitRequest>>,
    /// What `git http-backend` wrote on stderr, for failing tests to show.
    backend_stderr: Mutex<String>,
    stop: AtomicBool,
}

pub struct GitServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _dir: TempDir,
}

impl GitServer {
    /// Listens on a free port of 127.0.0.1; `check(user, password)` decides
    /// every request.
    pub fn start(check: impl Fn(&str, &str) -> bool + Send + Sync + 'static) -> GitServer {
        let dir = tempfile::tempdir().expect("git server dir");
        let root = dir.path().join("repos");
        let home = dir.path().join("home");
        std::fs::create_dir(&root).expect("repos dir");
        std::fs::create_dir(&home).expect("home dir");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the git server");
        let addr = listener.local_addr().expect("git server address");
        let shared = Arc::new(Shared {
            check: Box::new(check),
            root,
            home,
            requests: Mutex::new(Vec::new()),
            backend_stderr: Mutex::new(String::new()),
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
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        GitServer {
            addr,
            shared,
            _dir: dir,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`: git's credential `host` field, port included.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// `http://127.0.0.1:PORT/NAME.git`
    pub fn repo_url(&self, name: &str) -> String {
        format!("{}/{name}.git", self.url())
    }

    /// Where the bare repository `NAME.git` lives.
    pub fn repo_path(&self, name: &str) -> PathBuf {
        self.shared.root.join(format!("{name}.git"))
    }

    /// Creates the bare repository `NAME.git`, push enabled, with one commit
    /// (a `README`) on `main`; returns that commit.
    pub fn create_repo(&self, name: &str) -> String {
        let repo = self.repo_path(name);
        let git = |args: &[&str], stdin: &str| -> String {
            let mut cmd = self.server_git();
            cmd.arg("--git-dir").arg(&repo).args(args);
            run_ok(cmd, stdin)
        };
        let mut init = self.server_git();
        init.args(["init", "--quiet", "--bare", "--initial-branch=main"])
            .arg(&repo);
        run_ok(init, "");
        git(&["config", "http.receivepack", "true"], "");
        let blob = git(&["hash-object", "-w", "--stdin"], "a test repository\n");
        let tree = git(&["mktree"], &format!("100644 blob {blob}\tREADME\n"));
        let commit = git(&["commit-tree", &tree, "-m", "initial"], "");
        git(&["update-ref", "refs/heads/main", &commit], "");
        commit
    }

    /// The commit `refs/heads/BRANCH` of `NAME.git` points at, if any.
    pub fn head(&self, name: &str, branch: &str) -> Option<String> {
        let mut cmd = self.server_git();
        cmd.arg("--git-dir")
            .arg(self.repo_path(name))
            .args(["rev-parse", "--verify", "--quiet"])
            .arg(format!("refs/heads/{branch}"));
        let out = run(cmd, "");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<GitRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many requests were answered 401.
    pub fn unauthorized(&self) -> usize {
        self.requests().iter().filter(|r| r.status == 401).count()
    }

    /// Forgets the requests recorded so far.
    pub fn clear_requests(&self) {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// What `git http-backend` wrote on stderr so far.
    pub fn backend_stderr(&self) -> String {
        self.shared
            .backend_stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `git` as the server runs it: no real configuration, a private home.
    fn server_git(&self) -> Command {
        let mut cmd = Command::new("git");
        hermetic_server_env(&mut cmd, &self.shared.home);
        cmd
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

fn hermetic_server_env(cmd: &mut Command, home: &Path) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_AUTHOR_NAME", "Test Server")
        .env("GIT_AUTHOR_EMAIL", "server@example.test")
        .env("GIT_AUTHOR_DATE", "2026-06-01T12:00:00Z")
        .env("GIT_COMMITTER_NAME", "Test Server")
        .env("GIT_COMMITTER_EMAIL", "server@example.test")
        .env("GIT_COMMITTER_DATE", "2026-06-01T12:00:00Z");
}

fn record(shared: &Shared, request: GitRequest) {
    shared
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(request);
}

/// Serves one connection until the client closes it, an error, or [`WAIT`]
/// of silence.
fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(WAIT));
    let _ = stream.set_write_timeout(Some(WAIT));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Ok(Some(head)) = http1::read_head(&mut reader) {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let credentials = head.basic_auth();
        let authorized = credentials
            .as_ref()
            .is_some_and(|(user, password)| (shared.check)(user, password));
        let mut request = GitRequest {
            method: head.method.clone(),
            path: head.path().to_string(),
            query: head.query().to_string(),
            user: credentials.as_ref().map(|(user, _)| user.clone()),
            authorized,
            status: 0,
            chunked: head.is_chunked(),
        };
        let keep_going = if authorized {
            run_backend(&head, &mut reader, &mut writer, shared, &mut request)
        } else {
            refuse(&head, &mut reader, &mut writer, &mut request)
        };
        record(shared, request);
        if !keep_going || head.wants_close() {
            return;
        }
    }
}

/// Answers 401; returns whether the connection can carry another request.
fn refuse(
    head: &Head,
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
    request: &mut GitRequest,
) -> bool {
    // A client waiting for 100 Continue sends no body: answer and close.
    // Otherwise read the body away first, so the client sees the 401
    // rather than a reset.
    let close = head.expects_continue() || {
        let mut body = head.body(reader);
        std::io::copy(&mut body, &mut std::io::sink()).is_err()
    };
    let headers = [
        (
            "WWW-Authenticate".to_string(),
            format!("Basic realm=\"{REALM}\""),
        ),
        ("Content-Type".to_string(), "text/plain".to_string()),
    ];
    let sent = http1::write_response(writer, 401, &headers, b"authentication required\n", close);
    if sent.is_ok() {
        request.status = 401;
    }
    sent.is_ok() && !close
}

/// Runs `git http-backend` for an authorized request and relays its answer;
/// returns whether the connection can carry another request.
fn run_backend(
    head: &Head,
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
    shared: &Shared,
    request: &mut GitRequest,
) -> bool {
    if head.expects_continue() && http1::write_continue(writer).is_err() {
        return false;
    }
    let mut cmd = Command::new("git");
    hermetic_server_env(&mut cmd, &shared.home);
    cmd.arg("http-backend")
        .env("GIT_PROJECT_ROOT", &shared.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_HTTP_MAX_REQUEST_BUFFER", "100M")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("SERVER_SOFTWARE", "credctl-test-git-server")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("REQUEST_METHOD", &head.method)
        .env("PATH_INFO", head.path())
        .env("QUERY_STRING", head.query())
        .env("AUTH_TYPE", "Basic")
        .env("REMOTE_USER", request.user.as_deref().unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(content_type) = head.header("content-type") {
        cmd.env("CONTENT_TYPE", content_type);
    }
    // Without CONTENT_LENGTH, http-backend reads its input up to EOF: that
    // is how a chunked body, de-chunked here, reaches it.
    if !head.is_chunked()
        && let Some(length) = head.content_length()
    {
        cmd.env("CONTENT_LENGTH", length.to_string());
    }
    for (name, value) in &head.headers {
        let skip = ["authorization", "content-type", "content-length"];
        if !skip.iter().any(|s| name.eq_ignore_ascii_case(s)) {
            cmd.env(
                format!("HTTP_{}", name.to_ascii_uppercase().replace('-', "_")),
                value,
            );
        }
    }
    let Ok(mut child) = cmd.spawn() else {
        let _ = http1::write_response(writer, 500, &[], b"cannot run git http-backend\n", true);
        request.status = 500;
        return false;
    };
    let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return false;
    };
    // Feed the body and drain stderr while reading stdout, so no pipe fills.
    let (body_read, output, errors) = std::thread::scope(|scope| {
        let feeding = scope.spawn(move || {
            let mut body = head.body(reader);
            let copied = std::io::copy(&mut body, &mut stdin);
            drop(stdin);
            // If the backend stopped reading early, still consume the body
            // so the connection stays in step.
            copied.is_ok() || std::io::copy(&mut body, &mut std::io::sink()).is_ok()
        });
        let draining = scope.spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut output = Vec::new();
        let _ = stdout.read_to_end(&mut output);
        (
            feeding.join().unwrap_or(false),
            output,
            draining.join().unwrap_or_default(),
        )
    });
    let _ = child.wait();
    if !errors.is_empty() {
        shared
            .backend_stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_str(&errors);
    }
    let (status, headers, body) = parse_cgi(&output);
    let close = !body_read;
    if http1::write_response(writer, status, &headers, body, close).is_err() {
        return false;
    }
    request.status = status;
    !close
}

/// Splits CGI output into status, headers and body (RFC 3875 §6). A missing
/// header block is a 500.
fn parse_cgi(output: &[u8]) -> (u16, Vec<(String, String)>, &[u8]) {
    let end = output
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4))
        .or_else(|| {
            output
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, i + 2))
        });
    let Some((head_end, body_start)) = end else {
        return (500, Vec::new(), b"bad CGI output\n");
    };
    let mut status = 200;
    let mut headers = Vec::new();
    for line in String::from_utf8_lossy(&output[..head_end]).lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            status = value
                .split(' ')
                .next()
                .and_then(|code| code.parse().ok())
                .unwrap_or(500);
        } else {
            headers.push((name.trim().to_string(), value.to_string()));
        }
    }
    (status, headers, &output[body_start..])
}

/// Runs `cmd` in its own process group with stdin fed `stdin`, and
/// collects its output. Panics if it, or anything it started that still
/// holds its output, takes longer than [`WAIT`]; the whole group is then
/// killed.
pub fn run(mut cmd: Command, stdin: &str) -> Output {
    let shown = format!("{cmd:?}");
    cmd.process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    let deadline = Instant::now() + WAIT;
    let group = child.id();
    let kill_group = || {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{group}")])
            .stderr(Stdio::null())
            .status();
    };
    let input = stdin.as_bytes().to_vec();
    let pipes = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let (Some(mut child_in), Some(child_out), Some(child_err)) = pipes else {
        panic!("{shown}: pipes missing");
    };
    std::thread::spawn(move || {
        let _ = child_in.write_all(&input);
    });
    let collect = |mut pipe: Box<dyn Read + Send>| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = tx.send(bytes);
        });
        rx
    };
    let out = collect(Box::new(child_out));
    let err = collect(Box::new(child_err));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for a command") {
            break status;
        }
        if Instant::now() >= deadline {
            kill_group();
            let _ = child.wait();
            panic!("{shown} took longer than {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let finish = |rx: mpsc::Receiver<Vec<u8>>| {
        let left = deadline.saturating_duration_since(Instant::now());
        rx.recv_timeout(left).unwrap_or_else(|_| {
            kill_group();
            panic!("{shown}: its output stayed open longer than {WAIT:?}");
        })
    };
    let stdout = finish(out);
    let stderr = finish(err);
    Output {
        status,
        stdout,
        stderr,
    }
}

/// [`run`], which must succeed; returns its stdout, trimmed.
pub fn run_ok(cmd: Command, stdin: &str) -> String {
    let shown = format!("{cmd:?}");
    let out = run(cmd, stdin);
    assert!(
        out.status.success(),
        "{shown} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl TestEnv {
    /// The file `GIT_CONFIG_GLOBAL` names for [`TestEnv::git`].
    pub fn git_config_path(&self) -> PathBuf {
        self.root.path().join("gitconfig")
    }

    /// `git` in this environment, cut off from the real configuration
    /// (`GIT_CONFIG_GLOBAL` is [`TestEnv::git_config_path`],
    /// `GIT_CONFIG_NOSYSTEM=1`, the temporary `HOME`), never prompting
    /// (`GIT_TERMINAL_PROMPT=0`, no askpass), with a fixed identity.
    pub fn git(&self) -> Command {
        let mut cmd = self.command("git");
        cmd.env("GIT_CONFIG_GLOBAL", self.git_config_path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_AUTHOR_NAME", "Test User")
            .env("GIT_AUTHOR_EMAIL", "user@example.test")
            .env("GIT_COMMITTER_NAME", "Test User")
            .env("GIT_COMMITTER_EMAIL", "user@example.test");
        cmd
    }

    /// `git config --global KEY VALUE` into [`TestEnv::git_config_path`].
    pub fn git_config(&self, key: &str, value: &str) {
        let mut cmd = self.git();
        cmd.args(["config", "--global", key, value]);
        run_ok(cmd, "");
    }
}
