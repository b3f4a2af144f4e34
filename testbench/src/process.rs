//! Node processes: spawn each in its own process group, feed stdin, read
//! stdout into bounded lines, keep stderr in a bounded log, and stop them
//! all, whatever they do.
//!
//! The bench runs nodes that are broken by design, so nothing here may
//! wait on a node without a deadline:
//! - each node leads a process group of its own, so that stopping it stops
//!   whatever it started (a wrapper script's children too), and a Ctrl-C on
//!   the terminal reaches the bench alone, which then stops the nodes;
//! - [`stop_all`] closes every node's input at once, waits a short grace
//!   for all of them together, then signals every group (`SIGTERM`, then
//!   `SIGKILL`); it never joins a reader thread, since a child that escaped
//!   the group may keep a pipe open forever;
//! - lines longer than [`MAX_LINE_BYTES`] are not buffered: the node is
//!   reported for them, and the rest of the line is skipped;
//! - each log keeps at most [`MAX_LOG_BYTES`] of stderr, then says how much
//!   it left out;
//! - every live group is registered, so that a second Ctrl-C, a panic or an
//!   error half-way through spawning still stops every node.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::time::{Duration, Instant};

/// The longest line a node may write on stdout.
pub const MAX_LINE_BYTES: usize = 16 << 20;
/// How much of a node's stderr its log keeps.
pub const MAX_LOG_BYTES: u64 = 64 << 20;
/// How many lines may wait between the nodes' readers and the event loop;
/// past it a node that floods stdout waits for the bench.
pub const EVENT_QUEUE: usize = 4096;
/// How long nodes have to exit once their input is closed.
pub const EXIT_GRACE: Duration = Duration::from_millis(1000);
/// How long nodes have to exit after `SIGTERM`, before `SIGKILL`.
pub const TERM_GRACE: Duration = Duration::from_millis(300);

/// What the nodes report to the bench's event loop. `node` is the node's
/// index (for [`NodeProcess`] itself, the `source` it was spawned with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A line the node wrote on stdout (without its newline).
    Line { node: usize, line: String },
    /// The node wrote a line longer than [`MAX_LINE_BYTES`]; it was skipped.
    Oversized { node: usize },
    /// The node closed its stdout (it is exiting or has exited).
    Closed { node: usize },
}

impl Event {
    /// The node (or source) the event is about.
    pub fn node(&self) -> usize {
        match self {
            Event::Line { node, .. } | Event::Oversized { node } | Event::Closed { node } => *node,
        }
    }

    /// The same event about `node` instead.
    pub fn with_node(self, node: usize) -> Event {
        match self {
            Event::Line { line, .. } => Event::Line { node, line },
            Event::Oversized { .. } => Event::Oversized { node },
            Event::Closed { .. } => Event::Closed { node },
        }
    }
}

/// The sending half of the event queue every node's reader shares.
pub type Events = SyncSender<Event>;

/// A bounded event queue for [`NodeProcess::spawn`].
pub fn event_queue() -> (Events, Receiver<Event>) {
    mpsc::sync_channel(EVENT_QUEUE)
}

/// One running node binary.
#[derive(Debug)]
pub struct NodeProcess {
    /// The node's id, such as `n1`.
    pub id: String,
    child: Child,
    group: Group,
    stdin: Option<Sender<String>>,
    status: Option<ExitStatus>,
}

impl NodeProcess {
    /// Starts `bin` with `args` as node `id`, leading a process group of its
    /// own. Its stdout lines arrive on `events`, tagged with `source`; its
    /// stderr goes to `log` (and to the bench's stderr too when
    /// `echo_stderr`).
    pub fn spawn(
        bin: &Path,
        args: &[String],
        source: usize,
        id: &str,
        log: &Path,
        echo_stderr: bool,
        events: Events,
    ) -> Result<Self, String> {
        let log =
            File::create(log).map_err(|err| format!("cannot create {}: {err}", log.display()))?;
        let mut command = Command::new(bin);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = command
            .spawn()
            .map_err(|err| format!("cannot start {} for {id}: {err}", bin.display()))?;
        let group = Group::register(child.id());
        let (Some(stdout), Some(stderr), Some(stdin)) =
            (child.stdout.take(), child.stderr.take(), child.stdin.take())
        else {
            group.kill(libc::SIGKILL);
            let _ = child.wait();
            return Err(format!("{id}: the node's pipes were not set up"));
        };
        let (to_node, lines) = mpsc::channel::<String>();
        let prefix = format!("{id}: ");
        let threads = [
            spawn_thread(format!("{id} stdout"), move || {
                read_stdout(source, stdout, &events)
            }),
            spawn_thread(format!("{id} stderr"), move || {
                copy_stderr(stderr, log, echo_stderr.then_some(prefix))
            }),
            spawn_thread(format!("{id} stdin"), move || write_stdin(&lines, stdin)),
        ];
        let mut node = NodeProcess {
            id: id.to_owned(),
            child,
            group,
            stdin: Some(to_node),
            status: None,
        };
        if let Some(err) = threads.into_iter().find_map(Result::err) {
            node.kill();
            return Err(format!("{id}: cannot start a thread for the node: {err}"));
        }
        Ok(node)
    }

