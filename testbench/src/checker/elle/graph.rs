//! The dependency graph between transactions: typed edges stored compactly,
//! helper nodes that keep all-to-all edge sets linear in size, and strongly
//! connected components (iterative Tarjan, so deep graphs cannot overflow
//! the stack).
//!
//! Nodes `0..real` are transactions (indices into the transaction list);
//! nodes from `real` on are helper nodes that exist only inside
//! [`GraphBuilder::link_all_to_all`] gadgets.

use std::ops::Range;

/// The type of a dependency edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    /// Write-write: the source's version directly precedes the target's.
    Ww,
    /// Write-read: the target read what the source wrote.
    Wr,
    /// Read-write: the source read a version the target overwrote.
    Rw,
    /// Real time: the source completed before the target was invoked.
    Realtime,
    /// Internal hop of an all-to-all gadget: part of the `rw` (or other)
    /// edge that entered the gadget, counted as nothing by itself.
    Via,
}

impl Kind {
    /// This kind's bit in an edge-kind mask.
    pub(super) const fn bit(self) -> u8 {
        1 << self as u8
    }

    /// The name used in reports.
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Ww => "ww",
            Kind::Wr => "wr",
            Kind::Rw => "rw",
            Kind::Realtime => "realtime",
            Kind::Via => "via",
        }
    }
}

/// Mask of `ww` edges.
pub(super) const WW: u8 = Kind::Ww.bit();
/// Mask of `wr` edges.
pub(super) const WR: u8 = Kind::Wr.bit();
/// Mask of `rw` edges.
pub(super) const RW: u8 = Kind::Rw.bit();
/// Mask of `realtime` edges.
pub(super) const RT: u8 = Kind::Realtime.bit();
/// Mask of gadget-internal edges.
pub(super) const VIA: u8 = Kind::Via.bit();

/// What a data edge is about, for explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Label {
    /// The key the dependency is on.
    pub(super) key: i64,
    /// The version the source wrote (`ww`) or read (`rw`, `None` = initial
    /// or empty); for `wr`, the value read.
    pub(super) from: Option<i64>,
    /// The version the target wrote; `None` when it is to be looked up from
    /// the target transaction (gadget edges).
    pub(super) to: Option<i64>,
}

/// Label index meaning "no label" (real-time edges).
pub(super) const NO_LABEL: u32 = u32::MAX;

/// Above this many source × target pairs, all-to-all edges go through a
/// gadget of helper nodes instead of being drawn one by one.
const DIRECT_LIMIT: usize = 64;

/// One edge before the graph is frozen.
#[derive(Debug, Clone, Copy)]
struct RawEdge {
    from: u32,
    to: u32,
    kind: Kind,
    label: u32,
}

/// Collects edges, then freezes them into a [`Graph`].
#[derive(Debug)]
pub(super) struct GraphBuilder {
    real: usize,
    nodes: usize,
    edges: Vec<RawEdge>,
    labels: Vec<Label>,
}

