//! Raft consensus (Ongaro and Ousterhout, "In Search of an Understandable
//! Consensus Algorithm", 2014) as a state machine with no I/O: messages go
//! in with [`Raft::receive`], proposals with [`Raft::propose`] and reads
//! with [`Raft::read`]; messages to send come out of
//! [`Raft::take_messages`], committed entries and servable reads out of
//! [`Raft::take_events`], and [`Raft::next_wakeup`] says when
//! [`Raft::tick`] has timers to run. The clock is a value passed in and
//! randomness comes from a seed, so a test drives a whole cluster through
//! any schedule it likes (`sim.rs` does, with partitions, drops,
//! duplicates and reordering, and checks the paper's safety properties).
//!
//! What it adds to the paper's core, each for availability under
//! partitions:
//! - Pre-vote (thesis §9.6): a node whose election timer fires first asks
//!   whether it would win, without raising its term, so a node cut off for
//!   a while cannot depose a healthy leader when it comes back.
//! - Leases against disruption (thesis §4.2.3): a follower that heard from
//!   its leader within the minimum election timeout, and a leader that heard
//!   from a majority within it, refuse votes.
//! - Check-quorum: a leader that has not heard from a majority within the
//!   minimum election timeout steps down, so requests it could not commit
//!   are turned away quickly instead of waiting.
//! - Linearizable reads with a read index (thesis §6.4): a read waits until
//!   the leader has committed an entry of its term, has heard from a
//!   majority in a round that started after the read arrived, and has
//!   applied the entries committed when the read arrived. No clock leases.
//! - Batching: each follower has at most one append in flight; entries
//!   that arrive meanwhile, or within [`Timing::batch`] of the last append,
//!   go together in the next one (at most [`Timing::max_batch`] entries).
//!
//! There is no persistence (a node that restarts starts empty, which Raft
//! does not allow) and no log compaction.
//!
//! ```
//! use std::time::Duration;
//! use challenges::raft::{Event, Raft, Timing};
//!
//! // One node is a majority of one: it leads at once and commits alone.
//! let mut raft = Raft::new(0, 1, Timing::default(), 7, Duration::ZERO);
//! let (index, _term) = raft.propose(Duration::ZERO, "x").unwrap();
//! let applied: Vec<_> = raft
//!     .take_events()
//!     .into_iter()
//!     .filter_map(|e| match e {
//!         Event::Apply { index, command: Some(c), .. } => Some((index, c)),
//!         _ => None,
//!     })
//!     .collect();
//! assert_eq!(applied, [(index, "x")]);
//! ```

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

mod log;
mod message;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;

pub use log::{Entry, Log};
pub use message::Message;

/// The timers and batch sizes of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// A leader sends each follower something at least this often.
    pub heartbeat: Duration,
    /// The minimum election timeout: a follower waits a random time in
    /// `[election, 2 × election)` without hearing from a leader before it
    /// stands; leases and check-quorum use `election` itself.
    pub election: Duration,
    /// The least time between two appends to one follower while it has no
    /// append outstanding (entries that arrive meanwhile are batched).
    pub batch: Duration,
    /// The most entries in one append.
    pub max_batch: usize,
}

impl Default for Timing {
    /// For networks with latencies of a few milliseconds: heartbeats every
    /// 50 ms, elections after 150 to 300 ms of silence, batches every 10 ms
    /// at most.
    fn default() -> Self {
        Timing {
            heartbeat: Duration::from_millis(50),
            election: Duration::from_millis(150),
            batch: Duration::from_millis(10),
            max_batch: 256,
        }
    }
}

/// Something the node's owner must act on, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<C> {
    /// The entry at `index`, appended in `term`, is committed: apply its
    /// command (`None`: a leader's no-op). A proposal accepted as
    /// (`index`, `term'`) with another term than `term` was overwritten and
    /// never commits.
    Apply {
        index: u64,
        term: u64,
        command: Option<C>,
    },
    /// Read `id` may be answered from the state machine now: every entry
    /// committed before the read arrived has been applied (by the events
    /// before this one), and this node was still the leader after it
    /// arrived.
    Read { id: u64 },
    /// Read `id` will not be confirmed: this node stopped leading.
    ReadFailed { id: u64 },
}

