//! A cluster of in-process nodes on virtual time: the bench's engine
//! reaches them through [`testbench::reach::Cluster`], as it reaches node
//! processes, but here time moves only when every node is waiting.

use std::marker::PhantomData;
use std::rc::Rc;
use std::time::Duration;

use glomers::seams::{Env, Remote, Stepper, Transport};
use glomers::Start;
use testbench::reach::{Cluster, Event, Time};

use crate::clock::{NodeClock, VirtualTime};

/// The most steps a node may take without waiting before the simulator
/// gives up on it (it would never let virtual time move).
pub const MAX_BUSY_STEPS: usize = 1_000_000;

/// One node's place in the cluster.
struct Slot {
    /// The running node; `None` once killed or stopped.
    node: Option<Stepper>,
    remote: Option<Remote>,
    paused: bool,
    /// How many times the node was started (each start gets its own seed).
    starts: u64,
    /// Why the node was taken out by the simulator itself, if it was.
    ended: Option<String>,
    /// Set by the node's clock when the node spins on it.
    spun: Rc<std::cell::Cell<bool>>,
    skew_nanos: i64,
}

/// In-process nodes built by `make`, one per id, on one virtual clock.
///
/// A killed node is dropped with all its state; its restart is a fresh
/// `make()` that gets `init` again. A paused node is not run (its input
/// and timers wait) until resumed.
pub struct InProcess<F, N, How> {
    time: VirtualTime,
    slots: Vec<Slot>,
    make: F,
    seed: u64,
    marker: PhantomData<fn() -> (N, How)>,
}

impl<F, N, How> InProcess<F, N, How>
where
    F: Fn() -> N,
    N: Start<How> + 'static,
    How: 'static,
{
    /// `nodes` nodes made by `make`, seeded from `seed`, each node's clock
    /// off by a random amount up to `max_skew` either way.
    pub fn new(nodes: usize, make: F, seed: u64, max_skew: Duration) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x5c1e_5c1e);
        let max = i64::try_from(max_skew.as_nanos()).unwrap_or(i64::MAX);
        let slots = (0..nodes)
            .map(|_| Slot {
                node: None,
                remote: None,
                paused: false,
                starts: 0,
                ended: None,
                spun: Rc::default(),
                skew_nanos: if max > 0 { rng.i64(-max..=max) } else { 0 },
            })
            .collect();
        let mut cluster = InProcess {
            time: VirtualTime::default(),
            slots,
            make,
            seed,
            marker: PhantomData,
        };
        for node in 0..nodes {
            cluster.boot(node);
        }
        cluster
    }

    /// The virtual clock the nodes run on.
    pub fn time(&self) -> &VirtualTime {
        &self.time
    }

    /// Starts a fresh node in slot `node`.
    fn boot(&mut self, node: usize) {
        let slot = &mut self.slots[node];
        slot.starts += 1;
        let (transport, remote) = Transport::in_memory();
        let clock = NodeClock::new(self.time.clone(), slot.skew_nanos);
        slot.spun = clock.spun();
        let env = Env {
            transport,
            clock: Rc::new(clock),
            seed: self
                .seed
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .wrapping_add((node as u64) << 32 | slot.starts),
        };
        slot.node = Some(Stepper::new((self.make)(), env));
        slot.remote = Some(remote);
        slot.paused = false;
    }

    /// Runs every node that can run until all wait; what they wrote goes
    /// to `events`. Returns whether any node did anything.
    fn run_nodes(&mut self, events: &mut Vec<Event>) -> bool {
        let mut ran = false;
        for (index, slot) in self.slots.iter_mut().enumerate() {
            let (Some(node), Some(remote)) = (&slot.node, &slot.remote) else {
                continue;
            };
            if slot.paused {
                continue;
            }
            // A node's writes may wake its own tasks (a full queue drained),
            // so run until it neither runs nor writes.
            let mut steps = 0;
            loop {
                let done = node.run_at_most(MAX_BUSY_STEPS);
                steps += done;
                let stepped = done > 0;
                let mut wrote = false;
                while let Ok(line) = remote.from_node.try_recv() {
                    events.push(Event::Line { node: index, line });
                    wrote = true;
                }
                ran |= stepped || wrote;
                if !stepped && !wrote || steps >= MAX_BUSY_STEPS {
                    break;
                }
            }
            let spun = slot.spun.get();
            if steps >= MAX_BUSY_STEPS || spun {
                slot.ended = Some(if spun {
                    format!("never waited: it read its clock {} times at one virtual instant (a loop waiting for the clock to move without sleeping)", crate::clock::MAX_READS_AT_ONE_INSTANT)
                } else {
                    format!("never waited: it ran {MAX_BUSY_STEPS} steps at one virtual instant (a busy loop)")
                });
                events.push(Event::Closed { node: index });
                slot.node = None;
                slot.remote = None;
                ran = true;
                continue;
            }
            if node.is_finished() {
                events.push(Event::Closed { node: index });
                slot.node = None;
                ran = true;
            }
        }
        ran
    }
}

impl<F, N, How> Cluster for InProcess<F, N, How>
where
    F: Fn() -> N,
    N: Start<How> + 'static,
    How: 'static,
{
    fn now(&self) -> Time {
        self.time.now()
    }

    fn send(&mut self, node: usize, line: String) {
        if let Some(remote) = &self.slots[node].remote {
            let _ = remote.to_node.try_send(line);
        }
    }

    fn wait(&mut self, until: Time, events: &mut Vec<Event>) {
        loop {
            self.run_nodes(events);
            if !events.is_empty() || self.time.now() >= until {
                return;
            }
            // Every node waits: jump to the next timer, or to `until`.
            let next = self.time.next_deadline().map_or(until, |t| t.min(until));
            self.time.advance_to(next);
        }
    }

    fn ending(&mut self, node: usize) -> String {
        let slot = &self.slots[node];
        match (&slot.ended, &slot.node) {
            (Some(why), _) => why.clone(),
            (None, Some(_)) => "is running".to_owned(),
            (None, None) => "stopped: its input loop ended".to_owned(),
        }
    }

    fn kill(&mut self, node: usize) {
        let slot = &mut self.slots[node];
        slot.node = None;
        slot.remote = None;
    }

    fn restart(&mut self, node: usize) -> Result<(), String> {
        self.slots[node].ended = None;
        self.boot(node);
        Ok(())
    }

    fn pause(&mut self, node: usize) {
        self.slots[node].paused = true;
    }

    fn resume(&mut self, node: usize) {
        self.slots[node].paused = false;
    }

    fn stop(&mut self) {
        for slot in &mut self.slots {
            slot.node = None;
            slot.remote = None;
        }
    }
}
