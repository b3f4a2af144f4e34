//! The seams between a node and the world: the transport that carries lines,
//! the clock, and the seed of the random number generator.
//!
//! [`run`](crate::run) wires a node to stdin, stdout and the system clock.
//! [`run_with`](crate::seams::run_with) takes an [`Env`] instead, so that tests (and
//! a later simulator) can drive the same node code over in-memory channels,
//! with a clock and a seed of their own.

use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::pin::Pin;
use std::rc::Rc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use smol::channel::{self, Receiver, Sender};

use crate::log;

/// How many lines the queue to stdout holds (see [`Transport::stdio`]).
pub const STDIO_QUEUE: usize = 1024;

/// How many batches of lines the queue from stdin holds.
const STDIN_BATCHES: usize = 8;

/// A source of time for timeouts, periodic tasks and [`Ctx::now`](crate::ctx::Ctx::now).
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

/// The two directions of a node's message stream.
///
/// The node reads `incoming` until it closes; an item is one JSON line, or
/// several separated by `\n` (no trailing newline). It writes every message
/// it sends to `outgoing`, one line per item.
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
    /// A thread reads stdin and hands the node the lines waiting, in
    /// batches of at most 128 lines (or about 16 kB); another writes lines
    /// to a buffered stdout and flushes whenever no further line is queued.
    /// The queues hold at most [`STDIO_QUEUE`] lines to stdout and 8
    /// batches from stdin: a node that falls behind stops the reading of
    /// stdin (the writer of stdin then blocks), and one whose stdout is not
    /// read stops reading too, so memory stays bounded. Keep the returned
    /// [`StdioThreads`] until the node has stopped: dropping it waits for
    /// every queued line to be written.
    pub fn stdio() -> (Transport, StdioThreads) {
        let (to_node, incoming) = channel::bounded::<String>(STDIN_BATCHES);
        let (outgoing, from_node) = channel::bounded::<String>(STDIO_QUEUE);
        let reader = std::thread::Builder::new()
            .name("stdin".into())
            .spawn(move || read_lines(std::io::stdin(), &to_node))
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

/// How many lines, at most, the stdin thread hands the node at once.
const BATCH_LINES: usize = 128;
/// How many bytes of lines, about, the stdin thread hands the node at once.
const BATCH_BYTES: usize = 16 * 1024;

/// Reads lines until end of input and hands them to the node in batches:
/// the lines read so far, once no more input is waiting (or the batch is
/// full). One wake-up per batch, not per line, is what lets a bounded queue
/// keep the throughput of an unbounded one. Bytes that are not UTF-8 are
/// replaced, so that the node reports the line instead of stopping.
fn read_lines(input: impl Read, to_node: &Sender<String>) {
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let mut buf = Vec::new();
    let mut batch = String::new();
    let mut lines = 0;
    loop {
        buf.clear();
        match input.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {
                while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buf.pop();
                }
                if lines > 0 {
                    batch.push('\n');
                }
                batch.push_str(&String::from_utf8_lossy(&buf));
                lines += 1;
                let full = lines >= BATCH_LINES || batch.len() >= BATCH_BYTES;
                if full || input.buffer().is_empty() {
                    if to_node.send_blocking(std::mem::take(&mut batch)).is_err() {
                        return;
                    }
                    lines = 0;
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => {
                log::write(format_args!("reading stdin failed: {err}"));
                break;
            }
        }
    }
    if lines > 0 {
        let _ = to_node.send_blocking(batch);
    }
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
        let batches: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(
            batches,
            ["{\"a\":1}\nnot \u{fffd} utf8\nlast-without-newline"],
            "what was waiting goes as one batch"
        );
    }

    #[test]
    fn the_reader_batches_at_most_its_limit_of_lines() {
        let (tx, rx) = channel::unbounded();
        let input: String = (0..300).map(|i| format!("{i}\n")).collect();
        read_lines(input.as_bytes(), &tx);
        let batches: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert!(batches.iter().all(|b| b.split('\n').count() <= BATCH_LINES));
        let lines: Vec<String> = batches
            .iter()
            .flat_map(|b| b.split('\n').map(str::to_owned))
            .collect();
        assert_eq!(lines, (0..300).map(|i| i.to_string()).collect::<Vec<_>>());
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
