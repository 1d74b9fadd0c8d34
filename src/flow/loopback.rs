//! A one-shot HTTP listener on 127.0.0.1 for the redirect of the browser flow
//! (RFC 8252 §7.3). It knows nothing of OAuth: it hands over the query of the
//! first request to the expected path and answers with the page it is given.
//!
//! What always holds: it listens on loopback only; a connection that sends
//! nothing (browsers pre-connect) or asks for another path (favicon) neither
//! blocks nor ends the wait; request heads are bounded in size and time.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const MAX_HEAD: usize = 16 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Listener {
    listener: TcpListener,
    path: String,
}

/// The redirect the browser delivered, and the connection to answer it on.
pub struct Callback {
    pub query: Vec<(String, String)>,
    stream: TcpStream,
}

impl Listener {
    /// Listens on the loopback address `ip`, `port` (0: any free port), for
    /// requests to `path`.
    pub async fn bind(ip: IpAddr, port: u16, path: &str) -> io::Result<Listener> {
        if !ip.is_loopback() {
            return Err(io::Error::other(format!("{ip} is not a loopback address")));
        }
        let listener = TcpListener::bind(SocketAddr::from((ip, port))).await?;
        Ok(Listener {
            listener,
            path: path.to_string(),
        })
    }

    pub fn port(&self) -> io::Result<u16> {
        Ok(self.listener.local_addr()?.port())
    }

    /// Waits for the first request to the expected path.
    pub async fn wait(&self) -> io::Result<Callback> {
        let (tx, mut rx) = mpsc::channel(1);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, _) = accepted?;
                    let tx = tx.clone();
                    let path = self.path.clone();
                    tokio::spawn(async move {
                        if let Some(callback) = read_request(stream, &path).await {
                            let _ = tx.send(callback).await;
                        }
                    });
                }
                Some(callback) = rx.recv() => return Ok(callback),
            }
        }
    }
}

impl Callback {
    #[cfg(test)]
    fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Answers the browser with a small page and closes the connection.
    pub async fn respond(mut self, ok: bool, title: &str, message: &str) {
        let body = page(ok, title, message);
        let head = format!(
            "HTTP/1.1 {}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n",
            if ok { "200 OK" } else { "400 Bad Request" },
            body.len()
        );
        let _ = self.stream.write_all(head.as_bytes()).await;
        let _ = self.stream.write_all(body.as_bytes()).await;
        let _ = self.stream.shutdown().await;
    }
}

/// Reads one request head. Returns the callback if it is a GET of `path`;
/// answers anything else with 404 and returns `None`.
async fn read_request(mut stream: TcpStream, path: &str) -> Option<Callback> {
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
    let line = head.split(|b| *b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    let url = url::Url::parse(&format!("http://127.0.0.1{target}")).ok()?;
    if method != "GET" || url.path() != path {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await;
        return None;
    }
    let query = url.query_pairs().into_owned().collect();
    Some(Callback { query, stream })
}

fn page(ok: bool, title: &str, message: &str) -> String {
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
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hands_over_the_callback_and_ignores_the_rest() {
        let listener = Listener::bind(std::net::Ipv4Addr::LOCALHOST.into(), 0, "/callback")
            .await
            .expect("bind");
        let port = listener.port().expect("port");
        let client = tokio::spawn(async move {
            // A pre-connect that sends nothing, then a favicon request, then the redirect.
            let _idle = TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect");
            let mut other = TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect");
            other
                .write_all(b"GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("write");
            let mut reply = Vec::new();
            other.read_to_end(&mut reply).await.expect("read");
            assert!(reply.starts_with(b"HTTP/1.1 404"));
            let mut cb = TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect");
            cb.write_all(b"GET /callback?code=abc&state=x%20y HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("write");
            let mut reply = Vec::new();
            cb.read_to_end(&mut reply).await.expect("read");
            String::from_utf8(reply).expect("utf8")
        });
        let callback = listener.wait().await.expect("callback");
        assert_eq!(callback.param("code"), Some("abc"));
        assert_eq!(callback.param("state"), Some("x y"));
        callback
            .respond(true, "Signed in", "You can close <this> tab.")
            .await;
        let reply = client.await.expect("client");
        assert!(reply.starts_with("HTTP/1.1 200 OK"));
        assert!(reply.contains("You can close &lt;this&gt; tab."));
    }
}
