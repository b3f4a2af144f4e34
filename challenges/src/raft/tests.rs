//! Scripted schedules for the rules the randomised simulator (`sim.rs`)
//! meets only by chance.

use std::time::Duration;

use super::{Bug, Entry, Event, Message, NotLeader, Raft, Timing};

const STEP: Duration = Duration::from_millis(5);

/// A cluster whose messages are delivered by hand, at once, over links
/// that can be cut.
struct Cluster {
    nodes: Vec<Raft<u64>>,
    now: Duration,
    wire: Vec<(usize, usize, Message<u64>)>,
    events: Vec<Vec<Event<u64>>>,
    cut: Vec<Vec<bool>>,
    /// The sizes of the appends delivered, by (from, to).
    appends: Vec<(usize, usize, usize)>,
}

impl Cluster {
    fn new(size: usize, timing: Timing) -> Self {
        Cluster {
            nodes: (0..size)
                .map(|n| Raft::new(n, size, timing, 11 + n as u64, Duration::ZERO))
                .collect(),
            now: Duration::ZERO,
            wire: Vec::new(),
            events: vec![Vec::new(); size],
            cut: vec![vec![false; size]; size],
            appends: Vec::new(),
        }
    }

    fn collect(&mut self) {
        for (n, node) in self.nodes.iter_mut().enumerate() {
            for (to, message) in node.take_messages() {
                self.wire.push((n, to, message));
            }
            self.events[n].extend(node.take_events());
        }
    }

    /// Delivers messages, and those they cause, until none is left.
    fn deliver(&mut self) {
        self.collect();
        while !self.wire.is_empty() {
            for (from, to, message) in std::mem::take(&mut self.wire) {
                if !self.cut[from][to] {
                    if let Message::Append { entries, .. } = &message {
                        self.appends.push((from, to, entries.len()));
                    }
                    self.nodes[to].receive(self.now, from, message);
                }
            }
            self.collect();
        }
    }

    /// Lets time pass in small steps, ticking and delivering.
    fn run_for(&mut self, time: Duration) {
        let end = self.now + time;
        while self.now < end {
            self.now += STEP;
            for node in &mut self.nodes {
                node.tick(self.now);
            }
            self.deliver();
        }
    }

    /// Runs step by step until `done` (at most 5 s).
    fn run_until(&mut self, done: impl Fn(&Cluster) -> bool) {
        for _ in 0..1000 {
            if done(self) {
                return;
            }
            self.run_for(STEP);
        }
        panic!("not done after 5 s");
    }

    /// Runs until some node leads; returns it.
    fn leader(&mut self) -> usize {
        self.run_until(|c| c.nodes.iter().any(Raft::is_leader));
        self.nodes
            .iter()
            .position(Raft::is_leader)
            .expect("a leader")
    }

    fn isolate(&mut self, n: usize, isolated: bool) {
        for other in 0..self.nodes.len() {
            if other != n {
                self.cut[n][other] = isolated;
                self.cut[other][n] = isolated;
            }
        }
    }

    fn reads(&self, n: usize) -> Vec<&Event<u64>> {
        (self.events[n].iter())
            .filter(|e| matches!(e, Event::Read { .. } | Event::ReadFailed { .. }))
            .collect()
    }
}

