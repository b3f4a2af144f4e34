//! Routing around links that fail one way.
//!
//! Maelstrom's `majorities-ring` partition cuts links in one direction
//! only: with three nodes, `a` hears `c` but not `b`, `b` hears `a` but not
//! `c`, `c` hears `b` but not `a`. No two nodes can then hold a
//! conversation, and a protocol of requests and replies (Raft) stops,
//! although every node can still reach every other in two hops.
//!
//! Each message a node sends to a peer says whether the sender has heard
//! from that peer directly within a window (the `hears` flag). A node whose
//! peer says it does not hear it knows that its direct link to the peer is
//! down, and sends its messages to that peer twice: directly (so that it
//! notices when the link comes back) and through a relay, a third node
//! that has said it hears this one, which passes the message on directly.
//! The flag about the relay's own link to the peer may be stale; a relay
//! that cannot reach the peer loses a copy, nothing more. Every hop is an
//! ordinary message between servers, subject to the same partitions.

use std::time::Duration;

/// What a node knows about its links, and where to send each message.
///
/// ```
/// use std::time::Duration;
/// use challenges::relay::Links;
///
/// let now = Duration::from_secs(1);
/// // Node 0 of 0, 1, 2: node 1 says it does not hear 0, node 2 that it does.
/// let mut links = Links::new(0, 3, Duration::from_millis(75), 7);
/// links.told(1, false);
/// links.told(2, true);
/// assert_eq!(links.relay_for(1), Some(2));
/// assert_eq!(links.relay_for(2), None);
/// ```
#[derive(Debug)]
pub struct Links {
    me: usize,
    window: Duration,
    /// When each node was last heard from directly.
    heard_at: Vec<Option<Duration>>,
    /// Whether each node, when it last said, heard this one directly.
    heard_by: Vec<bool>,
    rng: fastrand::Rng,
}

impl Links {
    /// The links of node `me` among `size` nodes; a node that has not been
    /// heard from directly within `window` is reported as not heard. Until
    /// told otherwise, every peer is taken to hear this node.
    pub fn new(me: usize, size: usize, window: Duration, seed: u64) -> Self {
        Links {
            me,
            window,
            heard_at: vec![None; size],
            heard_by: vec![true; size],
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// The flag for a message to `peer`: whether this node heard from it
    /// directly within the window before `now`.
    pub fn hears(&self, peer: usize, now: Duration) -> bool {
        (self.heard_at.get(peer).copied().flatten())
            .is_some_and(|at| now.saturating_sub(at) < self.window)
    }

    /// A message came straight from `peer` (not through a relay).
    pub fn heard_from(&mut self, peer: usize, now: Duration) {
        if let Some(at) = self.heard_at.get_mut(peer) {
            *at = Some(now);
        }
    }

    /// `peer` said (in a message that came by any route) whether it hears
    /// this node directly.
    pub fn told(&mut self, peer: usize, hears_me: bool) {
        if let Some(flag) = self.heard_by.get_mut(peer) {
            *flag = hears_me;
        }
    }

    /// The node to send a second copy of a message for `peer` through,
    /// when `peer` does not hear this node directly: one of the nodes that
    /// do, at random.
    pub fn relay_for(&mut self, peer: usize) -> Option<usize> {
        if self.heard_by.get(peer).is_none_or(|&hears| hears) {
            return None;
        }
        let relays: Vec<usize> = (0..self.heard_by.len())
            .filter(|&n| n != self.me && n != peer && self.heard_by[n])
            .collect();
        (!relays.is_empty()).then(|| relays[self.rng.usize(..relays.len())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_millis(75);

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn hearing_lapses_after_the_window() {
        let mut links = Links::new(0, 3, WINDOW, 1);
        assert!(!links.hears(1, ms(0)), "never heard");
        links.heard_from(1, ms(100));
        assert!(links.hears(1, ms(174)));
        assert!(!links.hears(1, ms(175)));
    }

    /// The three-node one-way ring: every message still arrives, through at
    /// most one relay, once the flags have gone round.
    #[test]
    fn a_one_way_ring_is_bridged_by_relays() {
        // Working links: 0 → 1, 1 → 2, 2 → 0.
        let works = |from: usize, to: usize| to == (from + 1) % 3;
        let mut nodes: Vec<Links> = (0..3).map(|n| Links::new(n, 3, WINDOW, n as u64)).collect();
        // Everyone sends to everyone a few times; a message carries its
        // sender's flag, and a relay passes it on with the same flag.
        for round in 0..5 {
            let now = ms(20 * round);
            let mut arrivals = Vec::new();
            for (from, node) in nodes.iter_mut().enumerate() {
                for to in (0..3).filter(|&t| t != from) {
                    let hears = node.hears(to, now);
                    if works(from, to) {
                        arrivals.push((from, to, hears, true));
                    }
                    if let Some(relay) = node.relay_for(to) {
                        if works(from, relay) && works(relay, to) {
                            arrivals.push((from, to, hears, false));
                        }
                    }
                }
            }
            for (from, to, hears, direct) in arrivals {
                if direct {
                    nodes[to].heard_from(from, now);
                }
                nodes[to].told(from, hears);
            }
        }
        for (from, node) in nodes.iter_mut().enumerate() {
            for to in (0..3).filter(|&t| t != from) {
                let reaches = works(from, to)
                    || node
                        .relay_for(to)
                        .is_some_and(|r| works(from, r) && works(r, to));
                assert!(reaches, "{from} cannot reach {to}");
            }
        }
    }

    #[test]
    fn relaying_stops_when_the_peer_hears_again() {
        let mut links = Links::new(0, 3, WINDOW, 1);
        links.told(1, false);
        assert_eq!(links.relay_for(1), Some(2));
        links.told(1, true);
        assert_eq!(links.relay_for(1), None);
    }

    #[test]
    fn no_relay_is_chosen_among_nodes_that_do_not_hear_us() {
        let mut links = Links::new(0, 3, WINDOW, 1);
        links.told(1, false);
        links.told(2, false);
        assert_eq!(links.relay_for(1), None);
        assert_eq!(links.relay_for(7), None, "unknown nodes are ignored");
    }
}
