//! Who the network's ids name: the nodes under test, clients and the
//! bench's services, and the directory that sorts ids into them.

use std::collections::HashMap;

/// Who an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// A node under test, by index.
    Node(usize),
    /// A client, by number (`c7` is 7).
    Client(u64),
    /// One of the bench's services.
    Service(crate::services::Service),
    /// An id nobody has.
    Unknown,
}

impl Endpoint {
    pub(super) fn is_client(self) -> bool {
        matches!(self, Endpoint::Client(_))
    }
}

/// Sorts ids into endpoints.
#[derive(Debug, Clone)]
pub struct Directory {
    nodes: Vec<String>,
    index: HashMap<String, usize>,
}

impl Directory {
    pub fn new(nodes: Vec<String>) -> Self {
        let index = nodes
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        Directory { nodes, index }
    }

    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    pub fn resolve(&self, id: &str) -> Endpoint {
        if let Some(&index) = self.index.get(id) {
            return Endpoint::Node(index);
        }
        if let Some(number) = id.strip_prefix('c').and_then(|n| n.parse().ok()) {
            return Endpoint::Client(number);
        }
        crate::services::Service::from_id(id).map_or(Endpoint::Unknown, Endpoint::Service)
    }
}
