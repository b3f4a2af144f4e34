//! Finding and classifying cycles in the dependency graph.
//!
//! For each kind of cycle we first split the graph (restricted to the edge
//! kinds that kind of cycle may use) into strongly connected components.
//! Then, for each *start edge* of the kind every such cycle must contain
//! (`ww` for G0, `wr` for G1c, `rw` for G-single and G2-item, `realtime` for
//! the real-time variants), a breadth-first search looks for a shortest way
//! back from the edge's target to its source. The search runs over
//! (node, counters) states, the counters being how many `rw` edges (0, 1,
//! 2 or more) and whether any `wr` / `realtime` edge were used, so the walk
//! found has exactly the required mix. Walks that pass a transaction twice
//! are rejected (they are not simple cycles and could misclassify).
//!
//! Each strongly connected component of the whole graph gives at most one
//! example of each kind, and every (component, kind) pair gets a fixed work
//! budget, so tangled histories cannot make the search quadratic.

use super::graph::{Components, Graph, Kind, RT, RW, VIA, WR, WW};
use std::collections::{HashMap, VecDeque};

/// Edge relaxations allowed per (component, cycle kind).
const BUDGET: usize = 2_000_000;

/// A cycle found: its anomaly type and its edges, in order. The first
/// edge leaves a transaction and the last one returns to it.
#[derive(Debug, Clone)]
pub(super) struct Cycle {
    /// The anomaly type, e.g. `"G-single"`.
    pub(super) kind: &'static str,
    /// Edge numbers in the [`Graph`], head to tail.
    pub(super) edges: Vec<usize>,
}

/// How many `rw` edges a kind of cycle has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RwCount {
    Zero,
    One,
    TwoOrMore,
}

/// What a kind of cycle is made of.
#[derive(Debug, Clone, Copy)]
struct Spec {
    kind: &'static str,
    /// Edge kinds the cycle may use.
    allowed: u8,
    /// An edge kind every such cycle contains; searches start from these.
    start: Kind,
    rw: RwCount,
    need_wr: bool,
    need_rt: bool,
}

const DATA: u8 = WW | WR | RW | VIA;

const PLAIN: [Spec; 4] = [
    Spec {
        kind: "G0",
        allowed: WW | VIA,
        start: Kind::Ww,
        rw: RwCount::Zero,
        need_wr: false,
        need_rt: false,
    },
    Spec {
        kind: "G1c",
        allowed: WW | WR | VIA,
        start: Kind::Wr,
        rw: RwCount::Zero,
        need_wr: true,
        need_rt: false,
    },
    Spec {
        kind: "G-single",
        allowed: DATA,
        start: Kind::Rw,
        rw: RwCount::One,
        need_wr: false,
        need_rt: false,
    },
    Spec {
        kind: "G2-item",
        allowed: DATA,
        start: Kind::Rw,
        rw: RwCount::TwoOrMore,
        need_wr: false,
        need_rt: false,
    },
];

const REALTIME: [Spec; 4] = [
    Spec {
        kind: "G0-realtime",
        allowed: WW | RT | VIA,
        start: Kind::Realtime,
        rw: RwCount::Zero,
        need_wr: false,
        need_rt: true,
    },
    Spec {
        kind: "G1c-realtime",
        allowed: WW | WR | RT | VIA,
        start: Kind::Realtime,
        rw: RwCount::Zero,
        need_wr: true,
        need_rt: true,
    },
    Spec {
        kind: "G-single-realtime",
        allowed: DATA | RT,
        start: Kind::Realtime,
        rw: RwCount::One,
        need_wr: false,
        need_rt: true,
    },
    Spec {
        kind: "G2-item-realtime",
        allowed: DATA | RT,
        start: Kind::Realtime,
        rw: RwCount::TwoOrMore,
        need_wr: false,
        need_rt: true,
    },
];

/// Search states per node: rw count (3) × saw wr (2) × saw realtime (2).
const FLAGS: usize = 12;

impl Spec {
    /// The counters after following an edge of `kind`, or `None` if the
    /// cycle would then have too many `rw` edges.
    fn step(&self, flags: usize, kind: Kind) -> Option<usize> {
        let (mut rw, mut wr, mut rt) = (flags / 4, (flags / 2) & 1, flags & 1);
        match kind {
            Kind::Rw => {
                rw = (rw + 1).min(2);
                let max = match self.rw {
                    RwCount::Zero => 0,
                    RwCount::One => 1,
                    RwCount::TwoOrMore => 2,
                };
                if rw > max {
                    return None;
                }
            }
            Kind::Wr if self.need_wr => wr = 1,
            Kind::Realtime if self.need_rt => rt = 1,
            _ => {}
        }
        Some(rw * 4 + wr * 2 + rt)
    }

    /// Whether a closed walk with these counters is this kind of cycle.
    fn accepts(&self, flags: usize) -> bool {
        let (rw, wr, rt) = (flags / 4, (flags / 2) & 1, flags & 1);
        let rw_ok = match self.rw {
            RwCount::Zero => rw == 0,
            RwCount::One => rw == 1,
            RwCount::TwoOrMore => rw == 2,
        };
        rw_ok && (!self.need_wr || wr == 1) && (!self.need_rt || rt == 1)
    }
}

/// Finds cycles of every kind: the plain kinds always, the real-time kinds
/// when `realtime` is set (the graph must then hold real-time edges).
pub(super) fn search(graph: &Graph, realtime: bool) -> Vec<Cycle> {
    let mut found = Vec::new();
    let mut bfs = Bfs::default();
    let data = graph.components(DATA);
    search_phase(graph, &data, &PLAIN, None, &mut bfs, &mut found);
    if realtime {
        let with_rt = graph.components(DATA | RT);
        search_phase(
            graph,
            &with_rt,
            &REALTIME,
            Some(&data),
            &mut bfs,
            &mut found,
        );
    }
    found
}