/// A deliberate bug a test can plant in a node, to show that the tests
/// catch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bug {
    /// Votes for a second candidate in a term.
    VoteTwice,
    /// Votes without the election restriction (logs at least as up to date).
    VoteForStaleLogs,
    /// Commits by counting replicas of entries of earlier terms (§5.4.2).
    CommitOldTerms,
    /// Serves reads without hearing from a majority first.
    ReadsWithoutQuorum,
}

/// The answer to a proposal or read made to a node that is not the leader;
/// [`Raft::leader_hint`] says where to go instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotLeader;

/// One Raft node: node `me` of the nodes `0..size`.
#[derive(Debug)]
pub struct Raft<C> {
    me: usize,
    size: usize,
    timing: Timing,
    rng: fastrand::Rng,
    term: u64,
    voted_for: Option<usize>,
    log: Log<C>,
    commit: u64,
    /// The last index handed out in an `Apply` event.
    applied: u64,
    role: Role,
    /// The leader of the current term, once heard from.
    leader: Option<usize>,
    /// The last leader known, of this term or an earlier one.
    hint: Option<usize>,
    /// When the leader of the current term was last heard from.
    leader_contact: Option<Duration>,
    election_deadline: Duration,
    next_read: u64,
    outbox: Vec<(usize, Message<C>)>,
    events: Vec<Event<C>>,
    /// A deliberate bug, to show that the tests catch it.
    #[cfg(test)]
    bug: Option<Bug>,
}

#[derive(Debug)]
enum Role {
    Follower,
    PreCandidate { granted: BTreeSet<usize> },
    Candidate { granted: BTreeSet<usize> },
    Leader(Leadership),
}

/// A leader's state.
#[derive(Debug)]
struct Leadership {
    since: Duration,
    /// The index of the no-op that opened this term.
    first_index: u64,
    /// One per node (the leader's own is unused).
    peers: Vec<Progress>,
    /// The number of the latest round of appends.
    round: u64,
    /// Whether a read waits for a round that has not started.
    round_wanted: bool,
    reads: VecDeque<PendingRead>,
}

/// What a leader knows of one follower.
#[derive(Debug, Clone)]
struct Progress {
    /// The next entry to send.
    next: u64,
    /// The follower's log matches the leader's up to here.
    matched: u64,
    /// When the append now outstanding was sent.
    in_flight: Option<Duration>,
    last_sent: Option<Duration>,
    sent_round: u64,
    acked_round: u64,
    last_ack: Duration,
}

#[derive(Debug)]
struct PendingRead {
    id: u64,
    /// Served once applied up to here.
    index: u64,
    /// Served once a majority answered this round (or a later one).
    round: u64,
}

impl<C: Clone> Raft<C> {
    /// Node `me` of a cluster of `size` nodes (`me < size`), a follower in
    /// term 0 at time `now`, with its election timer drawn from `seed`. A
    /// cluster of one leads at once.
    pub fn new(me: usize, size: usize, timing: Timing, seed: u64, now: Duration) -> Self {
        let size = size.max(1);
        let mut raft = Raft {
            me: me.min(size - 1),
            size,
            timing,
            rng: fastrand::Rng::with_seed(seed),
            term: 0,
            voted_for: None,
            log: Log::default(),
            commit: 0,
            applied: 0,
            role: Role::Follower,
            leader: None,
            hint: None,
            leader_contact: None,
            election_deadline: now,
            next_read: 0,
            outbox: Vec::new(),
            events: Vec::new(),
            #[cfg(test)]
            bug: None,
        };
        raft.reset_election_timer(now);
        if size == 1 {
            raft.start_pre_vote(now);
            raft.flush(now);
        }
        raft
    }

    /// Appends `command` to the log if this node leads; returns its index
    /// and term, which an [`Event::Apply`] of the same index and term
    /// confirms.
    pub fn propose(&mut self, now: Duration, command: C) -> Result<(u64, u64), NotLeader> {
        if !self.is_leader() {
            return Err(NotLeader);
        }
        let index = self.log.push(Entry {
            term: self.term,
            command: Some(command),
        });
        self.flush(now);
        Ok((index, self.term))
    }

