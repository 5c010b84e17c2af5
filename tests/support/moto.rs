//! A moto_server child process on loopback for tests against AWS APIs, stopped on drop.
//!
//! The server comes from `<repo>/.tools/bin/moto_server`, which `scripts/install-peers.sh`
//! installs. It serves Secrets Manager, STS and other AWS APIs without checking credentials.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Region the server and its clients use.
pub const REGION: &str = "us-east-1";
/// Dummy access key id that moto accepts.
pub const ACCESS_KEY_ID: &str = "testing";
/// Dummy secret access key that moto accepts.
pub const SECRET_ACCESS_KEY: &str = "testing";

const START_TIMEOUT: Duration = Duration::from_secs(30);
const START_ATTEMPTS: usize = 3;

/// A running moto_server. Dropping it kills the process by its PID and waits for it.
pub struct MotoServer {
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl MotoServer {
    /// Starts a server on 127.0.0.1 and a free port, and waits until it responds.
    ///
    /// Panics with the server's log when it does not come up, or with the install command when
    /// the binary is missing.
    pub fn start() -> Self {
        let binary = binary_path();
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(&binary) {
                Ok(server) => return server,
                Err(failure) => failures.push(failure),
            }
        }
        panic!("moto_server did not start:\n{}", failures.join("\n---\n"));
    }

    /// Endpoint URL for SDK clients, for example `http://127.0.0.1:41234`.
    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Clears every resource in the server with `POST /moto-api/reset`.
    pub fn reset(&self) {
        let status = http_status(self.port, "POST", "/moto-api/reset");
        assert_eq!(status.ok(), Some(200), "moto reset failed");
    }

    fn try_start(binary: &PathBuf) -> Result<Self, String> {
        let port = free_port().map_err(|error| format!("no free port: {error}"))?;
        let log = tempfile::NamedTempFile::new().map_err(|error| error.to_string())?;
        let output = log.reopen().map_err(|error| error.to_string())?;
        let errors = output.try_clone().map_err(|error| error.to_string())?;
        let child = Command::new(binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::from(output))
            .stderr(Stdio::from(errors))
            .spawn()
            .map_err(|error| format!("cannot run {}: {error}", binary.display()))?;
        let mut server = Self { child, port, log };
        server.wait_until_ready()?;
        Ok(server)
    }

    /// Polls until the server responds. On failure the caller drops `self`, which stops it.
    fn wait_until_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "moto_server exited with {status}:\n{}",
                    self.log_text()
                ));
            }
            if http_status(self.port, "POST", "/moto-api/reset").ok() == Some(200) {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "moto_server did not answer within {START_TIMEOUT:?}:\n{}",
            self.log_text()
        ))
    }

    fn log_text(&self) -> String {
        let mut text = String::new();
        let _ = File::open(self.log.path()).and_then(|mut file| file.read_to_string(&mut text));
        text
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        // `Child::kill` signals exactly this PID; waiting reaps it so no zombie remains.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary_path() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/moto_server");
    assert!(
        path.exists(),
        "{} is missing; run scripts/install-peers.sh to install the test peers",
        path.display()
    );
    path
}

/// Asks the OS for a free port. Another process may take it before moto binds it, which
/// `MotoServer::start` covers by retrying.
fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Sends a bodiless HTTP/1.1 request and returns the response status code.
fn http_status(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut status_line = String::new();
    BufReader::new(stream).read_line(&mut status_line)?;
    status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))
}