/// Searches the given kinds of cycle, one example per component of
/// `groups`. With `cross`, start edges must join two different components
/// of it: used for real-time cycles, which only count when they need a
/// real-time edge (a real-time edge inside a data-only component could be
/// replaced by data edges, and that cycle is reported as a plain one).
fn search_phase(
    graph: &Graph,
    groups: &Components,
    specs: &[Spec],
    cross: Option<&Components>,
    bfs: &mut Bfs,
    out: &mut Vec<Cycle>,
) {
    if groups.sizes.iter().all(|&s| s < 2) {
        return;
    }
    let mut cache: HashMap<u8, Components> = HashMap::new();
    for spec in specs {
        let allowed: &Components = cache
            .entry(spec.allowed)
            .or_insert_with(|| graph.components(spec.allowed));
        if allowed.sizes.iter().all(|&s| s < 2) {
            continue;
        }
        // For exactly one rw edge a -> b, b must reach a without rw edges:
        // impossible when b's rw-free component is downstream of a's.
        let rw_free = (spec.rw == RwCount::One && spec.start == Kind::Rw)
            .then(|| graph.components(spec.allowed & !RW));
        let mut done = vec![false; groups.sizes.len()];
        let mut budgets = vec![BUDGET; groups.sizes.len()];
        for e in 0..graph.edge_count() {
            if graph.kind(e) != spec.start {
                continue;
            }
            let (a, b) = (graph.from(e), graph.to(e));
            let group = groups.of[a] as usize;
            if done[group] || groups.of[b] as usize != group || allowed.of[a] != allowed.of[b] {
                continue;
            }
            if cross.is_some_and(|c| c.of[a] == c.of[b]) {
                continue;
            }
            if let Some(free) = &rw_free {
                if free.of[b] < free.of[a] {
                    continue;
                }
            }
            match bfs.find(graph, spec, e, allowed, &mut budgets[group]) {
                Outcome::Found(edges) => {
                    out.push(Cycle {
                        kind: spec.kind,
                        edges,
                    });
                    done[group] = true;
                }
                Outcome::Exhausted => done[group] = true,
                Outcome::NotFound => {}
            }
        }
    }
}

/// Result of one search from a start edge.
enum Outcome {
    Found(Vec<usize>),
    NotFound,
    Exhausted,
}

/// Reusable breadth-first search buffers (stamped, so no clearing).
#[derive(Default)]
struct Bfs {
    stamp: u32,
    seen: Vec<u32>,
    /// (previous state, edge taken) for each reached state.
    parent: Vec<(u32, u32)>,
    queue: VecDeque<u32>,
}

impl Bfs {
    /// Looks for a shortest walk from the start edge's target back to its
    /// source that, with the start edge, forms a simple cycle of `spec`'s
    /// kind, staying inside the source's component of `allowed`.
    fn find(
        &mut self,
        graph: &Graph,
        spec: &Spec,
        start: usize,
        allowed: &Components,
        budget: &mut usize,
    ) -> Outcome {
        let states = graph.node_count() * FLAGS;
        if self.seen.len() < states {
            self.seen = vec![0; states];
            self.parent = vec![(0, 0); states];
            self.stamp = 0;
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.seen.iter_mut().for_each(|s| *s = 0);
            self.stamp = 1;
        }
        let (a, b) = (graph.from(start), graph.to(start));
        let comp = allowed.of[a];
        let Some(f0) = spec.step(0, graph.kind(start)) else {
            return Outcome::NotFound;
        };
        let s0 = b * FLAGS + f0;
        self.seen[s0] = self.stamp;
        self.queue.clear();
        self.queue.push_back(s0 as u32);
        while let Some(s) = self.queue.pop_front() {
            let s = s as usize;
            let (v, flags) = (s / FLAGS, s % FLAGS);
            for e in graph.out(v) {
                let kind = graph.kind(e);
                if kind.bit() & spec.allowed == 0 {
                    continue;
                }
                let w = graph.to(e);
                if allowed.of[w] != comp {
                    continue;
                }
                if *budget == 0 {
                    return Outcome::Exhausted;
                }
                *budget -= 1;
                let Some(f2) = spec.step(flags, kind) else {
                    continue;
                };
                if w == a {
                    if spec.accepts(f2) {
                        let edges = self.path(start, s0, s, e);
                        if is_simple(graph, &edges) {
                            return Outcome::Found(edges);
                        }
                    }
                    continue;
                }
                let next = w * FLAGS + f2;
                if self.seen[next] == self.stamp {
                    continue;
                }
                self.seen[next] = self.stamp;
                self.parent[next] = (s as u32, e as u32);
                self.queue.push_back(next as u32);
            }
        }
        Outcome::NotFound
    }

    /// The edges of the walk: the start edge, the BFS tree path to `last`,
    /// then `closing`.
    fn path(&self, start: usize, s0: usize, last: usize, closing: usize) -> Vec<usize> {
        let mut edges = vec![closing];
        let mut cur = last;
        while cur != s0 {
            let (prev, e) = self.parent[cur];
            edges.push(e as usize);
            cur = prev as usize;
        }
        edges.push(start);
        edges.reverse();
        edges
    }
}

/// Whether no transaction occurs twice in the walk (helper nodes may).
fn is_simple(graph: &Graph, edges: &[usize]) -> bool {
    let mut nodes: Vec<usize> = edges
        .iter()
        .map(|&e| graph.from(e))
        .filter(|&n| n < graph.real)
        .collect();
    nodes.sort_unstable();
    nodes.windows(2).all(|w| w[0] != w[1])
}