    /// Queues one line for the node's stdin.
    pub fn send(&self, line: String) {
        if let Some(stdin) = &self.stdin {
            let _ = stdin.send(line);
        }
    }

    /// Whether the process has exited, and how.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// How the node ended, in words: `exited (exit status: 3)`, or
    /// `closed its stdout` while still running.
    pub fn ending(&mut self) -> String {
        match self.exit_status() {
            Some(status) => format!("exited ({status})"),
            None => "closed its stdout".to_owned(),
        }
    }

    /// Kills the node's whole group at once and reaps the node if it can
    /// without waiting.
    pub fn kill(&mut self) {
        self.stdin = None;
        self.group.kill(libc::SIGKILL);
        let _ = self.exit_status();
    }

    /// Sends `signal` to the node's whole process group.
    pub fn signal(&self, signal: i32) {
        self.group.kill(signal);
    }
}

impl Drop for NodeProcess {
    /// A node dropped without [`stop_all`] (an error half-way through a
    /// start, a panic) is killed with its group.
    fn drop(&mut self) {
        self.kill();
        self.group.unregister();
    }
}

/// Stops every node in parallel: closes their input, gives them
/// [`EXIT_GRACE`] to exit, then sends `SIGTERM` to every process group,
/// waits up to [`TERM_GRACE`] and sends `SIGKILL` to every group. Groups are
/// signalled even when their leader has exited, for the children it left.
/// Never waits on a pipe.
pub fn stop_all(nodes: &mut [NodeProcess]) {
    for node in nodes.iter_mut() {
        node.stdin = None;
    }
    let all_exited = |nodes: &mut [NodeProcess]| {
        nodes
            .iter_mut()
            .all(|node| node.exit_status().is_some() && !node.group.alive())
    };
    wait_until(Instant::now() + EXIT_GRACE, || all_exited(nodes));
    for node in nodes.iter() {
        node.group.kill(libc::SIGTERM);
    }
    wait_until(Instant::now() + TERM_GRACE, || all_exited(nodes));
    for node in nodes.iter_mut() {
        node.group.kill(libc::SIGKILL);
    }
    wait_until(Instant::now() + TERM_GRACE, || {
        nodes.iter_mut().all(|node| node.exit_status().is_some())
    });
}

