//! A slow token endpoint that rotates refresh tokens, for the crash tests.
//!
//! Rotation model: each refresh returns a new pair `at-N`/`rt-N`; the
//! refresh token presented stays valid only until its successor is used.
//! (A stricter server that kills the old token the moment it answers cannot
//! be survived by any client killed between that answer and its own write;
//! this model keeps the check meaningful: a client that stored an older
//! token than one it already used, or a torn pair, is caught.) Presenting
//! any other refresh token is `invalid_grant` and is counted as a reuse.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

#[derive(Default)]
struct State {
    /// The newest refresh token issued, and the one it replaced (still valid
    /// while the newest is unused).
    newest: String,
    previous: Option<String>,
    issued: u64,
    refreshes: u64,
    rejected: u64,
}

pub struct Rotating {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Rotating {
    /// Listens on 127.0.0.1; answers each refresh after `delay`. The first
    /// valid refresh token is `rt-0`.
    pub fn start(delay: Duration) -> Rotating {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/token", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State {
            newest: "rt-0".into(),
            ..State::default()
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state, delay));
            }
        });
        Rotating { url, state }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the server would accept this refresh token now.
    pub fn accepts(&self, refresh_token: &str) -> bool {
        let s = self.lock();
        s.newest == refresh_token || s.previous.as_deref() == Some(refresh_token)
    }

    pub fn refreshes(&self) -> u64 {
        self.lock().refreshes
    }

    pub fn rejected(&self) -> u64 {
        self.lock().rejected
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>, delay: Duration) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length.min(64 * 1024)];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let presented = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "refresh_token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    // Slow: the client may be killed while waiting.
    std::thread::sleep(delay);
    let (status, json) = {
        let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
        let valid = s.newest == presented || s.previous.as_deref() == Some(presented.as_str());
        if valid {
            s.issued += 1;
            s.refreshes += 1;
            let n = s.issued;
            // Using a token ends the one before it; the presented one stays
            // valid until its successor is used.
            s.previous = Some(presented);
            s.newest = format!("rt-{n}");
            (
                "200 OK",
                format!(
                    r#"{{"access_token":"at-{n}","refresh_token":"rt-{n}","token_type":"Bearer","expires_in":3600}}"#
                ),
            )
        } else {
            s.rejected += 1;
            (
                "400 Bad Request",
                r#"{"error":"invalid_grant"}"#.to_string(),
            )
        }
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    );
}