/// §5.4.2 (the paper's figure 8): a leader holding an entry of an earlier
/// term does not commit it on a count of replicas, only beneath an entry of
/// its own term.
fn old_entry_committed_on_count(bug: Option<Bug>) -> bool {
    let timing = Timing {
        max_batch: 1,
        ..Timing::default()
    };
    let mut c = Cluster::new(3, timing);
    for node in &mut c.nodes {
        node.bug = bug;
    }
    let leader = c.leader();
    let (follower, away) = ((leader + 1) % 3, (leader + 2) % 3);
    c.run_for(Duration::from_millis(100));
    // The leader takes an entry that reaches nobody, then everyone is cut
    // off until the leader steps down.
    for n in 0..3 {
        c.isolate(n, true);
    }
    let (old, old_term) = c.nodes[leader].propose(c.now, 7).unwrap();
    c.run_for(Duration::from_millis(400));
    assert!(c.nodes.iter().all(|n| !n.is_leader()));
    // The leader and one follower meet again; only the leader can win (its
    // log is longer), in a later term, with entry `old` uncommitted.
    c.cut[leader][follower] = false;
    c.cut[follower][leader] = false;
    c.run_until(|c| c.nodes[leader].is_leader());
    assert!(c.nodes[leader].term() > old_term);
    assert!(c.nodes[leader].commit_index() < old, "not committed yet");
    assert!(c.cut[away][leader], "the third node stays away");
    // Batches of one: the follower gets `old`, and only then the no-op of
    // the new term; before that, a majority holds `old`.
    c.run_until(|c| c.nodes[follower].log().term_at(old) == Some(old_term));
    assert_eq!(c.nodes[follower].log().last_index(), old, "the no-op waits");
    let early = c.nodes[leader].commit_index() >= old;
    c.run_for(Duration::from_millis(50));
    assert!(
        c.nodes[leader].commit_index() > old,
        "committed under the no-op"
    );
    early
}

#[test]
fn entries_of_earlier_terms_commit_only_beneath_one_of_the_current_term() {
    assert!(!old_entry_committed_on_count(None));
}

#[test]
fn the_figure_8_schedule_catches_commits_counted_on_old_entries() {
    assert!(old_entry_committed_on_count(Some(Bug::CommitOldTerms)));
}

#[test]
fn followers_turn_proposals_and_reads_away_and_know_the_leader() {
    let mut c = Cluster::new(3, Timing::default());
    let leader = c.leader();
    c.run_for(Duration::from_millis(60));
    let follower = (leader + 1) % 3;
    assert_eq!(c.nodes[follower].propose(c.now, 1), Err(NotLeader));
    assert_eq!(c.nodes[follower].read(c.now), Err(NotLeader));
    assert_eq!(c.nodes[follower].leader_hint(), Some(leader));
}

#[test]
fn a_read_waits_for_a_round_that_starts_after_it() {
    let mut c = Cluster::new(3, Timing::default());
    let leader = c.leader();
    c.run_for(Duration::from_millis(60));
    let id = c.nodes[leader].read(c.now).unwrap();
    c.collect();
    assert!(c.reads(leader).is_empty(), "not before a majority answers");
    c.run_for(Duration::from_millis(20));
    assert_eq!(c.reads(leader), [&Event::Read { id }]);
}

#[test]
fn a_cut_off_leader_neither_serves_reads_nor_keeps_leading() {
    let mut c = Cluster::new(3, Timing::default());
    let leader = c.leader();
    c.run_for(Duration::from_millis(60));
    c.isolate(leader, true);
    let id = c.nodes[leader].read(c.now).unwrap();
    let (index, term) = c.nodes[leader].propose(c.now, 5).unwrap();
    let cut_at = c.now;
    while c.nodes[leader].is_leader() && c.now < cut_at + Duration::from_secs(1) {
        assert!(c.reads(leader).is_empty(), "no majority confirms it");
        c.run_for(STEP);
    }
    let led_for = c.now - cut_at;
    assert!(
        led_for <= Duration::from_millis(155),
        "check-quorum: {led_for:?}"
    );
    assert_eq!(c.reads(leader), [&Event::ReadFailed { id }]);
    // The others elect a leader, whose entry replaces the proposal.
    c.run_for(Duration::from_millis(400));
    c.isolate(leader, false);
    c.run_for(Duration::from_millis(200));
    let applied = c.events[leader].iter().find_map(|e| match e {
        Event::Apply { index: i, term, .. } if *i == index => Some(*term),
        _ => None,
    });
    assert!(applied.is_some_and(|t| t != term), "{applied:?}");
}