/// Polls `done` every few milliseconds until it holds or `deadline` passes.
fn wait_until(deadline: Instant, mut done: impl FnMut() -> bool) {
    while !done() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn spawn_thread(name: String, f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(name)
        .stack_size(64 * 1024)
        .spawn(f)
        .map(drop)
}

/// Reads lines of at most [`MAX_LINE_BYTES`]; a longer one is reported and
/// skipped up to its newline.
fn read_stdout(node: usize, stdout: impl Read, events: &Events) {
    let mut reader = BufReader::with_capacity(64 * 1024, stdout);
    let mut line = Vec::new();
    let mut oversized = false;
    loop {
        let (consumed, ended) = match reader.fill_buf() {
            Ok([]) => break,
            Ok(chunk) => match chunk.iter().position(|&b| b == b'\n') {
                Some(at) => {
                    if !oversized {
                        line.extend_from_slice(&chunk[..at]);
                    }
                    (at + 1, true)
                }
                None => {
                    if !oversized {
                        line.extend_from_slice(chunk);
                    }
                    (chunk.len(), false)
                }
            },
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        reader.consume(consumed);
        if !oversized && line.len() > MAX_LINE_BYTES {
            oversized = true;
            line = Vec::new();
            if events.send(Event::Oversized { node }).is_err() {
                return;
            }
        }
        if ended {
            if !oversized {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                let text = String::from_utf8_lossy(&line).into_owned();
                if events.send(Event::Line { node, line: text }).is_err() {
                    return;
                }
            }
            line.clear();
            oversized = false;
        }
    }
    if !line.is_empty() && !oversized {
        let text = String::from_utf8_lossy(&line).into_owned();
        let _ = events.send(Event::Line { node, line: text });
    }
    let _ = events.send(Event::Closed { node });
}

/// Copies stderr to the log as it comes, byte for byte (no line
/// buffering, so an endless line costs no memory), up to
/// [`MAX_LOG_BYTES`]; with `echo`, also to the bench's stderr, a prefix on
/// each line. Write failures are ignored: a full disk or a closed terminal
/// must not stop the node.
fn copy_stderr(mut stderr: impl Read, mut log: File, echo: Option<String>) {
    let mut chunk = vec![0; 64 * 1024];
    let mut kept = 0u64;
    let mut left_out = 0u64;
    let mut at_line_start = true;
    loop {
        let n = match stderr.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let room = MAX_LOG_BYTES.saturating_sub(kept) as usize;
        let keep = n.min(room);
        if keep > 0 && log.write_all(&chunk[..keep]).is_ok() {
            kept += keep as u64;
        }
        left_out += (n - keep) as u64;
        if let Some(prefix) = &echo {
            let mut out = Vec::with_capacity(n + prefix.len());
            for &byte in &chunk[..n] {
                if at_line_start {
                    out.extend_from_slice(prefix.as_bytes());
                }
                out.push(byte);
                at_line_start = byte == b'\n';
            }
            crate::console::stderr_bytes(&out);
        }
    }
    if left_out > 0 {
        let _ = writeln!(
            log,
            "\n[testbench: this log keeps the first {MAX_LOG_BYTES} bytes of stderr; {left_out} more were left out]"
        );
    }
}

fn write_stdin(lines: &Receiver<String>, stdin: impl Write) {
    let mut stdin = std::io::BufWriter::with_capacity(64 * 1024, stdin);
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

/// A node's process group, registered while it may have members.
#[derive(Debug)]
struct Group {
    id: i32,
}

/// Process groups that may still have members, for [`kill_every_group`]
/// (which runs in a signal handler, so this is a lock-free table).
static GROUPS: [AtomicI32; 8192] = [const { AtomicI32::new(0) }; 8192];

impl Group {
    fn register(pid: u32) -> Self {
        let id = i32::try_from(pid).unwrap_or(0);
        // A full table only means a second Ctrl-C cannot reach this group.
        let _ = GROUPS.iter().find(|slot| {
            slot.compare_exchange(0, id, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        });
        Group { id }
    }

    fn unregister(&self) {
        for slot in &GROUPS {
            if slot
                .compare_exchange(self.id, 0, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return;
            }
        }
    }

    fn kill(&self, signal: i32) {
        if self.id > 0 {
            // SAFETY: kill(2) with a negative pid signals that process group;
            // it touches no memory of ours.
            unsafe {
                libc::kill(-self.id, signal);
            }
        }
    }

    /// Whether any process of the group is still running (or a zombie).
    fn alive(&self) -> bool {
        // SAFETY: signal 0 only checks that the group exists.
        self.id > 0 && unsafe { libc::kill(-self.id, 0) } == 0
    }
}

/// Sends `SIGKILL` to every node process group that may be alive. Safe to
/// call from a signal handler (it only reads atomics and calls kill(2)).
pub fn kill_every_group() {
    for slot in &GROUPS {
        let id = slot.load(Ordering::SeqCst);
        if id > 0 {
            // SAFETY: as in `Group::kill`.
            unsafe {
                libc::kill(-id, libc::SIGKILL);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(input: &[u8]) -> Vec<Event> {
        let (tx, rx) = event_queue();
        read_stdout(0, input, &tx);
        drop(tx);
        rx.into_iter().collect()
    }

    #[test]
    fn lines_are_split_and_a_last_unterminated_line_is_kept() {
        let events = lines_of(b"one\r\ntwo\nthree");
        let lines: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                Event::Line { line, .. } => Some(line.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(lines, ["one", "two", "three"]);
        assert!(matches!(events.last(), Some(Event::Closed { node: 0 })));
    }

    #[test]
    fn an_oversized_line_is_reported_once_and_skipped() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\nafter\n");
        let events = lines_of(&input);
        assert!(matches!(events[0], Event::Oversized { node: 0 }));
        assert!(matches!(&events[1], Event::Line { line, .. } if line == "after"));
        assert_eq!(events.len(), 3);
    }

    #[test]
    fn an_endless_line_without_newline_is_reported() {
        let input = vec![b'{'; MAX_LINE_BYTES * 2];
        let events = lines_of(&input);
        assert!(matches!(events[0], Event::Oversized { .. }));
        assert!(matches!(events[1], Event::Closed { .. }));
    }
}
