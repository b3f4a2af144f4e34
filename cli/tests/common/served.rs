//! A store with a valid and an invalid run, and `glomers serve` on it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use testbench::config::Concurrency;
use testbench::{Config, Workload};

use super::config;

/// A fresh, empty store folder.
pub fn fresh_store(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "testbench-{name}-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `config` into `store`, draws its pictures as `glomers test` does,
/// and returns the run's folder.
pub fn run_into(store: &Path, mut config: Config) -> (bool, PathBuf) {
    config.store = store.to_path_buf();
    let outcome = testbench::run(&config).unwrap_or_else(|err| panic!("the run failed: {err}"));
    glomers_cli::draw(&outcome.store);
    (outcome.valid, outcome.store)
}

/// A valid run: three nodes that forward every lin-kv request to the
/// lin-kv service, for one second.
pub fn valid_run(store: &Path) -> PathBuf {
    let mut proxy = config(Workload::LinKv, "lin_kv.py", &["proxy"], 3, 1.0, 20.0);
    proxy.concurrency = Concurrency::PerNode(2);
    let (valid, dir) = run_into(store, proxy);
    assert!(valid, "the lin-kv proxy run is valid");
    dir
}

/// `glomers serve` on a store, stopped when dropped.
pub struct Served {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Served {
    pub fn start(store: &Path) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_glomers"))
            .args(["serve", "--port", "0", "--store"])
            .arg(store)
            .stdout(Stdio::piped())
            .spawn()
            .expect("testbench serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .rsplit(' ')
            .next()
            .unwrap()
            .trim_end_matches('/')
            .to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{line}");
        Served { child, base }
    }

    /// `GET path`: (status, content type, body).
    pub fn get(&self, path: &str) -> (u16, String, String) {
        let address = self.base.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).unwrap();
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).unwrap();
        let reply = String::from_utf8_lossy(&reply).into_owned();
        let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        let header = |name: &str| {
            head.lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
                })
                .unwrap_or_default()
        };
        let kind = if (300..400).contains(&status) {
            header("Location")
        } else {
            header("Content-Type")
        };
        (status, kind, body.to_owned())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
