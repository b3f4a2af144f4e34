//! Faults beyond Maelstrom's on messages between servers (loss,
//! duplication, delay spikes) and the call that sets them; the network
//! draws them as it puts each message on its way.

use super::Network;

/// Faults beyond Maelstrom's on messages between servers (never on client
/// messages): each a probability per message.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Chaos {
    /// The message is lost (journaled as dropped).
    pub loss: f64,
    /// The message is delivered twice (the copy has its own id).
    pub duplicate: f64,
    /// The message takes ten times the mean latency more.
    pub delay_spikes: f64,
}

impl Network {
    /// Applies `chaos` to every message between servers sent from now on
    /// (`Chaos::default()` to stop).
    pub fn set_chaos(&mut self, chaos: Chaos) {
        self.chaos = chaos;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LatencyDist;
    use crate::net::tests::{drain, ms, packet};
    use crate::net::Endpoint;

    #[test]
    fn chaos_loses_duplicates_and_delays_server_messages_only() {
        let mut net = Network::new(10.0, LatencyDist::Constant, 3);
        net.set_chaos(Chaos {
            loss: 0.3,
            duplicate: 0.2,
            delay_spikes: 0.1,
        });
        for i in 0..1000 {
            net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), ms(i));
            net.send(packet(Endpoint::Client(1), Endpoint::Node(1)), ms(i));
        }
        let delivered = drain(&mut net, ms(1_000_000));
        let servers = delivered
            .iter()
            .filter(|d| d.1 == Endpoint::Node(0))
            .count();
        let clients = delivered
            .iter()
            .filter(|d| d.1 == Endpoint::Client(1))
            .count();
        assert_eq!(clients, 1000, "client messages are never touched");
        // 1000 sent, 20 % copied, 30 % of the 1200 lost: about 840 arrive.
        assert!((780..=900).contains(&servers), "{servers}");
        assert!(net.stats.servers.send > 1150);
        net.set_chaos(Chaos::default());
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), ms(2_000_000));
        assert_eq!(drain(&mut net, ms(3_000_000)).len(), 1);
    }
}