    /// Registers a linearizable read if this node leads; an
    /// [`Event::Read`] or [`Event::ReadFailed`] with the id returned
    /// follows.
    pub fn read(&mut self, now: Duration) -> Result<u64, NotLeader> {
        let commit = self.commit;
        let Role::Leader(lead) = &mut self.role else {
            return Err(NotLeader);
        };
        let id = self.next_read;
        self.next_read += 1;
        lead.reads.push_back(PendingRead {
            id,
            index: commit.max(lead.first_index),
            round: lead.round + 1,
        });
        lead.round_wanted = true;
        self.flush(now);
        Ok(id)
    }

    /// Takes a message from node `from` (messages from unknown nodes or
    /// from itself are ignored).
    pub fn receive(&mut self, now: Duration, from: usize, message: Message<C>) {
        if from >= self.size || from == self.me {
            return;
        }
        match message {
            Message::RequestVote {
                term,
                pre,
                last_index,
                last_term,
            } => self.on_request_vote(now, from, term, pre, (last_index, last_term)),
            Message::Vote { term, pre, granted } => self.on_vote(now, from, term, pre, granted),
            Message::Append {
                term,
                prev_index,
                prev_term,
                entries,
                commit,
                round,
            } => {
                let append = AppendArgs {
                    prev_index,
                    prev_term,
                    entries,
                    commit,
                    round,
                };
                self.on_append(now, from, term, append);
            }
            Message::Appended {
                term,
                ok,
                last,
                round,
            } => self.on_appended(now, from, term, ok, last, round),
        }
        self.flush(now);
    }

    /// Runs the timers due at `now`: elections, heartbeats, resends,
    /// batches, and the leader's check that a majority still answers.
    pub fn tick(&mut self, now: Duration) {
        match &self.role {
            Role::Leader(lead) => {
                if now >= lead.since + self.timing.election && !self.has_quorum_contact(now) {
                    self.become_follower(now, self.term, None);
                }
            }
            _ => {
                if now >= self.election_deadline {
                    self.start_pre_vote(now);
                }
            }
        }
        self.flush(now);
    }

    /// The earliest time at which [`Raft::tick`] has something to do.
    pub fn next_wakeup(&self) -> Duration {
        let Role::Leader(lead) = &self.role else {
            return self.election_deadline;
        };
        let timing = &self.timing;
        let wanted_round = lead.reads.back().map_or(0, |r| r.round);
        let mut acks = Vec::new();
        let mut wakeup = Duration::MAX;
        for (peer, p) in lead.peers.iter().enumerate() {
            if peer == self.me {
                continue;
            }
            acks.push(p.last_ack);
            let Some(last_sent) = p.last_sent else {
                return lead.since;
            };
            wakeup = wakeup.min(last_sent + timing.heartbeat);
            if p.next <= self.log.last_index() || p.sent_round < wanted_round {
                let free = match p.in_flight {
                    Some(sent) => sent + timing.heartbeat,
                    None => last_sent + timing.batch,
                };
                wakeup = wakeup.min(free);
            }
        }
        // When contact with a majority lapses, unless renewed.
        acks.sort_unstable_by(|a, b| b.cmp(a));
        if let Some(&ack) = acks.get(self.majority().saturating_sub(2)) {
            wakeup = wakeup.min((ack + timing.election).max(lead.since + timing.election));
        }
        wakeup
    }

    /// The messages to send, with the index of the node each goes to.
    pub fn take_messages(&mut self) -> Vec<(usize, Message<C>)> {
        std::mem::take(&mut self.outbox)
    }

    /// What happened since the last call, in order.
    pub fn take_events(&mut self) -> Vec<Event<C>> {
        std::mem::take(&mut self.events)
    }

