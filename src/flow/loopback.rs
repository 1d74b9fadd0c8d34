//! The loopback HTTP listener of the browser flow (RFC 8252 §7.3). It knows
//! nothing of OAuth: it serves a one-time start URL, and hands over requests
//! to the callback path; what they mean is decided by the caller.
//!
//! What always holds:
//! - it listens on loopback only; with `localhost`, on 127.0.0.1 and ::1 at
//!   the same port, so that no other user can take the other address;
//! - on Linux, a connection from a process of another user is answered 403
//!   and ignored (the owner of the peer socket is read from `/proc/net`);
//! - the start URL answers once, with a redirect to the authorization URL and
//!   a random HttpOnly cookie; a second fetch is reported, never served;
//! - a connection that sends nothing (browsers pre-connect) or asks for
//!   another path (favicon) neither blocks nor ends the wait; request heads
//!   are bounded in size and time; pending connections are capped, and
//!   running out of file descriptors only pauses accepting.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tracing::debug;
use url::Url;

use crate::secret::Secret;

const MAX_HEAD: usize = 16 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections read at once; more are closed at once.
const MAX_PENDING: usize = 32;
/// How long to pause accepting when the process is out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Which addresses to listen on.
#[derive(Debug, Clone, Copy)]
pub enum Bind {
    One(IpAddr),
    /// `localhost`: 127.0.0.1 and ::1, same port.
    Localhost,
}

type Heads = (
    mpsc::Sender<(Head, TcpStream)>,
    mpsc::Receiver<(Head, TcpStream)>,
);

pub struct Listener {
    sockets: Vec<TcpListener>,
    callback_path: String,
    start: Option<Start>,
    /// Heads read by the connection tasks, kept across calls to `next`.
    heads: Heads,
    pending: Arc<Semaphore>,
}

/// The one-time start URL and what it answers.
struct Start {
    path: String,
    location: Url,
    cookie_name: String,
    cookie: Secret<String>,
    served: bool,
}

/// A request the caller must decide on.
pub enum Incoming {
    /// A request to the callback path, from a process of this user.
    Callback(Callback),
    /// The start URL was fetched again: someone else may have opened it first.
    StartOpenedTwice,
}

/// A request to the callback path, and the connection to answer it on.
pub struct Callback {
    pub query: Vec<(String, String)>,
    /// It carries the cookie that the start URL set.
    pub has_cookie: bool,
    stream: TcpStream,
}

/// What the browser is shown.
pub enum Page<'a> {
    Success {
        title: &'a str,
        message: &'a str,
    },
    Failure {
        message: &'a str,
    },
    /// The request was not the callback we wait for; we keep waiting.
    BadRequest {
        message: &'a str,
    },
}

impl Listener {
    /// Listens on `bind` at `port` (0: any free port), for requests to `callback_path`.
    pub async fn bind(bind: Bind, port: u16, callback_path: &str) -> io::Result<Listener> {
        let sockets = match bind {
            Bind::One(ip) if !ip.is_loopback() => {
                return Err(io::Error::other(format!("{ip} is not a loopback address")));
            }
            Bind::One(ip) => vec![TcpListener::bind(SocketAddr::from((ip, port))).await?],
            Bind::Localhost => bind_both(port).await?,
        };
        Ok(Listener {
            sockets,
            callback_path: callback_path.to_string(),
            start: None,
            heads: mpsc::channel(MAX_PENDING),
            pending: Arc::new(Semaphore::new(MAX_PENDING)),
        })
    }

    pub fn port(&self) -> io::Result<u16> {
        match self.sockets.first() {
            Some(socket) => Ok(socket.local_addr()?.port()),
            None => Err(io::Error::other("not listening")),
        }
    }

