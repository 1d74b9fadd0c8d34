//! A credctl process running in the background, read line by line, with
//! every wait bounded.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use super::{BIN, TestEnv};

pub struct Running {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    stderr_lines: Receiver<String>,
    stderr_seen: Vec<String>,
}

pub struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl TestEnv {
    /// Starts `credctl args…` with stdin closed (or fed `stdin`), stderr read line by line.
    pub fn spawn(&self, args: &[&str]) -> Running {
        self.spawn_with_stdin(args, None)
    }

    /// Starts `credctl args…` with stdin kept open for [`Running::type_line`].
    pub fn spawn_interactive(&self, args: &[&str]) -> Running {
        let mut running = self.spawn_with_stdin(args, Some(""));
        running.stdin = running.child.stdin.take();
        running
    }

    /// Starts `sh -c script` with `$0` the credctl binary, stdin closed.
    pub fn spawn_sh(&self, script: &str) -> Running {
        self.spawn_command(self.sh(script), None)
    }

    pub fn spawn_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Running {
        let mut cmd = self.command(BIN);
        cmd.args(args);
        self.spawn_command(cmd, stdin)
    }

    /// Starts `cmd`, stderr read line by line.
    pub fn spawn_command(&self, mut cmd: std::process::Command, stdin: Option<&str>) -> Running {
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn credctl");
        if let Some(text) = stdin.filter(|t| !t.is_empty()) {
            use std::io::Write;
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            stdin: None,
            stderr_lines: rx,
            stderr_seen: Vec::new(),
        }
    }
}

impl Finished {
    /// As a `std::process::Output`, for transcripts.
    pub fn output(&self) -> std::process::Output {
        use std::os::unix::process::ExitStatusExt;
        std::process::Output {
            status: std::process::ExitStatus::from_raw(self.code.unwrap_or(0x7f) << 8),
            stdout: self.stdout.clone().into_bytes(),
            stderr: format!("{}\n", self.stderr).into_bytes(),
        }
    }
}

impl Running {
    /// The first stderr line (from now on) that satisfies `pred`.
    pub fn line(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) => {
                    self.stderr_seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "credctl printed no {what} within 30 s; stderr so far:\n{}",
                    self.stderr_seen.join("\n")
                ),
            }
        }
    }

    /// Sends SIGINT, as Ctrl-C at a terminal does.
    pub fn interrupt(&mut self) {
        let status = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -INT failed");
    }

    /// Types a line on credctl's stdin.
    pub fn type_line(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("spawned with spawn_interactive");
        writeln!(stdin, "{line}").expect("write stdin");
        stdin.flush().expect("flush stdin");
    }

    /// Waits (at most `timeout`) for the process to exit.
    pub fn finish(mut self, timeout: Duration) -> Finished {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "credctl did not exit within {timeout:?}; stderr so far:\n{}",
                    self.stderr_seen.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            let _ = out.read_to_string(&mut stdout);
        }
        while let Ok(line) = self.stderr_lines.recv_timeout(Duration::from_secs(5)) {
            self.stderr_seen.push(line);
        }
        Finished {
            code: status.code(),
            stdout,
            stderr: self.stderr_seen.join("\n"),
        }
    }
}
