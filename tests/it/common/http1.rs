//! Just enough HTTP/1.1 for the loopback servers that real programs (git,
//! kubectl) talk to in the tests: a request head, a body framed by
//! `Content-Length` or `Transfer-Encoding: chunked`, and a response with a
//! `Content-Length`.
//!
//! Always: every read is bounded in size (a head line, the number of header
//! lines, a chunk-size line); a body reader never reads past its own body,
//! so a kept-alive connection stays in step; nothing here panics on what a
//! client sends, it returns an error instead.

use std::io::{self, BufRead, Read, Write};

use base64::Engine as _;

/// The longest request line or header line accepted.
const MAX_LINE: usize = 64 * 1024;
/// The most header lines accepted in one request.
const MAX_HEADERS: usize = 200;

/// A request line and its headers.
#[derive(Clone, Debug)]
pub struct Head {
    pub method: String,
    /// The request target as sent: path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    pub fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")
            .and_then(|v| v.trim().parse().ok())
    }

    /// Whether the client waits for `100 Continue` before sending the body.
    pub fn expects_continue(&self) -> bool {
        self.header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }

    /// Whether the client asked to close the connection after this exchange.
    pub fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }

    /// `Authorization: Basic …` decoded into user and password.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        let value = self.header("authorization")?;
        let (scheme, encoded) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (user, password) = decoded.split_once(':')?;
        Some((user.to_string(), password.to_string()))
    }

    /// The token of `Authorization: Bearer …`.
    pub fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }

    /// A reader of this request's body, which stops at the body's end.
    pub fn body<'a, R: BufRead>(&self, reader: &'a mut R) -> Body<'a, R> {
        let state = if self.is_chunked() {
            State::ChunkStart
        } else {
            State::Length(self.content_length().unwrap_or(0))
        };
        Body { reader, state }
    }
}

/// Reads one line, without its line end; `None` at a clean end of input.
fn read_line(reader: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    let n = reader
        .take(MAX_LINE as u64 + 2)
        .read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(invalid("line too long or cut off"));
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| invalid("line is not UTF-8"))
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// Reads a request head; `None` when the client closed the connection
/// between requests.
pub fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Head>> {
    let Some(request_line) = read_line(reader)? else {
        return Ok(None);
    };
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(_version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("bad request line"));
    };
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or_else(|| invalid("head cut off"))?;
        if line.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(invalid("too many headers"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid("bad header line"))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    Ok(Some(Head {
        method: method.to_string(),
        target: target.to_string(),
        headers,
    }))
}

enum State {
    /// Bytes left of a `Content-Length` body.
    Length(u64),
    /// Before a chunk-size line.
    ChunkStart,
    /// Bytes left of the current chunk.
    Chunk(u64),
    Done,
}

/// A request body, de-chunked; reads end at the body's end.
pub struct Body<'a, R> {
    reader: &'a mut R,
    state: State,
}

impl<R: BufRead> Body<'_, R> {
    /// Whether the whole body has been read.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done | State::Length(0))
    }
}

impl<R: BufRead> Read for Body<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.state {
                State::Done | State::Length(0) => return Ok(0),
                State::Length(left) => {
                    let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let n = self.reader.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                    self.state = State::Length(left - n as u64);
                    return Ok(n);
                }
                State::ChunkStart => {
                    let line = read_line(self.reader)?.ok_or_else(|| invalid("chunk cut off"))?;
                    let size = line.split(';').next().unwrap_or("").trim();
                    let size =
                        u64::from_str_radix(size, 16).map_err(|_| invalid("bad chunk size"))?;
                    if size == 0 {
                        // Trailers, up to the empty line.
                        while !read_line(self.reader)?
                            .ok_or_else(|| invalid("trailers cut off"))?
                            .is_empty()
                        {}
                        self.state = State::Done;
                    } else {
                        self.state = State::Chunk(size);
                    }
                }
                State::Chunk(left) => {
                    let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let n = self.reader.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                    if left == n as u64 {
                        let end = read_line(self.reader)?.ok_or_else(|| invalid("chunk end"))?;
                        if !end.is_empty() {
                            return Err(invalid("chunk longer than its size"));
                        }
                        self.state = State::ChunkStart;
                    } else {
                        self.state = State::Chunk(left - n as u64);
                    }
                    return Ok(n);
                }
            }
        }
    }
}

/// The reason phrase for the status codes these servers send.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

/// Writes a whole response with a `Content-Length`, and `Connection: close`
/// when `close`.
pub fn write_response(
    writer: &mut impl Write,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    close: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    writer.write_all(head.as_bytes())?;
    writer.write_all(body)?;
    writer.flush()
}

/// Tells a client that sent `Expect: 100-continue` to go on with the body.
pub fn write_continue(writer: &mut impl Write) -> io::Result<()> {
    writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    writer.flush()
}