impl GraphBuilder {
    /// A builder for a graph over `real` transactions.
    pub(super) fn new(real: usize) -> GraphBuilder {
        GraphBuilder {
            real,
            nodes: real,
            edges: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// Stores a label and returns its index for [`GraphBuilder::link`].
    pub(super) fn label(&mut self, label: Label) -> u32 {
        self.labels.push(label);
        u32::try_from(self.labels.len() - 1).unwrap_or(NO_LABEL)
    }

    /// Adds an edge (self-edges are dropped: a transaction never depends on
    /// itself in the graph).
    pub(super) fn link(&mut self, from: usize, to: usize, kind: Kind, label: u32) {
        if from != to {
            self.edges.push(RawEdge {
                from: from as u32,
                to: to as u32,
                kind,
                label,
            });
        }
    }

    /// Links every source to every target except itself, all with the same
    /// kind and label. Small sets are linked directly; large ones through a
    /// gadget of `2 × targets` helper nodes: a prefix chain `P_j → P_{j-1}`
    /// and a suffix chain `S_j → S_{j+1}`, each `P_j`/`S_j` reaching target
    /// `j`. A source that is not a target enters the top of the prefix chain;
    /// target `j` enters `P_{j-1}` and `S_{j+1}`, reaching everyone but
    /// itself.
    pub(super) fn link_all_to_all(
        &mut self,
        sources: &[usize],
        targets: &[usize],
        kind: Kind,
        label: u32,
    ) {
        let mut targets = targets.to_vec();
        targets.sort_unstable();
        targets.dedup();
        let mut sources = sources.to_vec();
        sources.sort_unstable();
        sources.dedup();
        if sources.is_empty() || targets.is_empty() {
            return;
        }
        if sources.len() * targets.len() <= DIRECT_LIMIT {
            for &s in &sources {
                for &t in &targets {
                    self.link(s, t, kind, label);
                }
            }
            return;
        }
        let m = targets.len();
        let prefix = self.nodes;
        self.nodes += m;
        for (j, &t) in targets.iter().enumerate() {
            self.link(prefix + j, t, Kind::Via, label);
            if j > 0 {
                self.link(prefix + j, prefix + j - 1, Kind::Via, label);
            }
        }
        let overlap = sources.iter().any(|s| targets.binary_search(s).is_ok());
        let suffix = self.nodes;
        if overlap {
            self.nodes += m;
            for (j, &t) in targets.iter().enumerate() {
                self.link(suffix + j, t, Kind::Via, label);
                if j + 1 < m {
                    self.link(suffix + j, suffix + j + 1, Kind::Via, label);
                }
            }
        }
        for &s in &sources {
            match targets.binary_search(&s) {
                Ok(j) => {
                    if j > 0 {
                        self.link(s, prefix + j - 1, kind, label);
                    }
                    if j + 1 < m {
                        self.link(s, suffix + j + 1, kind, label);
                    }
                }
                Err(_) => self.link(s, prefix + m - 1, kind, label),
            }
        }
    }

    /// Freezes the edges (duplicates of the same kind between the same
    /// nodes are merged, keeping the first label).
    pub(super) fn build(mut self) -> Graph {
        self.edges.sort_by_key(|e| (e.from, e.to, e.kind));
        self.edges.dedup_by_key(|e| (e.from, e.to, e.kind));
        let mut offsets = vec![0u32; self.nodes + 1];
        for e in &self.edges {
            offsets[e.from as usize + 1] += 1;
        }
        for i in 0..self.nodes {
            offsets[i + 1] += offsets[i];
        }
        Graph {
            real: self.real,
            offsets,
            from: self.edges.iter().map(|e| e.from).collect(),
            to: self.edges.iter().map(|e| e.to).collect(),
            kind: self.edges.iter().map(|e| e.kind).collect(),
            label: self.edges.iter().map(|e| e.label).collect(),
            labels: self.labels,
        }
    }
}

/// A frozen dependency graph in compressed adjacency form. Edges are
/// numbered `0..edge_count()`, grouped by source node.
#[derive(Debug)]
pub(super) struct Graph {
    /// Nodes below this are transactions; the rest are helper nodes.
    pub(super) real: usize,
    offsets: Vec<u32>,
    from: Vec<u32>,
    to: Vec<u32>,
    kind: Vec<Kind>,
    label: Vec<u32>,
    labels: Vec<Label>,
}

/// The strongly connected components of a graph restricted to some edge
/// kinds.
#[derive(Debug)]
pub(super) struct Components {
    /// Component number of each node. Components are numbered in reverse
    /// topological order: an edge between two components always goes from
    /// the higher number to the lower.
    pub(super) of: Vec<u32>,
    /// Number of nodes in each component.
    pub(super) sizes: Vec<u32>,
}

impl Graph {
    /// Number of nodes, helper nodes included.
    pub(super) fn node_count(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of edges.
    pub(super) fn edge_count(&self) -> usize {
        self.to.len()
    }

    /// The edges leaving a node.
    pub(super) fn out(&self, node: usize) -> Range<usize> {
        self.offsets[node] as usize..self.offsets[node + 1] as usize
    }

    /// An edge's source node.
    pub(super) fn from(&self, edge: usize) -> usize {
        self.from[edge] as usize
    }

    /// An edge's target node.
    pub(super) fn to(&self, edge: usize) -> usize {
        self.to[edge] as usize
    }

    /// An edge's kind.
    pub(super) fn kind(&self, edge: usize) -> Kind {
        self.kind[edge]
    }

    /// An edge's label, if it has one.
    pub(super) fn label(&self, edge: usize) -> Option<Label> {
        self.labels.get(self.label[edge] as usize).copied()
    }

    /// Strongly connected components of the graph keeping only the edge
    /// kinds in `mask`, by Tarjan's algorithm with an explicit stack.
    pub(super) fn components(&self, mask: u8) -> Components {
        let n = self.node_count();
        let mut search = Tarjan {
            index: vec![UNSEEN; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            calls: Vec::new(),
            next: 0,
        };
        let mut of = vec![UNSEEN; n];
        let mut sizes: Vec<u32> = Vec::new();
        for root in 0..n {
            if search.index[root] != UNSEEN {
                continue;
            }
            search.enter(root, self.offsets[root] as usize);
            while let Some(top) = search.calls.last_mut() {
                let (v, e) = *top;
                if e < self.offsets[v + 1] as usize {
                    top.1 += 1;
                    if self.kind[e].bit() & mask == 0 {
                        continue;
                    }
                    let w = self.to[e] as usize;
                    if search.index[w] == UNSEEN {
                        search.enter(w, self.offsets[w] as usize);
                    } else if search.on_stack[w] {
                        search.low[v] = search.low[v].min(search.index[w]);
                    }
                    continue;
                }
                search.calls.pop();
                if let Some(&(parent, _)) = search.calls.last() {
                    search.low[parent] = search.low[parent].min(search.low[v]);
                }
                if search.low[v] == search.index[v] {
                    let id = sizes.len() as u32;
                    let mut size = 0;
                    while let Some(w) = search.stack.pop() {
                        search.on_stack[w as usize] = false;
                        of[w as usize] = id;
                        size += 1;
                        if w as usize == v {
                            break;
                        }
                    }
                    sizes.push(size);
                }
            }
        }
        Components { of, sizes }
    }
}

/// Not yet reached by the search (and not in any component yet).
const UNSEEN: u32 = u32::MAX;

/// The state of Tarjan's search, with its recursion made explicit.
struct Tarjan {
    index: Vec<u32>,
    low: Vec<u32>,
    on_stack: Vec<bool>,
    stack: Vec<u32>,
    /// The "call stack": (node, next edge to look at).
    calls: Vec<(usize, usize)>,
    next: u32,
}

impl Tarjan {
    /// Reaches `v` (whose edges start at `first_edge`) for the first time.
    fn enter(&mut self, v: usize, first_edge: usize) {
        self.index[v] = self.next;
        self.low[v] = self.next;
        self.next += 1;
        self.stack.push(v as u32);
        self.on_stack[v] = true;
        self.calls.push((v, first_edge));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(n: usize, edges: &[(usize, usize, Kind)]) -> Graph {
        let mut b = GraphBuilder::new(n);
        for &(f, t, k) in edges {
            b.link(f, t, k, NO_LABEL);
        }
        b.build()
    }

    #[test]
    fn tarjan_finds_cycles_and_orders_components() {
        // 0 -> 1 -> 2 -> 0, 2 -> 3, 3 -> 4 (rw only), 4 -> 3
        let g = build(
            5,
            &[
                (0, 1, Kind::Ww),
                (1, 2, Kind::Ww),
                (2, 0, Kind::Wr),
                (2, 3, Kind::Ww),
                (3, 4, Kind::Rw),
                (4, 3, Kind::Ww),
            ],
        );
        let all = g.components(WW | WR | RW);
        assert_eq!(all.of[0], all.of[1]);
        assert_eq!(all.of[1], all.of[2]);
        assert_eq!(all.of[3], all.of[4]);
        assert_ne!(all.of[0], all.of[3]);
        // {0,1,2} -> {3,4}: the upstream component has the higher number.
        assert!(all.of[0] > all.of[3]);
        let ww = g.components(WW);
        assert_ne!(ww.of[0], ww.of[2]);
        assert_ne!(ww.of[3], ww.of[4]);
    }

    #[test]
    fn tarjan_handles_long_chains_without_recursion() {
        let n = 200_000;
        let edges: Vec<_> = (0..n).map(|i| (i, (i + 1) % n, Kind::Ww)).collect();
        let g = build(n, &edges);
        let c = g.components(WW);
        assert_eq!(c.sizes.len(), 1);
        assert_eq!(c.sizes[0] as usize, n);
    }

    /// Which real nodes each real node reaches in one data step (through
    /// gadget hops).
    fn reach(g: &Graph, from: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut todo = vec![from];
        let mut seen = vec![false; g.node_count()];
        while let Some(v) = todo.pop() {
            for e in g.out(v) {
                let w = g.to(e);
                if seen[w] {
                    continue;
                }
                seen[w] = true;
                if w < g.real {
                    out.push(w);
                } else {
                    todo.push(w);
                }
            }
        }
        out.sort_unstable();
        out
    }

    #[test]
    fn all_to_all_gadget_links_everyone_but_self() {
        let mut b = GraphBuilder::new(30);
        let sources: Vec<usize> = (0..20).collect();
        let targets: Vec<usize> = (10..30).collect();
        b.link_all_to_all(&sources, &targets, Kind::Rw, NO_LABEL);
        let g = b.build();
        assert!(g.node_count() > 30, "large sets should use the gadget");
        assert!(g.edge_count() < 20 * 20);
        for s in 0..20 {
            let expect: Vec<usize> = (10..30).filter(|&t| t != s).collect();
            assert_eq!(reach(&g, s), expect, "source {s}");
        }
    }
}