#[test]
fn a_node_back_from_isolation_does_not_depose_a_healthy_leader() {
    let mut c = Cluster::new(3, Timing::default());
    let leader = c.leader();
    let term = c.nodes[leader].term();
    let away = (leader + 1) % 3;
    c.isolate(away, true);
    c.run_for(Duration::from_secs(3));
    assert_eq!(c.nodes[away].term(), term, "pre-votes raise no term");
    c.isolate(away, false);
    c.run_for(Duration::from_secs(1));
    assert!(c.nodes[leader].is_leader());
    assert_eq!(c.nodes[leader].term(), term);
    assert_eq!(c.nodes[away].leader(), Some(leader));
}

#[test]
fn votes_are_refused_while_a_leader_is_heard() {
    let mut c = Cluster::new(3, Timing::default());
    let leader = c.leader();
    c.run_for(Duration::from_millis(60));
    let (voter, candidate) = ((leader + 1) % 3, (leader + 2) % 3);
    let term = c.nodes[voter].term() + 5;
    let ask = |pre| Message::RequestVote {
        term,
        pre,
        last_index: 1000,
        last_term: term,
    };
    for pre in [true, false] {
        c.nodes[voter].receive(c.now, candidate, ask(pre));
        let replies = c.nodes[voter].take_messages();
        assert!(
            matches!(replies[..], [(_, Message::Vote { granted: false, .. })]),
            "{replies:?}"
        );
    }
    assert!(
        c.nodes[voter].term() < term,
        "an ignored request raises no term"
    );
    // Once the leader has been silent for the minimum election timeout,
    // the same request wins the vote.
    c.isolate(leader, true);
    c.run_for(Duration::from_millis(150));
    c.nodes[voter].receive(c.now, candidate, ask(false));
    let replies = c.nodes[voter].take_messages();
    assert!(
        matches!(replies[..], [(_, Message::Vote { granted: true, .. })]),
        "{replies:?}"
    );
}

#[test]
fn appends_catch_a_lagging_follower_up_in_batches() {
    let timing = Timing {
        max_batch: 10,
        ..Timing::default()
    };
    let mut c = Cluster::new(3, timing);
    let leader = c.leader();
    let away = (leader + 1) % 3;
    c.isolate(away, true);
    for command in 0..95 {
        c.nodes[leader].propose(c.now, command).unwrap();
    }
    c.run_for(Duration::from_millis(100));
    assert!(
        c.nodes[leader].commit_index() >= 96,
        "a majority without it"
    );
    c.appends.clear();
    c.isolate(away, false);
    c.run_for(Duration::from_millis(200));
    assert_eq!(c.nodes[away].log(), c.nodes[leader].log());
    let commit = c.nodes[leader].commit_index();
    assert_eq!(c.nodes[away].commit_index(), commit);
    let batches: Vec<usize> = (c.appends.iter())
        .filter(|&&(from, to, size)| (from, to) == (leader, away) && size > 0)
        .map(|&(_, _, size)| size)
        .collect();
    assert!(batches.iter().all(|&size| size <= 10), "{batches:?}");
    assert!(batches.len() >= 10, "{batches:?}");
    assert!(batches.len() <= 12, "batches are full: {batches:?}");
}

#[test]
fn messages_travel_as_json() {
    let message = Message::Append {
        term: 3,
        prev_index: 1,
        prev_term: 2,
        entries: vec![
            Entry {
                term: 3,
                command: None,
            },
            Entry {
                term: 3,
                command: Some(9),
            },
        ],
        commit: 1,
        round: 4,
    };
    let json = serde_json::to_string(&message).unwrap();
    assert_eq!(
        json,
        r#"{"append":{"term":3,"prev_index":1,"prev_term":2,"entries":[{"term":3,"command":null},{"term":3,"command":9}],"commit":1,"round":4}}"#
    );
    assert_eq!(
        serde_json::from_str::<Message<u64>>(&json).unwrap(),
        message
    );
}
