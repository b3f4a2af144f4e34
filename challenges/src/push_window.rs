//! Pacing of pushes to peers, for protocols whose acknowledgements ride
//! along with the pushes going the other way (kafka's logs and txn's
//! writes).
//!
//! Each push carries everything the peer has not confirmed yet, so a lost
//! push needs no repair of its own: the next one carries its content again.
//! What is left is deciding when a push goes, by how urgent its content is:
//!
//! - something the peer has never been sent ([`Pending::Fresh`]): once
//!   `interval` has passed since the last push to that peer, so pushes
//!   batch whatever comes in meanwhile;
//! - only acknowledgements owed to the peer ([`Pending::Ack`]): after
//!   `ack_after`, since pushes with fresh content usually carry them first;
//! - only content sent before and not confirmed ([`Pending::Unconfirmed`]):
//!   after `resend_after`, in case the push or its acknowledgement was
//!   lost.
//!
//! With traffic both ways, a pair of nodes thus exchanges one push each way
//! per `interval` and no acknowledgement of its own.
//!
//! ```
//! use std::time::Duration;
//! use challenges::push_window::{Pacing, Pending, PushClock};
//!
//! let ms = Duration::from_millis;
//! let mut clock = PushClock::new(Pacing::with_interval(ms(10)));
//! assert!(clock.due("n2", ms(0), Pending::Fresh)); // nothing sent yet: at once
//! assert!(!clock.due("n2", ms(5), Pending::Fresh)); // batched
//! assert!(clock.due("n2", ms(10), Pending::Fresh));
//! assert!(!clock.due("n2", ms(100), Pending::Unconfirmed)); // a resend waits longer
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

/// The most urgent content waiting for a peer, least urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pending {
    /// Nothing to send.
    Nothing,
    /// Content sent before and not confirmed by the peer.
    Unconfirmed,
    /// Acknowledgements owed to the peer.
    Ack,
    /// Content the peer has never been sent.
    Fresh,
}

/// How long a peer waits for a push, by what it would carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// Between two pushes with fresh content.
    pub interval: Duration,
    /// Between the last push and one that carries only acknowledgements.
    pub ack_after: Duration,
    /// Between the last push and a resend of unconfirmed content.
    pub resend_after: Duration,
}

impl Pacing {
    /// Pushes of fresh content every `interval`, lone acknowledgements
    /// after 200 ms (or `interval`, if longer) and resends after 1 s (or
    /// four intervals).
    pub fn with_interval(interval: Duration) -> Self {
        let ack_after = interval.max(Duration::from_millis(200));
        Pacing {
            interval,
            ack_after,
            resend_after: (interval * 4).max(Duration::from_secs(1)),
        }
    }

    /// How long `pending` content waits after the last push; `None` for
    /// nothing to send.
    fn wait(&self, pending: Pending) -> Option<Duration> {
        match pending {
            Pending::Nothing => None,
            Pending::Unconfirmed => Some(self.resend_after),
            Pending::Ack => Some(self.ack_after),
            Pending::Fresh => Some(self.interval),
        }
    }
}

/// When the last push to each peer left.
#[derive(Debug)]
pub struct PushClock {
    pacing: Pacing,
    last: BTreeMap<String, Duration>,
}

impl PushClock {
    /// A clock for pushes paced by `pacing`.
    pub fn new(pacing: Pacing) -> Self {
        PushClock {
            pacing,
            last: BTreeMap::new(),
        }
    }

    /// Whether a push with `pending` content goes to `peer` at `now`; if
    /// so, it is noted as sent. A clock that went back counts as time
    /// passed, so a node whose clock is set back does not fall silent.
    pub fn due(&mut self, peer: &str, now: Duration, pending: Pending) -> bool {
        let Some(wait) = self.pacing.wait(pending) else {
            return false;
        };
        let due = self
            .last
            .get(peer)
            .is_none_or(|&last| now < last || now - last >= wait);
        if due {
            self.last.insert(peer.to_owned(), now);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn each_kind_of_content_waits_its_own_time_after_the_last_push() {
        let mut clock = PushClock::new(Pacing {
            interval: ms(10),
            ack_after: ms(100),
            resend_after: ms(500),
        });
        assert!(!clock.due("n2", ms(0), Pending::Nothing));
        assert!(clock.due("n2", ms(0), Pending::Unconfirmed), "first push");
        assert!(!clock.due("n2", ms(9), Pending::Fresh));
        assert!(clock.due("n2", ms(10), Pending::Fresh));
        assert!(clock.due("n3", ms(11), Pending::Ack), "peers are apart");
        assert!(!clock.due("n2", ms(109), Pending::Ack));
        assert!(clock.due("n2", ms(110), Pending::Ack));
        assert!(!clock.due("n2", ms(609), Pending::Unconfirmed));
        assert!(clock.due("n2", ms(610), Pending::Unconfirmed));
        assert!(!clock.due("n2", ms(5000), Pending::Nothing));
        assert!(
            clock.due("n2", ms(1), Pending::Unconfirmed),
            "clock set back"
        );
    }

    #[test]
    fn lone_acknowledgements_and_resends_wait_at_least_the_interval() {
        let fast = Pacing::with_interval(ms(10));
        assert_eq!((fast.ack_after, fast.resend_after), (ms(200), ms(1000)));
        let slow = Pacing::with_interval(ms(400));
        assert_eq!((slow.ack_after, slow.resend_after), (ms(400), ms(1600)));
    }
}