    /// Whether this node leads (as far as it knows).
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }

    /// The leader of the current term, if known.
    pub fn leader(&self) -> Option<usize> {
        self.leader
    }

    /// The last leader this node knew of, maybe of an earlier term: where
    /// to send requests when [`Raft::leader`] is unknown.
    pub fn leader_hint(&self) -> Option<usize> {
        self.leader.or(self.hint)
    }

    /// The current term.
    pub fn term(&self) -> u64 {
        self.term
    }

    /// The highest index known to be committed.
    pub fn commit_index(&self) -> u64 {
        self.commit
    }

    /// The log.
    pub fn log(&self) -> &Log<C> {
        &self.log
    }

    /// Whether a test planted `bug` in this node (never outside tests).
    #[cfg(test)]
    fn has_bug(&self, bug: Bug) -> bool {
        self.bug == Some(bug)
    }

    #[cfg(not(test))]
    fn has_bug(&self, _: Bug) -> bool {
        false
    }

    fn majority(&self) -> usize {
        self.size / 2 + 1
    }

    fn send(&mut self, to: usize, message: Message<C>) {
        self.outbox.push((to, message));
    }

    fn on_request_vote(
        &mut self,
        now: Duration,
        from: usize,
        term: u64,
        pre: bool,
        (last_index, last_term): (u64, u64),
    ) {
        let refuse = Message::Vote {
            term: self.term,
            pre,
            granted: false,
        };
        if term < self.term || self.in_lease(now) {
            return self.send(from, refuse);
        }
        let up_to_date = self.log.is_behind_or_equal(last_index, last_term)
            || self.has_bug(Bug::VoteForStaleLogs);
        if pre {
            // The pre-vote changes nothing here.
            let granted = up_to_date;
            return self.send(from, Message::Vote { term, pre, granted });
        }
        if term > self.term {
            self.become_follower(now, term, None);
        }
        let free = self.voted_for.is_none_or(|v| v == from) || self.has_bug(Bug::VoteTwice);
        let granted = up_to_date && free;
        if granted {
            self.voted_for = Some(from);
            self.reset_election_timer(now);
        }
        let term = self.term;
        self.send(from, Message::Vote { term, pre, granted });
    }

    fn on_vote(&mut self, now: Duration, from: usize, term: u64, pre: bool, granted: bool) {
        // A granted pre-vote carries the term asked about, not the voter's.
        if term > self.term && !(pre && granted) {
            return self.become_follower(now, term, None);
        }
        let majority = self.majority();
        match &mut self.role {
            Role::PreCandidate { granted: votes } if pre && granted && term == self.term + 1 => {
                votes.insert(from);
                if votes.len() >= majority {
                    self.start_election(now);
                }
            }
            Role::Candidate { granted: votes } if !pre && granted && term == self.term => {
                votes.insert(from);
                if votes.len() >= majority {
                    self.become_leader(now);
                }
            }
            _ => {}
        }
    }

    fn on_append(&mut self, now: Duration, from: usize, term: u64, append: AppendArgs<C>) {
        let round = append.round;
        if term < self.term {
            let term = self.term;
            return self.send(
                from,
                Message::Appended {
                    term,
                    ok: false,
                    last: 0,
                    round,
                },
            );
        }
        if term == self.term && self.is_leader() {
            // Two leaders of one term: impossible unless votes were forged.
            return;
        }
        if term > self.term || !matches!(self.role, Role::Follower) {
            self.become_follower(now, term, Some(from));
        }
        self.leader = Some(from);
        self.hint = Some(from);
        self.leader_contact = Some(now);
        self.reset_election_timer(now);
        let (ok, last) = match self.log.term_at(append.prev_index) {
            None => (false, self.log.last_index()),
            Some(t) if t != append.prev_term => (false, self.log.before_term_of(append.prev_index)),
            Some(_) => {
                let last = self.log.merge(append.prev_index, append.entries);
                self.commit = self.commit.max(append.commit.min(last));
                (true, last)
            }
        };
        self.send(
            from,
            Message::Appended {
                term,
                ok,
                last,
                round,
            },
        );
    }

    fn on_appended(
        &mut self,
        now: Duration,
        from: usize,
        term: u64,
        ok: bool,
        last: u64,
        round: u64,
    ) {
        if term > self.term {
            return self.become_follower(now, term, None);
        }
        let last_index = self.log.last_index();
        let Role::Leader(lead) = &mut self.role else {
            return;
        };
        if term < self.term {
            return;
        }
        let p = &mut lead.peers[from];
        p.last_ack = now;
        p.acked_round = p.acked_round.max(round.min(lead.round));
        p.in_flight = None;
        let last = last.min(last_index);
        if ok {
            p.matched = p.matched.max(last);
            p.next = p.next.max(last + 1);
        } else {
            p.next = p.next.min(last + 1).max(p.matched + 1);
        }
    }

    /// Commits, replicates, applies and serves what can be, after any
    /// change.
    fn flush(&mut self, now: Duration) {
        if self.is_leader() {
            self.advance_commit();
            self.replicate(now);
        }
        while self.applied < self.commit {
            let Some(entry) = self.log.entry(self.applied + 1) else {
                break;
            };
            self.applied += 1;
            self.events.push(Event::Apply {
                index: self.applied,
                term: entry.term,
                command: entry.command.clone(),
            });
        }
        self.serve_reads();
    }

    /// Commits the highest index a majority holds, if it is of this term
    /// (§5.4.2: entries of earlier terms commit only beneath it).
    fn advance_commit(&mut self) {
        let Role::Leader(lead) = &self.role else {
            return;
        };
        let mut matched: Vec<u64> = (0..self.size)
            .map(|n| {
                if n == self.me {
                    self.log.last_index()
                } else {
                    lead.peers[n].matched
                }
            })
            .collect();
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let index = matched[self.majority() - 1];
        let of_this_term =
            self.log.term_at(index) == Some(self.term) || self.has_bug(Bug::CommitOldTerms);
        if index > self.commit && of_this_term {
            self.commit = index;
        }
    }

    /// Sends an append to each follower that is due one: with entries or a
    /// round it lacks once the batch interval has passed and nothing is
    /// outstanding (or what is has been lost for a heartbeat), otherwise a
    /// heartbeat.
    fn replicate(&mut self, now: Duration) {
        let (me, term, commit, timing) = (self.me, self.term, self.commit, self.timing);
        let Role::Leader(lead) = &mut self.role else {
            return;
        };
        let wanted_round = lead.reads.back().map_or(0, |r| r.round);
        for peer in 0..self.size {
            if peer == me {
                continue;
            }
            let p = &lead.peers[peer];
            let news = p.next <= self.log.last_index() || p.sent_round < wanted_round;
            let idle = p.last_sent.map_or(Duration::MAX, |t| now.saturating_sub(t));
            let free = match p.in_flight {
                Some(sent) => now.saturating_sub(sent) >= timing.heartbeat,
                None => idle >= timing.batch,
            };
            if idle >= timing.heartbeat || (news && free) {
                let message =
                    append_for(&self.log, lead, peer, term, commit, timing.max_batch, now);
                self.outbox.push((peer, message));
            }
        }
    }

    /// Hands out the reads that are confirmed and applied, in order.
    fn serve_reads(&mut self) {
        let (me, majority, applied) = (self.me, self.majority(), self.applied);
        let unchecked = self.has_bug(Bug::ReadsWithoutQuorum);
        let Role::Leader(lead) = &mut self.role else {
            return;
        };
        while let Some(read) = lead.reads.front() {
            let acks = 1
                + (lead.peers.iter().enumerate())
                    .filter(|(n, p)| *n != me && p.acked_round >= read.round)
                    .count();
            if (acks < majority && !unchecked) || read.index > applied {
                break;
            }
            self.events.push(Event::Read { id: read.id });
            lead.reads.pop_front();
        }
    }

    /// Whether a leader heard from a majority (itself included) within the
    /// minimum election timeout.
    fn has_quorum_contact(&self, now: Duration) -> bool {
        let Role::Leader(lead) = &self.role else {
            return false;
        };
        let recent = (lead.peers.iter().enumerate())
            .filter(|(n, p)| *n != self.me && now.saturating_sub(p.last_ack) < self.timing.election)
            .count();
        1 + recent >= self.majority()
    }

    /// Whether this node refuses votes: it heard from a live leader (or,
    /// leading, from a majority) within the minimum election timeout.
    fn in_lease(&self, now: Duration) -> bool {
        match self.role {
            Role::Leader(_) => self.has_quorum_contact(now),
            Role::Follower => self
                .leader_contact
                .is_some_and(|heard| now.saturating_sub(heard) < self.timing.election),
            _ => false,
        }
    }

    fn reset_election_timer(&mut self, now: Duration) {
        let spread = self.timing.election.as_nanos() as u64;
        let extra = Duration::from_nanos(self.rng.u64(..spread.max(1)));
        self.election_deadline = now + self.timing.election + extra;
    }

    fn start_pre_vote(&mut self, now: Duration) {
        self.role = Role::PreCandidate {
            granted: BTreeSet::from([self.me]),
        };
        self.leader = None;
        self.leader_contact = None;
        self.reset_election_timer(now);
        self.ask_for_votes(self.term + 1, true);
        if self.majority() == 1 {
            self.start_election(now);
        }
    }

    fn start_election(&mut self, now: Duration) {
        self.term += 1;
        self.voted_for = Some(self.me);
        self.leader = None;
        self.role = Role::Candidate {
            granted: BTreeSet::from([self.me]),
        };
        self.reset_election_timer(now);
        self.ask_for_votes(self.term, false);
        if self.majority() == 1 {
            self.become_leader(now);
        }
    }

    fn ask_for_votes(&mut self, term: u64, pre: bool) {
        let (last_index, last_term) = (self.log.last_index(), self.log.last_term());
        let me = self.me;
        for peer in (0..self.size).filter(|&n| n != me) {
            let message = Message::RequestVote {
                term,
                pre,
                last_index,
                last_term,
            };
            self.send(peer, message);
        }
    }

    fn become_leader(&mut self, now: Duration) {
        let next = self.log.last_index() + 1;
        let first_index = self.log.push(Entry {
            term: self.term,
            command: None,
        });
        let progress = Progress {
            next,
            matched: 0,
            in_flight: None,
            last_sent: None,
            sent_round: 0,
            acked_round: 0,
            last_ack: now,
        };
        self.role = Role::Leader(Leadership {
            since: now,
            first_index,
            peers: vec![progress; self.size],
            round: 0,
            round_wanted: false,
            reads: VecDeque::new(),
        });
        self.leader = Some(self.me);
        self.hint = Some(self.me);
    }

    /// Becomes a follower of `term` (which may be the current one) and of
    /// `leader` if known; a leader's pending reads fail.
    fn become_follower(&mut self, now: Duration, term: u64, leader: Option<usize>) {
        if let Role::Leader(lead) = std::mem::replace(&mut self.role, Role::Follower) {
            let failed = lead
                .reads
                .into_iter()
                .map(|r| Event::ReadFailed { id: r.id });
            self.events.extend(failed);
            self.hint = None;
        }
        if term > self.term {
            self.term = term;
            self.voted_for = None;
            self.leader_contact = None;
        }
        self.leader = leader;
        if leader.is_some() {
            self.hint = leader;
        }
        self.reset_election_timer(now);
    }
}

/// The fields of an `Append` after the term.
struct AppendArgs<C> {
    prev_index: u64,
    prev_term: u64,
    entries: Vec<Entry<C>>,
    commit: u64,
    round: u64,
}

/// The append a leader sends `peer` now, starting a new round if a read
/// waits for one.
fn append_for<C: Clone>(
    log: &Log<C>,
    lead: &mut Leadership,
    peer: usize,
    term: u64,
    commit: u64,
    max_batch: usize,
    now: Duration,
) -> Message<C> {
    if lead.round_wanted {
        lead.round += 1;
        lead.round_wanted = false;
    }
    let p = &mut lead.peers[peer];
    p.next = p.next.clamp(1, log.last_index() + 1);
    let prev_index = p.next - 1;
    p.in_flight = Some(now);
    p.last_sent = Some(now);
    p.sent_round = lead.round;
    Message::Append {
        term,
        prev_index,
        prev_term: log.term_at(prev_index).unwrap_or(0),
        entries: log.entries_from(p.next, max_batch),
        commit,
        round: lead.round,
    }
}
