//! Pacing of pushes to peers: at most one unacknowledged push in flight
//! per peer, sent again once it is [`RESEND_AFTER`] old.

use std::collections::BTreeMap;
use std::time::Duration;

/// How long an unacknowledged push waits before it is sent again.
pub const RESEND_AFTER: Duration = Duration::from_millis(500);

/// Whether a peer may be sent a push now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Nothing in flight.
    Open,
    /// A push is in flight and not yet overdue: wait.
    Waiting,
    /// A push has waited [`RESEND_AFTER`] unanswered: it may be lost.
    Overdue,
}

/// When the push in flight to each peer left.
#[derive(Debug, Default)]
pub struct PushWindow {
    in_flight: BTreeMap<String, Duration>,
}

impl PushWindow {
    /// Whether `peer` may be sent a push at `now`.
    pub fn window(&self, peer: &str, now: Duration) -> Window {
        match self.in_flight.get(peer) {
            None => Window::Open,
            Some(&sent) if now < sent + RESEND_AFTER => Window::Waiting,
            Some(_) => Window::Overdue,
        }
    }

    /// Notes a push to `peer` at `now`.
    pub fn sent(&mut self, peer: &str, now: Duration) {
        self.in_flight.insert(peer.to_owned(), now);
    }

    /// Notes `peer`'s acknowledgement: the window is open again.
    pub fn acknowledged(&mut self, peer: &str) {
        self.in_flight.remove(peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_push_in_flight_until_acknowledged_or_overdue() {
        let mut window = PushWindow::default();
        assert_eq!(window.window("n2", Duration::ZERO), Window::Open);
        window.sent("n2", Duration::from_millis(100));
        assert_eq!(
            window.window("n2", Duration::from_millis(599)),
            Window::Waiting
        );
        assert_eq!(
            window.window("n2", Duration::from_millis(600)),
            Window::Overdue
        );
        assert_eq!(
            window.window("n3", Duration::from_millis(200)),
            Window::Open
        );
        window.acknowledged("n2");
        assert_eq!(
            window.window("n2", Duration::from_millis(200)),
            Window::Open
        );
    }
}
