//! Node processes: spawn, feed stdin, read stdout, keep stderr in a log.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

/// What the node processes report to the bench's event loop.
#[derive(Debug)]
pub enum Event {
    /// A line the node wrote on stdout.
    Line { node: usize, line: String },
    /// The node closed its stdout (it is exiting or has exited).
    Closed { node: usize },
}

/// One running node binary.
pub struct NodeProcess {
    /// The node's id, such as `n1`.
    pub id: String,
    child: Child,
    stdin: Option<Sender<String>>,
    threads: Vec<JoinHandle<()>>,
}

impl NodeProcess {
    /// Starts `bin` with `args` as node `index` (id `id`). Its stdout lines
    /// arrive on `events`; its stderr goes to `log` (and to the bench's
    /// stderr too when `echo_stderr`).
    pub fn spawn(
        bin: &Path,
        args: &[String],
        index: usize,
        id: &str,
        log: &Path,
        echo_stderr: bool,
        events: Sender<Event>,
    ) -> Result<Self, String> {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| format!("cannot start {} for {id}: {err}", bin.display()))?;
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let stdin = child.stdin.take().expect("piped");
        let log =
            File::create(log).map_err(|err| format!("cannot create {}: {err}", log.display()))?;
        let (to_node, lines) = mpsc::channel::<String>();
        let prefix = format!("{id}: ");
        let threads = vec![
            std::thread::spawn(move || read_stdout(index, stdout, &events)),
            std::thread::spawn(move || copy_stderr(stderr, log, echo_stderr.then_some(prefix))),
            std::thread::spawn(move || write_stdin(&lines, stdin)),
        ];
        Ok(NodeProcess {
            id: id.to_owned(),
            child,
            stdin: Some(to_node),
            threads,
        })
    }

    /// Queues one line for the node's stdin.
    pub fn send(&self, line: String) {
        if let Some(stdin) = &self.stdin {
            let _ = stdin.send(line);
        }
    }

    /// Whether the process has exited, and how.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Closes stdin, gives the node `grace` to exit, then kills it.
    pub fn stop(mut self, grace: std::time::Duration) {
        self.stdin = None;
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if self.exit_status().is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn read_stdout(node: usize, stdout: impl std::io::Read, events: &Sender<Event>) {
    let mut reader = BufReader::with_capacity(64 * 1024, stdout);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buf.pop();
                }
                let line = String::from_utf8_lossy(&buf).into_owned();
                if events.send(Event::Line { node, line }).is_err() {
                    return;
                }
            }
        }
    }
    let _ = events.send(Event::Closed { node });
}

fn copy_stderr(stderr: impl std::io::Read, log: File, echo: Option<String>) {
    let mut log = BufWriter::new(log);
    let mut reader = BufReader::new(stderr);
    let mut buf = Vec::new();
    while matches!(reader.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
        let _ = log.write_all(&buf);
        if let Some(prefix) = &echo {
            eprint!("{prefix}{}", String::from_utf8_lossy(&buf));
        }
        buf.clear();
    }
    let _ = log.flush();
}

fn write_stdin(lines: &Receiver<String>, stdin: impl Write) {
    let mut stdin = BufWriter::with_capacity(64 * 1024, stdin);
    while let Ok(line) = lines.recv() {
        let mut next = Some(line);
        while let Some(line) = next {
            if stdin
                .write_all(line.as_bytes())
                .and_then(|()| stdin.write_all(b"\n"))
                .is_err()
            {
                return;
            }
            next = lines.try_recv().ok();
        }
        if stdin.flush().is_err() {
            return;
        }
    }
}
