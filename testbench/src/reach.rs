//! How the engine reaches the nodes under test, and whose clock it runs on.
//!
//! The engine ([`crate::run`](mod@crate::run)) knows nodes only as numbered endpoints that
//! take lines and produce [`Event`]s: [`Cluster`] is that seam. The bench
//! implements it with node processes on the real clock ([`Processes`]); a
//! simulator can implement it with in-process nodes on virtual time, and
//! the engine, network, nemesis, services, workloads and checkers stay the
//! same.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use crate::process::Event;
use crate::process::NodeProcess;

/// Time since the cluster's origin (its creation).
pub type Time = Duration;

/// The nodes under test and their clock.
pub trait Cluster {
    /// The current time.
    fn now(&self) -> Time;

    /// Hands `line` (one JSON message, no newline) to node `node`'s input.
    fn send(&mut self, node: usize, line: String);

    /// Waits until at least one event has happened or `until` has come
    /// (on this cluster's clock), and appends what happened to `events`.
    /// On a virtual clock, time jumps to the earlier of `until` and the
    /// moment a node next has something to do.
    fn wait(&mut self, until: Time, events: &mut Vec<Event>);

    /// How node `node` ended, in words (`exited (exit status: 3)`), once
    /// it reported [`Event::Closed`].
    fn ending(&mut self, node: usize) -> String;

    /// Kills node `node` at once, state and all (the `kill` nemesis).
    fn kill(&mut self, node: usize);

    /// Starts a fresh node in place of `node` (which must be killed); it
    /// expects `init` again. `Err` says why it could not start.
    fn restart(&mut self, node: usize) -> Result<(), String>;

    /// Stops node `node` from running (its input waits) until
    /// [`Cluster::resume`].
    fn pause(&mut self, node: usize);

    /// Lets a paused node run again.
    fn resume(&mut self, node: usize);

    /// Stops every node for good.
    fn stop(&mut self);
}

/// Node processes on the real clock.
pub struct Processes {
    origin: Instant,
    bin: PathBuf,
    args: Vec<String>,
    ids: Vec<String>,
    store: PathBuf,
    echo_stderr: bool,
    events: std::sync::mpsc::Receiver<Event>,
    sender: crate::process::Events,
    nodes: Vec<NodeProcess>,
    /// How many times each node has been started (its log's suffix).
    starts: Vec<u32>,
}

// Each process tags its events with a source: its node's index plus the
// node count times the number of earlier starts, so that a killed
// process's late events are told apart from its successor's.

impl Processes {
    /// Starts `bin args` once for each id, logging stderr to
    /// `store/<id>.log`. On an error, the nodes started so far are killed.
    pub fn start(
        bin: &Path,
        args: &[String],
        ids: &[String],
        store: &Path,
        echo_stderr: bool,
    ) -> Result<Self, String> {
        let (sender, events) = crate::process::event_queue();
        let mut processes = Processes {
            origin: Instant::now(),
            bin: bin.to_path_buf(),
            args: args.to_vec(),
            ids: ids.to_vec(),
            store: store.to_path_buf(),
            echo_stderr,
            events,
            sender,
            nodes: Vec::with_capacity(ids.len()),
            starts: vec![0; ids.len()],
        };
        for index in 0..ids.len() {
            let node = processes.spawn(index)?;
            processes.nodes.push(node);
        }
        Ok(processes)
    }

    fn spawn(&mut self, index: usize) -> Result<NodeProcess, String> {
        let id = &self.ids[index];
        self.starts[index] += 1;
        let log = match self.starts[index] {
            1 => self.store.join(format!("{id}.log")),
            n => self.store.join(format!("{id}.{n}.log")),
        };
        let source = index + self.ids.len() * (self.starts[index] as usize - 1);
        NodeProcess::spawn(
            &self.bin,
            &self.args,
            source,
            id,
            &log,
            self.echo_stderr,
            self.sender.clone(),
        )
    }
}

impl Cluster for Processes {
    fn now(&self) -> Time {
        self.origin.elapsed()
    }

    fn send(&mut self, node: usize, line: String) {
        self.nodes[node].send(line);
    }

    fn wait(&mut self, until: Time, events: &mut Vec<Event>) {
        use std::sync::mpsc::RecvTimeoutError;
        let timeout = until.saturating_sub(self.now());
        let n = self.ids.len();
        let current = |starts: &[u32], event: &Event| {
            let (node, start) = (event.node() % n, event.node() / n);
            (start + 1 == starts[node] as usize).then_some(node)
        };
        match self.events.recv_timeout(timeout) {
            Ok(first) => {
                for event in std::iter::once(first).chain(self.events.try_iter()) {
                    if let Some(node) = current(&self.starts, &event) {
                        events.push(event.with_node(node));
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            // Cannot happen while `self.sender` lives; wait out the time
            // rather than spin.
            Err(RecvTimeoutError::Disconnected) => std::thread::sleep(timeout),
        }
    }

    fn ending(&mut self, node: usize) -> String {
        // Give an exiting process a moment to be reaped, so that its exit
        // status can be named.
        let give_up = Instant::now() + Duration::from_millis(50);
        while self.nodes[node].exit_status().is_none() && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(1));
        }
        self.nodes[node].ending()
    }

    fn kill(&mut self, node: usize) {
        self.nodes[node].kill();
    }

    fn restart(&mut self, node: usize) -> Result<(), String> {
        let fresh = self.spawn(node)?;
        // The old process's reader may still report its end; it is killed
        // already, so the report is stale and the engine ignores it.
        self.nodes[node] = fresh;
        Ok(())
    }

    fn pause(&mut self, node: usize) {
        self.nodes[node].signal(libc::SIGSTOP);
    }

    fn resume(&mut self, node: usize) {
        self.nodes[node].signal(libc::SIGCONT);
    }

    fn stop(&mut self) {
        for node in &self.nodes {
            node.signal(libc::SIGCONT); // a paused node cannot exit
        }
        crate::process::stop_all(&mut self.nodes);
    }
}
