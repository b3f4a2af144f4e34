//! A simulated cluster for the Raft core's tests: virtual time with clocks
//! that drift apart (each node's runs at 0.7 to 1.3 times the true rate), a
//! network that drops, duplicates, delays and reorders messages and
//! partitions the nodes (also one way), clients that propose and read at
//! random nodes (sent on to the node's leader hint, as the `raft` binary
//! forwards them), and checks of Raft's safety properties after every step:
//!
//! - election safety: at most one leader per term;
//! - log matching: two logs with an entry of the same index and term are
//!   identical up to it;
//! - leader completeness: a leader holds every entry committed in earlier
//!   terms when it takes office;
//! - state-machine safety: no two nodes apply different entries at one
//!   index (and each applies indexes in order, without gaps);
//! - read safety: a read is served only once every entry applied anywhere
//!   when it arrived is applied at the serving node.
//!
//! Nodes also pause now and then, as a process stopped by the scheduler or
//! a collector does: what reaches a paused node waits, and when it resumes
//! it takes its messages and requests in the order they came, then runs its
//! overdue timers (so a deposed leader can meet a read before its timers
//! tell it anything: what breaks reads on clock leases).
//!
//! A run ends with five calm seconds (no faults, then one without new
//! requests), after which every node must have applied the same entries,
//! including commands proposed after the calm began: a cluster that never
//! commits cannot pass.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::{Bug, Event, Message, Raft, Timing};

/// What the network does to messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Faults {
    /// The probability that a message is lost.
    pub drop: f64,
    /// The probability that a message is delivered twice.
    pub duplicate: f64,
    /// Each copy is delayed uniformly up to this (so messages reorder).
    pub max_delay: Duration,
    /// Whether partitions come and go (about every second).
    pub partitions: bool,
}

/// What reaches a node: a message from a peer, or a client's request.
enum Input {
    Message(usize, Message<u64>),
    Propose,
    Read,
}

/// What a run did, for tests to see that it did something.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub committed: u64,
    pub leaders: usize,
    pub reads: u64,
}

/// The range of clock rates, in thousandths of the true rate.
const DRIFT: std::ops::RangeInclusive<u64> = 700..=1300;
const CALM: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_secs(1);

/// Runs `nodes` nodes for `faulty` seconds of faults and the calm after,
/// with `bug` planted in every node; returns the first violation found.
pub(crate) fn run(
    seed: u64,
    nodes: usize,
    faults: Faults,
    bug: Option<Bug>,
    faulty: Duration,
) -> Result<Report, String> {
    let mut sim = Sim::new(seed, nodes, faults, bug);
    sim.run(faulty)
        .map_err(|violation| format!("seed {seed}, t = {:?}: {violation}", sim.now.as_millis()))?;
    Ok(sim.report)
}

struct Sim {
    rng: fastrand::Rng,
    now: Duration,
    faults: Faults,
    nodes: Vec<Raft<u64>>,
    /// Each node's clock rate, in thousandths of the true rate.
    rates: Vec<u64>,
    /// Messages on the way: (delivery time, sequence) → (from, to, message).
    wire: BTreeMap<(Duration, u64), (usize, usize, Message<u64>)>,
    sent: u64,
    /// `blocked[from][to]`: messages from `from` to `to` are lost.
    blocked: Vec<Vec<bool>>,
    /// Per node: when it resumes, if paused, and what waits for it.
    paused_until: Vec<Option<Duration>>,
    held: Vec<Vec<Input>>,
    next_command: u64,
    // What the checks remember.
    leader_of_term: HashMap<u64, usize>,
    was_leader: Vec<bool>,
    applied: Vec<u64>,
    /// The entries applied so far, by index - 1: (term, command).
    history: Vec<(u64, Option<u64>)>,
    /// By index - 1: the term of the leader that first applied it.
    committed_in: Vec<u64>,
    /// (node, read id) → entries applied anywhere when the read arrived.
    reads: HashMap<(usize, u64), u64>,
    report: Report,
}