    /// Serves `location` at a new one-time start URL on `base` (the
    /// redirect URI's scheme, host and port, so that the cookie it sets
    /// comes back with the callback), which is returned.
    pub fn start_url(&mut self, location: Url, base: &Url) -> io::Result<Url> {
        let port = self.port()?;
        let path = format!("/{}", random());
        let mut url = base.clone();
        url.set_path(&path);
        url.set_query(None);
        url.set_fragment(None);
        self.start = Some(Start {
            path,
            location,
            cookie_name: format!("credctl_{port}"),
            cookie: Secret::new(random()),
            served: false,
        });
        Ok(url)
    }

    /// Whether the start URL has been fetched.
    pub fn start_served(&self) -> bool {
        self.start.as_ref().is_some_and(|s| s.served)
    }

    /// Serves the start URL and unrelated requests until a request the
    /// caller must decide on arrives.
    pub async fn next(&mut self) -> io::Result<Incoming> {
        loop {
            let stream = tokio::select! {
                accepted = accept_any(&self.sockets) => match accepted {
                    Ok(stream) => stream,
                    Err(e) if is_resource_limit(&e) => {
                        debug!(error = %e, "cannot accept now; retrying shortly");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                    Err(e) => return Err(e),
                },
                Some((request, stream)) = self.heads.1.recv() => {
                    if let Some(incoming) = self.route(request, stream).await {
                        return Ok(incoming);
                    }
                    continue;
                }
            };
            // Another user's connection is answered and closed at once,
            // never holding one of the slots this user's browser needs.
            if !from_this_user(&stream) {
                tokio::spawn(async move {
                    let mut stream = stream;
                    let page =
                        page_html(false, "Forbidden", "This sign-in belongs to another user.");
                    let answer = respond(&mut stream, 403, &page, &[]);
                    let _ = tokio::time::timeout(READ_TIMEOUT, answer).await;
                });
                continue;
            }
            let Ok(permit) = self.pending.clone().try_acquire_owned() else {
                // Too many connections at once: close this one.
                drop(stream);
                continue;
            };
            let tx = self.heads.0.clone();
            tokio::spawn(async move {
                let _permit = permit;
                if let Some(request) = read_request(stream).await {
                    let _ = tx.send(request).await;
                }
            });
        }
    }

    /// Answers what the listener answers itself; returns the rest.
    async fn route(&mut self, request: Head, mut stream: TcpStream) -> Option<Incoming> {
        if !from_this_user(&stream) {
            let page = page_html(false, "Forbidden", "This sign-in belongs to another user.");
            respond(&mut stream, 403, &page, &[]).await;
            return None;
        }
        if let Some(start) = self.start.as_mut()
            && request.path == start.path
        {
            if start.served {
                let page = page_html(
                    false,
                    "Link already used",
                    "This sign-in link works once. Return to the terminal.",
                );
                respond(&mut stream, 410, &page, &[]).await;
                return Some(Incoming::StartOpenedTwice);
            }
            start.served = true;
            let cookie = format!(
                "{}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age=3600",
                start.cookie_name,
                start.cookie.as_deref().expose()
            );
            let headers = [
                ("Location", start.location.as_str()),
                ("Set-Cookie", cookie.as_str()),
            ];
            respond(&mut stream, 302, "", &headers).await;
            return None;
        }
        if request.method != "GET" || request.path != self.callback_path {
            // As for any request that is not the callback: a short page,
            // and the wait goes on.
            let page = page_html(
                false,
                "Not this sign-in's address",
                "Nothing here. Return to the terminal.",
            );
            respond(&mut stream, 400, &page, &[]).await;
            return None;
        }
        let has_cookie = self.start.as_ref().is_some_and(|start| {
            request
                .cookies
                .iter()
                .any(|(k, v)| *k == start.cookie_name && start.cookie.as_deref().expose() == v)
        });
        Some(Incoming::Callback(Callback {
            query: request.query,
            has_cookie,
            stream,
        }))
    }
}

impl Callback {
    /// Answers the browser with a small page and closes the connection.
    pub async fn respond(mut self, page: Page<'_>) {
        let (status, body) = match page {
            Page::Success { title, message } => (200, page_html(true, title, message)),
            Page::Failure { message } => (
                400,
                page_html(
                    false,
                    "Sign-in failed",
                    &format!("{message}. Return to the terminal."),
                ),
            ),
            Page::BadRequest { message } => (400, page_html(false, "Bad request", message)),
        };
        respond(&mut self.stream, status, &body, &[]).await;
    }
}

/// 127.0.0.1 and ::1 at the same port. With port 0, another free port is
/// tried when ::1 is taken at the one 127.0.0.1 got; a machine without IPv6
/// loopback gets 127.0.0.1 alone.
async fn bind_both(port: u16) -> io::Result<Vec<TcpListener>> {
    for _ in 0..16 {
        let v4 = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
        let chosen = v4.local_addr()?.port();
        match TcpListener::bind(SocketAddr::from((Ipv6Addr::LOCALHOST, chosen))).await {
            Ok(v6) => return Ok(vec![v4, v6]),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse && port == 0 => continue,
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => return Err(e),
            // No IPv6 loopback here: nobody can take it either.
            Err(e) => {
                debug!(error = %e, "no IPv6 loopback; listening on 127.0.0.1 only");
                return Ok(vec![v4]);
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        "no port free on both 127.0.0.1 and ::1",
    ))
}

async fn accept_any(sockets: &[TcpListener]) -> io::Result<TcpStream> {
    let first = sockets
        .first()
        .ok_or_else(|| io::Error::other("not listening"))?;
    match sockets.get(1) {
        None => Ok(first.accept().await?.0),
        Some(second) => tokio::select! {
            a = first.accept() => Ok(a?.0),
            b = second.accept() => Ok(b?.0),
        },
    }
}

/// EMFILE, ENFILE, ENOBUFS, ENOMEM and aborted connections pass.
fn is_resource_limit(e: &io::Error) -> bool {
    use rustix::io::Errno;
    let passing = [Errno::MFILE, Errno::NFILE, Errno::NOBUFS, Errno::NOMEM];
    e.raw_os_error()
        .is_some_and(|code| passing.iter().any(|p| p.raw_os_error() == code))
        || e.kind() == io::ErrorKind::ConnectionAborted
}

struct Head {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    cookies: Vec<(String, String)>,
}

/// Reads one request head, bounded in size and time.
async fn read_request(mut stream: TcpStream) -> Option<(Head, TcpStream)> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 || head.len() + n > MAX_HEAD {
                return None;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Some(())
    };
    tokio::time::timeout(READ_TIMEOUT, read).await.ok()??;
    let text = std::str::from_utf8(&head).ok()?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    let url = Url::parse(&format!("http://127.0.0.1{target}")).ok()?;
    let cookies = lines
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, value)| value.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let head = Head {
        method: method.to_string(),
        path: url.path().to_string(),
        query: url.query_pairs().into_owned().collect(),
        cookies,
    };
    Some((head, stream))
}

