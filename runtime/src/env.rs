//! The seams between a node and the world: the transport that carries lines,
//! the clock, and the seed of the random number generator.
//!
//! [`run`](crate::run) wires a node to stdin, stdout and the system clock.
//! [`run_with`](crate::run_with) takes an [`Env`] instead, so that tests (and
//! a later simulator) can drive the same node code over in-memory channels,
//! with a clock and a seed of their own.

use std::future::Future;
use std::io::{BufRead, Write};
use std::pin::Pin;
use std::rc::Rc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use smol::channel::{self, Receiver, Sender};

use crate::log;

/// How many lines each stdio queue holds (see [`Transport::stdio`]).
pub const STDIO_QUEUE: usize = 1024;

/// A source of time for timeouts, periodic tasks and [`Ctx::now`](crate::Ctx::now).
pub trait Clock {
    /// The current time, as a duration since the Unix epoch.
    fn now(&self) -> Duration;
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()>>>;
}

/// The operating system's wall clock with smol's timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(async move {
            smol::Timer::after(duration).await;
        })
    }
}

/// The two directions of a node's message stream, one JSON line per item
/// (without the trailing newline).
///
/// The node reads `incoming` until it closes and writes every message it
/// sends to `outgoing`.
#[derive(Debug)]
pub struct Transport {
    /// Lines for the node to read.
    pub incoming: Receiver<String>,
    /// Lines the node writes.
    pub outgoing: Sender<String>,
}

/// The far end of an in-memory [`Transport`]: what a test writes to the node
/// and reads back from it.
#[derive(Debug)]
pub struct Remote {
    /// Send a line to the node; drop it (or call `close`) for end of input.
    pub to_node: Sender<String>,
    /// Lines the node wrote.
    pub from_node: Receiver<String>,
}

impl Transport {
    /// A transport over in-memory channels, with the end a test holds.
    pub fn in_memory() -> (Transport, Remote) {
        let (to_node, incoming) = channel::unbounded();
        let (outgoing, from_node) = channel::unbounded();
        (
            Transport { incoming, outgoing },
            Remote { to_node, from_node },
        )
    }

    /// A transport over the process's stdin and stdout.
    ///
    /// A thread reads stdin line by line; another writes lines to a buffered
    /// stdout and flushes whenever no further line is queued. Both queues
    /// hold at most [`STDIO_QUEUE`] lines: a node that falls behind stops
    /// the reading of stdin (the writer of stdin then blocks), and one whose
    /// stdout is not read stops reading too, so memory stays bounded. Keep
    /// the returned [`StdioThreads`] until the node has stopped: dropping it
    /// waits for every queued line to be written.
    pub fn stdio() -> (Transport, StdioThreads) {
        let (to_node, incoming) = channel::bounded::<String>(STDIO_QUEUE);
        let (outgoing, from_node) = channel::bounded::<String>(STDIO_QUEUE);
        let reader = std::thread::Builder::new()
            .name("stdin".into())
            .spawn(move || read_lines(std::io::stdin().lock(), &to_node))
            .expect("spawning the stdin thread");
        let writer = std::thread::Builder::new()
            .name("stdout".into())
            .spawn(move || write_lines(&from_node, std::io::stdout().lock()))
            .expect("spawning the stdout thread");
        drop(reader); // it ends by itself at end of input
        (
            Transport { incoming, outgoing },
            StdioThreads {
                writer: Some(writer),
            },
        )
    }
}

/// Reads lines until end of input; bytes that are not UTF-8 are replaced, so
/// that the node reports the line instead of stopping.
fn read_lines(mut input: impl BufRead, to_node: &Sender<String>) {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match input.read_until(b'\n', &mut buf) {
            Ok(0) => return,
            Ok(_) => {
                while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buf.pop();
                }
                let line = String::from_utf8_lossy(&buf).into_owned();
                if hand_over(to_node, line).is_err() {
                    return;
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => {
                log::write(format_args!("reading stdin failed: {err}"));
                return;
            }
        }
    }
}

/// Queues `line` for the node. When the queue is full, waits until the node
/// has taken half of it: waking for every single free slot would make this
/// thread and the node's take turns line by line, at a fraction of the
/// throughput.
fn hand_over(to_node: &Sender<String>, line: String) -> Result<(), ()> {
    let line = match to_node.try_send(line) {
        Ok(()) => return Ok(()),
        Err(channel::TrySendError::Closed(_)) => return Err(()),
        Err(channel::TrySendError::Full(line)) => line,
    };
    let half = to_node.capacity().unwrap_or(usize::MAX) / 2;
    while to_node.len() > half && !to_node.is_closed() {
        std::thread::sleep(std::time::Duration::from_micros(50));
    }
    to_node.send_blocking(line).map_err(|_| ())
}

/// Writes each line followed by a newline; flushes when the queue is empty.
fn write_lines(from_node: &Receiver<String>, output: impl Write) {
    let mut output = std::io::BufWriter::with_capacity(64 * 1024, output);
    while let Ok(line) = from_node.recv_blocking() {
        let mut next = Some(line);
        while let Some(line) = next {
            if output
                .write_all(line.as_bytes())
                .and_then(|()| output.write_all(b"\n"))
                .is_err()
            {
                return;
            }
            next = from_node.try_recv().ok();
        }
        if output.flush().is_err() {
            return;
        }
    }
}

/// The stdout writer thread of [`Transport::stdio`]; dropping it waits until
/// every line the node wrote is on stdout.
#[derive(Debug)]
pub struct StdioThreads {
    writer: Option<JoinHandle<()>>,
}

impl Drop for StdioThreads {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// Everything a node takes from the world.
pub struct Env {
    /// Where lines come from and go to.
    pub transport: Transport,
    /// The clock for timeouts, periodic tasks and `Ctx::now`.
    pub clock: Rc<dyn Clock>,
    /// The seed of the node's random number generator (`Ctx::random_u64`).
    pub seed: u64,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("transport", &self.transport)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

impl Env {
    /// An environment over `transport` with the system clock and a seed
    /// drawn from the operating system's randomness.
    pub fn new(transport: Transport) -> Self {
        Env {
            transport,
            clock: Rc::new(SystemClock),
            seed: fastrand::u64(..),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_splits_lines_and_survives_bad_utf8() {
        let (tx, rx) = channel::unbounded();
        let input: &[u8] = b"{\"a\":1}\r\nnot \xff utf8\nlast-without-newline";
        read_lines(input, &tx);
        let lines: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(
            lines,
            ["{\"a\":1}", "not \u{fffd} utf8", "last-without-newline"]
        );
    }

    #[test]
    fn writer_writes_one_line_per_message() {
        let (tx, rx) = channel::unbounded();
        tx.send_blocking("one".to_string()).unwrap();
        tx.send_blocking("two".to_string()).unwrap();
        drop(tx);
        let mut out = Vec::new();
        write_lines(&rx, &mut out);
        assert_eq!(out, b"one\ntwo\n");
    }
}