impl Sim {
    fn new(seed: u64, size: usize, faults: Faults, bug: Option<Bug>) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        // Batches of one entry or a few explore replies that acknowledge
        // part of a leader's log.
        let timing = Timing {
            heartbeat: Duration::from_millis(50),
            election: Duration::from_millis(150),
            batch: Duration::from_millis(rng.u64(0..=10)),
            max_batch: [8, 256][rng.usize(..2)],
        };
        let nodes = (0..size)
            .map(|n| {
                let mut raft = Raft::new(n, size, timing, seed * 1000 + n as u64, Duration::ZERO);
                raft.bug = bug;
                raft
            })
            .collect();
        let rates = (0..size).map(|_| rng.u64(DRIFT)).collect();
        Sim {
            rng,
            rates,
            now: Duration::ZERO,
            faults,
            nodes,
            wire: BTreeMap::new(),
            sent: 0,
            blocked: vec![vec![false; size]; size],
            paused_until: vec![None; size],
            held: (0..size).map(|_| Vec::new()).collect(),
            next_command: 1,
            leader_of_term: HashMap::new(),
            was_leader: vec![false; size],
            applied: vec![0; size],
            history: Vec::new(),
            committed_in: Vec::new(),
            reads: HashMap::new(),
            report: Report::default(),
        }
    }

    fn run(&mut self, faulty: Duration) -> Result<(), String> {
        let end = faulty + CALM;
        let mut next_client = Duration::ZERO;
        let mut next_partition = if self.faults.partitions {
            self.millis(0..1000)
        } else {
            Duration::MAX
        };
        let mut calm = false;
        let mut first_calm_command = None;
        let mut steps = 0u64;
        let mut stuck_at = (Duration::ZERO, 0u64);
        loop {
            let next_message = self.wire.keys().next().map_or(Duration::MAX, |k| k.0);
            let next_timer = (0..self.nodes.len())
                .map(|n| self.wakeup(n))
                .min()
                .unwrap_or(Duration::MAX);
            let next_resume = self.paused_until.iter().flatten().min().copied();
            let next_resume = next_resume.unwrap_or(Duration::MAX);
            let next = next_message
                .min(next_timer)
                .min(next_client)
                .min(next_partition)
                .min(next_resume);
            if next >= end {
                break;
            }
            self.now = self.now.max(next);
            if !calm && self.now >= faulty {
                calm = true;
                self.faults.drop = 0.0;
                self.faults.duplicate = 0.0;
                self.heal();
                next_partition = Duration::MAX;
                first_calm_command = Some(self.next_command);
            }
            if next == next_resume {
                let n = (self.paused_until.iter())
                    .position(|p| *p == Some(next))
                    .expect("a paused node");
                self.resume(n)?;
            } else if next == next_message {
                let ((_, _), (from, to, message)) = self.wire.pop_first().expect("a message");
                if !self.blocked[from][to] {
                    self.input(to, Input::Message(from, message))?;
                }
            } else if next == next_timer {
                for n in 0..self.nodes.len() {
                    if self.wakeup(n) <= self.now {
                        let local = self.local(n);
                        self.nodes[n].tick(local);
                        self.after(n)?;
                    }
                }
            } else if next == next_client {
                self.client_request()?;
                next_client = if self.now + QUIET < end {
                    self.now + self.millis(1..15)
                } else {
                    Duration::MAX
                };
            } else {
                self.repartition();
                if self.rng.f64() < 0.3 {
                    let n = self.rng.usize(..self.nodes.len());
                    let pause = self.millis(100..1000);
                    self.paused_until[n].get_or_insert(self.now + pause);
                }
                next_partition = self.now + self.millis(0..2000);
            }
            steps += 1;
            if self.now == stuck_at.0 {
                stuck_at.1 += 1;
                if stuck_at.1 > 100_000 {
                    return Err(
                        "the simulation makes no progress: a timer that never fires".to_owned()
                    );
                }
            } else {
                stuck_at = (self.now, 0);
            }
            if steps % 500 == 0 {
                self.check_log_matching()?;
            }
        }
        self.check_log_matching()?;
        self.check_convergence(first_calm_command)
    }

    /// The time on node `n`'s clock.
    fn local(&self, n: usize) -> Duration {
        let nanos = self.now.as_nanos() * u128::from(self.rates[n]) / 1000;
        Duration::from_nanos(nanos as u64)
    }

    /// When node `n`'s next timer is due, in true time (rounded up, so that
    /// its clock has reached it then).
    fn wakeup(&self, n: usize) -> Duration {
        let local = self.nodes[n].next_wakeup();
        if local == Duration::MAX || self.paused_until[n].is_some() {
            return Duration::MAX;
        }
        let rate = u128::from(self.rates[n]);
        Duration::from_nanos((local.as_nanos() * 1000).div_ceil(rate) as u64)
    }

    /// A uniform random duration of whole milliseconds in `range`.
    fn millis(&mut self, range: std::ops::Range<u64>) -> Duration {
        Duration::from_millis(self.rng.u64(range))
    }

    fn client_request(&mut self) -> Result<(), String> {
        let mut n = self.rng.usize(..self.nodes.len());
        if !self.nodes[n].is_leader() {
            n = self.nodes[n].leader_hint().unwrap_or(n);
        }
        let input = if self.rng.f64() < 0.7 {
            Input::Propose
        } else {
            Input::Read
        };
        self.input(n, input)
    }

    /// Hands node `n` a message or a request, or keeps it for later if `n`
    /// is paused.
    fn input(&mut self, n: usize, input: Input) -> Result<(), String> {
        if self.paused_until[n].is_some() {
            self.held[n].push(input);
            return Ok(());
        }
        let local = self.local(n);
        match input {
            Input::Message(from, message) => self.nodes[n].receive(local, from, message),
            Input::Propose => {
                let command = self.next_command;
                if self.nodes[n].propose(local, command).is_ok() {
                    self.next_command += 1;
                }
            }
            Input::Read => {
                if let Ok(id) = self.nodes[n].read(local) {
                    self.reads.insert((n, id), self.history.len() as u64);
                }
            }
        }
        self.after(n)
    }

    /// Ends node `n`'s pause: what came meanwhile, in order, then the
    /// timers.
    fn resume(&mut self, n: usize) -> Result<(), String> {
        self.paused_until[n] = None;
        for input in std::mem::take(&mut self.held[n]) {
            self.input(n, input)?;
        }
        let local = self.local(n);
        self.nodes[n].tick(local);
        self.after(n)
    }

    fn heal(&mut self) {
        for row in &mut self.blocked {
            row.fill(false);
        }
    }

    /// Heals a partitioned network, or partitions a healed one in one of
    /// four shapes: one node cut off, two random sides, a one-way ring, or
    /// random one-way links.
    fn repartition(&mut self) {
        let size = self.nodes.len();
        if self.blocked.iter().flatten().any(|b| *b) {
            return self.heal();
        }
        match self.rng.u8(..4) {
            0 => {
                let alone = self.rng.usize(..size);
                for other in 0..size {
                    self.blocked[alone][other] = other != alone;
                    self.blocked[other][alone] = other != alone;
                }
            }
            1 => {
                let side: Vec<bool> = (0..size).map(|_| self.rng.bool()).collect();
                for a in 0..size {
                    for b in 0..size {
                        self.blocked[a][b] = side[a] != side[b];
                    }
                }
            }
            2 => {
                let mut ring: Vec<usize> = (0..size).collect();
                self.rng.shuffle(&mut ring);
                for i in 0..size {
                    self.blocked[ring[(i + 1) % size]][ring[i]] = size > 1;
                }
            }
            _ => {
                for a in 0..size {
                    for b in 0..size {
                        self.blocked[a][b] = a != b && self.rng.f64() < 0.4;
                    }
                }
            }
        }
    }

    /// Sends node `n`'s messages and checks its events and role.
    fn after(&mut self, n: usize) -> Result<(), String> {
        for (to, message) in self.nodes[n].take_messages() {
            self.transmit(n, to, message);
        }
        for event in self.nodes[n].take_events() {
            self.check_event(n, event)?;
        }
        let raft = &self.nodes[n];
        if raft.is_leader() {
            let term = raft.term();
            let leader = *self.leader_of_term.entry(term).or_insert(n);
            if leader != n {
                return Err(format!(
                    "election safety: n{leader} and n{n} both lead term {term}"
                ));
            }
            if !self.was_leader[n] {
                self.report.leaders += 1;
                self.check_leader_completeness(n)?;
            }
        }
        self.was_leader[n] = raft.is_leader();
        Ok(())
    }

    fn transmit(&mut self, from: usize, to: usize, message: Message<u64>) {
        if to >= self.nodes.len() || self.blocked[from][to] || self.rng.f64() < self.faults.drop {
            return;
        }
        let copies = if self.rng.f64() < self.faults.duplicate {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let max = self.faults.max_delay.as_micros() as u64;
            let delay = Duration::from_micros(self.rng.u64(..=max));
            self.sent += 1;
            let key = (self.now + delay, self.sent);
            self.wire.insert(key, (from, to, message.clone()));
        }
    }

    fn check_event(&mut self, n: usize, event: Event<u64>) -> Result<(), String> {
        match event {
            Event::Apply {
                index,
                term,
                command,
            } => {
                if index != self.applied[n] + 1 {
                    return Err(format!(
                        "n{n} applied index {index} after {}",
                        self.applied[n]
                    ));
                }
                self.applied[n] = index;
                match self.history.get(index as usize - 1) {
                    Some(&first) if first != (term, command) => {
                        return Err(format!(
                            "state-machine safety: n{n} applied {:?} at index {index}, another node {first:?}",
                            (term, command)
                        ));
                    }
                    Some(_) => {}
                    None => {
                        let leader_term = if self.nodes[n].is_leader() {
                            self.nodes[n].term()
                        } else {
                            u64::MAX // learned by a follower first: no term to hold to
                        };
                        self.history.push((term, command));
                        self.committed_in.push(leader_term);
                        self.report.committed += 1;
                    }
                }
            }
            Event::Read { id } => {
                let needed = self.reads.remove(&(n, id)).ok_or("an unknown read")?;
                if self.applied[n] < needed {
                    return Err(format!(
                        "read safety: n{n} served a read at index {} when {needed} entries were applied elsewhere",
                        self.applied[n]
                    ));
                }
                self.report.reads += 1;
            }
            Event::ReadFailed { id } => {
                self.reads
                    .remove(&(n, id))
                    .ok_or("an unknown read failed")?;
            }
        }
        Ok(())
    }

    fn check_leader_completeness(&self, n: usize) -> Result<(), String> {
        let raft = &self.nodes[n];
        for (i, (&(term, _), &committed_in)) in
            self.history.iter().zip(&self.committed_in).enumerate()
        {
            let index = i as u64 + 1;
            if committed_in < raft.term() && raft.log().term_at(index) != Some(term) {
                return Err(format!(
                    "leader completeness: n{n} leads term {} without entry {index} (term {term}) committed in term {committed_in}",
                    raft.term()
                ));
            }
        }
        Ok(())
    }

    fn check_log_matching(&self) -> Result<(), String> {
        for a in 0..self.nodes.len() {
            for b in a + 1..self.nodes.len() {
                let (la, lb) = (self.nodes[a].log(), self.nodes[b].log());
                let common = la.last_index().min(lb.last_index());
                let Some(top) = (1..=common).rev().find(|&i| la.term_at(i) == lb.term_at(i)) else {
                    continue;
                };
                if let Some(i) = (1..=top).find(|&i| la.entry(i) != lb.entry(i)) {
                    return Err(format!(
                        "log matching: n{a} and n{b} agree on entry {top} but differ at {i}: {:?} and {:?}",
                        la.entry(i),
                        lb.entry(i)
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_convergence(&self, first_calm_command: Option<u64>) -> Result<(), String> {
        if self.applied.iter().any(|&a| a != self.applied[0]) {
            return Err(format!(
                "liveness: after the calm the nodes applied {:?} entries",
                self.applied
            ));
        }
        let first = first_calm_command.unwrap_or(1);
        if !self
            .history
            .iter()
            .any(|(_, c)| c.is_some_and(|c| c >= first))
        {
            return Err(format!(
                "liveness: nothing proposed in the calm committed ({} entries in all)",
                self.history.len()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NASTY: Faults = Faults {
        drop: 0.1,
        duplicate: 0.1,
        max_delay: Duration::from_millis(30),
        partitions: true,
    };

    const CLEAN: Faults = Faults {
        drop: 0.0,
        duplicate: 0.0,
        max_delay: Duration::from_millis(2),
        partitions: false,
    };

    /// The first violation in `seeds` runs, if any.
    fn first_violation(
        nodes: usize,
        faults: Faults,
        bug: Option<Bug>,
        seeds: u64,
    ) -> Option<String> {
        (0..seeds).find_map(|seed| run(seed, nodes, faults, bug, Duration::from_secs(10)).err())
    }

    #[test]
    fn a_clean_network_elects_one_leader_and_commits_everything() {
        let report = run(1, 3, CLEAN, None, Duration::from_secs(5)).unwrap();
        assert_eq!(report.leaders, 1, "{report:?}");
        assert!(report.committed > 500, "{report:?}");
        assert!(report.reads > 200, "{report:?}");
    }

    #[test]
    fn safety_holds_on_three_nodes_through_partitions_drops_duplicates_and_reordering() {
        for seed in 0..100 {
            let report = run(seed, 3, NASTY, None, Duration::from_secs(10))
                .unwrap_or_else(|v| panic!("{v}"));
            assert!(report.committed > 200, "seed {seed}: {report:?}");
        }
    }

    #[test]
    fn safety_holds_on_five_nodes_through_partitions_drops_duplicates_and_reordering() {
        for seed in 0..100 {
            let report = run(seed, 5, NASTY, None, Duration::from_secs(10))
                .unwrap_or_else(|v| panic!("{v}"));
            assert!(report.committed > 200, "seed {seed}: {report:?}");
        }
    }

    #[test]
    fn the_checks_catch_a_node_that_votes_twice_in_a_term() {
        let violation = first_violation(5, NASTY, Some(Bug::VoteTwice), 40).expect("caught");
        assert!(violation.contains("election safety"), "{violation}");
    }

    #[test]
    fn the_checks_catch_votes_for_candidates_with_stale_logs() {
        let violation = first_violation(5, NASTY, Some(Bug::VoteForStaleLogs), 40).expect("caught");
        assert!(
            violation.contains("leader completeness") || violation.contains("state-machine safety"),
            "{violation}"
        );
    }

    #[test]
    fn the_checks_catch_reads_served_without_a_majority() {
        let violation =
            first_violation(3, NASTY, Some(Bug::ReadsWithoutQuorum), 40).expect("caught");
        assert!(violation.contains("read safety"), "{violation}");
    }
}