async fn respond(stream: &mut TcpStream, status: u16, body: &str, headers: &[(&str, &str)]) {
    let reason = match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        _ => "Error",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn page_html(ok: bool, title: &str, message: &str) -> String {
    let color = if ok { "#1a7f37" } else { "#cf222e" };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>credctl: {title}</title></head>\
<body style=\"font-family: system-ui, sans-serif; max-width: 36em; margin: 4em auto; line-height: 1.5\">\
<h1 style=\"color: {color}\">{title}</h1><p>{message}</p></body></html>\n",
        title = escape(title),
        message = escape(message),
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// 128 random bits, URL-safe.
fn random() -> String {
    oauth2::CsrfToken::new_random().into_secret()
}

/// Whether the peer of `stream` is a socket of a process of this user,
/// judged right after `accept`, while the peer is connected. On Linux the
/// owner is in `/proc/net/tcp{,6}`. Where that table cannot be read at all
/// the answer is yes, and the other checks (cookie, state) stand alone; a
/// peer missing from a table that can be read is another user's (or gone).
fn from_this_user(stream: &TcpStream) -> bool {
    let (Ok(local), Ok(peer)) = (stream.local_addr(), stream.peer_addr()) else {
        return false;
    };
    let table = match peer {
        SocketAddr::V4(_) => "/proc/net/tcp",
        SocketAddr::V6(_) => "/proc/net/tcp6",
    };
    match std::fs::read_to_string(table) {
        Ok(text) => peer_uid(&text, local, peer) == Some(crate::store::private::euid()),
        Err(_) => true,
    }
}

/// The uid owning the socket at `peer` connected to `local`, in the kernel's table.
fn peer_uid(table: &str, local: SocketAddr, peer: SocketAddr) -> Option<u32> {
    let (want_local, want_remote) = (proc_addr(peer), proc_addr(local));
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields.len() > 7 && fields[1] == want_local && fields[2] == want_remote)
            .then(|| fields[7].parse().ok())
            .flatten()
    })
}

/// An address as `/proc/net/tcp` writes it: the address's 32-bit words in
/// host byte order, in hex, then the port.
fn proc_addr(addr: SocketAddr) -> String {
    let words: Vec<u32> = match addr.ip() {
        IpAddr::V4(ip) => vec![u32::from_ne_bytes(ip.octets())],
        IpAddr::V6(ip) => ip
            .octets()
            .chunks(4)
            .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    };
    let mut text: String = words.iter().map(|w| format!("{w:08X}")).collect();
    text.push_str(&format!(":{:04X}", addr.port()));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(port: u16, request: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        s.write_all(request.as_bytes()).await.expect("write");
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).await.expect("read");
        String::from_utf8(reply).expect("utf8")
    }

    #[test]
    fn proc_addresses_read_like_the_kernel_writes_them() {
        let v4: SocketAddr = "127.0.0.1:8080".parse().expect("addr");
        assert_eq!(proc_addr(v4), "0100007F:1F90");
        let v6: SocketAddr = "[::1]:8080".parse().expect("addr");
        assert_eq!(proc_addr(v6), "00000000000000000000000001000000:1F90");
    }

    #[tokio::test]
    async fn serves_the_start_url_once_and_hands_over_callbacks() {
        let mut listener = Listener::bind(Bind::One(Ipv4Addr::LOCALHOST.into()), 0, "/callback")
            .await
            .expect("bind");
        let port = listener.port().expect("port");
        let base: Url = format!("http://127.0.0.1:{port}/callback")
            .parse()
            .expect("url");
        let start = listener
            .start_url(
                "https://id.example/auth?state=s".parse().expect("url"),
                &base,
            )
            .expect("start");
        let path = start.path().to_string();
        let client = tokio::spawn(async move {
            // A pre-connect that sends nothing, a favicon, the start URL, the callback.
            let _idle = TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect");
            let favicon = get(port, "GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n").await;
            assert!(favicon.starts_with("HTTP/1.1 400"), "{favicon}");
            let redirect = get(port, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n")).await;
            assert!(redirect.starts_with("HTTP/1.1 302"), "{redirect}");
            assert!(redirect.contains("Location: https://id.example/auth?state=s"));
            let cookie = redirect
                .lines()
                .find_map(|l| l.strip_prefix("Set-Cookie: "))
                .and_then(|c| c.split(';').next())
                .expect("a cookie")
                .to_string();
            assert!(redirect.contains("HttpOnly"));
            get(
                port,
                &format!("GET /callback?code=abc HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n"),
            )
            .await
        });
        // Bounded: a client that fails its checks never sends the callback.
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), listener.next());
        let Incoming::Callback(callback) = next.await.expect("in time").expect("callback") else {
            panic!("a callback");
        };
        assert!(callback.has_cookie);
        assert!(listener.start_served());
        assert_eq!(callback.query, vec![("code".into(), "abc".into())]);
        callback
            .respond(Page::Success {
                title: "Signed in",
                message: "You can close <this> tab.",
            })
            .await;
        let reply = client.await.expect("client");
        assert!(reply.starts_with("HTTP/1.1 200 OK"));
        assert!(reply.contains("You can close &lt;this&gt; tab."));
    }
}
