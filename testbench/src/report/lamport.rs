//! The Lamport diagram's layout: one column per node, service and client
//! (clients that are never active at once share a column), one arrow per
//! message of the journal from its send to its delivery, and the nemesis
//! periods on the columns of the nodes they cut.
//!
//! Every message gets its arrow, so the diagram covers the whole run;
//! `messages.html` draws the arrows of the part in view from the compact
//! data [`Diagram::to_json`] gives.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use super::data::{Fate, Message, RunData};
use super::nemesis::{natural, Period};
use crate::history::Op;

/// A laid-out diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagram {
    /// Columns, left to right.
    pub columns: Vec<Column>,
    /// Message types, in order of first appearance (an arrow's `kind`
    /// indexes this).
    pub kinds: Vec<String>,
    /// One arrow per journal entry, in journal order.
    pub arrows: Vec<Arrow>,
    /// The first and last instants the diagram shows (ns).
    pub start: i64,
    pub end: i64,
    /// Nemesis shading: a column's stretch of time, and why.
    pub shades: Vec<Shade>,
}

/// One column and the ids it shows over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// `node`, `service` or `client`.
    pub role: &'static str,
    /// Ids in the order they use the column (one, except for clients).
    pub ids: Vec<String>,
    /// When each id first and last sent or received a message (ns).
    pub spans: Vec<(i64, i64)>,
}

/// How an arrow ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tip {
    /// At its destination, when it was delivered.
    Delivered,
    /// Short of its destination, at the instant a partition dropped it.
    Cut,
    /// Past the diagram's end: still in flight when the run stopped.
    OffEnd,
}

/// One message's arrow.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrow {
    /// Its line in `messages.jsonl`.
    pub line: usize,
    /// Columns it leaves and heads for.
    pub from: usize,
    pub to: usize,
    /// When it leaves, and the instant its end stands for (ns).
    pub sent: i64,
    pub end: i64,
    pub tip: Tip,
    /// Index into [`Diagram::kinds`].
    pub kind: usize,
}

/// A shaded stretch of a column.
#[derive(Debug, Clone, PartialEq)]
pub struct Shade {
    pub column: usize,
    pub start: i64,
    pub end: i64,
    pub text: String,
}

/// How far past the end an in-flight arrow is drawn, as a share of the
/// diagram's length (at least 100 ms).
const OFF_END_SHARE: f64 = 0.02;

/// Lays out the run's messages and nemesis periods.
pub fn layout(run: &RunData, periods: &[Period]) -> Diagram {
    let columns = columns(&run.messages);
    let column_of = column_lookup(&columns);
    let start = run
        .messages
        .iter()
        .map(|m| m.sent)
        .min()
        .unwrap_or(0)
        .min(0);
    let end = run.end().max(start);
    let off_end = end + (((end - start) as f64 * OFF_END_SHARE) as i64).max(100_000_000);
    let mut kinds: Vec<String> = Vec::new();
    let mut kind_index: HashMap<&str, usize> = HashMap::new();
    let arrows = run
        .messages
        .iter()
        .map(|m| {
            let kind = *kind_index.entry(m.kind.as_str()).or_insert_with(|| {
                kinds.push(m.kind.clone());
                kinds.len() - 1
            });
            let (end, tip) = match (m.fate, m.at) {
                (Fate::Received, Some(at)) => (at, Tip::Delivered),
                (Fate::Dropped, Some(at)) => (at, Tip::Cut),
                _ => (off_end, Tip::OffEnd),
            };
            Arrow {
                line: m.line,
                from: column_of[&m.src],
                to: column_of[&m.dest],
                sent: m.sent,
                end: end.max(m.sent),
                tip,
                kind,
            }
        })
        .collect();
    let shades = shades(&columns, periods);
    Diagram {
        columns,
        kinds,
        arrows,
        start,
        end,
        shades,
    }
}

/// Whether an id names a client (`c` and a number).
pub fn is_client(id: &str) -> bool {
    id.strip_prefix('c')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether an id names one of the bench's services.
fn is_service(id: &str) -> bool {
    crate::services::Service::from_id(id).is_some()
}

/// An id and when it was first and last active (ns).
type Active<'a> = (&'a str, (i64, i64));

/// Nodes in order, each after the columns of the clients that talk to it
/// most (clients never active at once share a column), then services.
fn columns(messages: &[Message]) -> Vec<Column> {
    let mut spans: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    let mut partners: HashMap<&str, HashMap<&str, usize>> = HashMap::new();
    for m in messages {
        let last = m.at.unwrap_or(m.sent).max(m.sent);
        for id in [m.src.as_str(), m.dest.as_str()] {
            let span = spans.entry(id).or_insert((m.sent, last));
            span.0 = span.0.min(m.sent);
            span.1 = span.1.max(last);
        }
        for (client, other) in [(&m.src, &m.dest), (&m.dest, &m.src)] {
            if is_client(client) && !is_client(other) {
                *partners
                    .entry(client.as_str())
                    .or_default()
                    .entry(other.as_str())
                    .or_default() += 1;
            }
        }
    }
    let home = |client: &str| -> Option<&str> {
        let counts = partners.get(client)?;
        counts
            .iter()
            .max_by_key(|(id, n)| (**n, std::cmp::Reverse(natural(id))))
            .map(|(id, _)| *id)
    };
    let mut clients: BTreeMap<Option<&str>, Vec<Active>> = BTreeMap::new();
    let mut nodes = Vec::new();
    let mut services = Vec::new();
    for (&id, &span) in &spans {
        if is_client(id) {
            clients.entry(home(id)).or_default().push((id, span));
        } else if is_service(id) {
            services.push((id, span));
        } else {
            nodes.push((id, span));
        }
    }
    nodes.sort_by_key(|(id, _)| natural(id));
    let single = |role: &'static str, (id, span): (&str, (i64, i64))| Column {
        role,
        ids: vec![id.to_owned()],
        spans: vec![span],
    };
    let mut columns = client_columns(clients.remove(&None).unwrap_or_default());
    for node in nodes {
        columns.extend(client_columns(
            clients.remove(&Some(node.0)).unwrap_or_default(),
        ));
        columns.push(single("node", node));
    }
    for service in services {
        columns.extend(client_columns(
            clients.remove(&Some(service.0)).unwrap_or_default(),
        ));
        columns.push(single("service", service));
    }
    columns
}

/// Clients in order of first activity, each in the leftmost column that
/// has been free since before it started.
fn client_columns(mut clients: Vec<Active>) -> Vec<Column> {
    clients.sort_by_key(|(id, span)| (span.0, natural(id)));
    let mut columns: Vec<(Column, i64)> = Vec::new();
    for (id, (first, last)) in clients {
        match columns.iter_mut().find(|(_, free_at)| *free_at < first) {
            Some((column, free_at)) => {
                column.ids.push(id.to_owned());
                column.spans.push((first, last));
                *free_at = last;
            }
            None => columns.push((
                Column {
                    role: "client",
                    ids: vec![id.to_owned()],
                    spans: vec![(first, last)],
                },
                last,
            )),
        }
    }
    columns.into_iter().map(|(c, _)| c).collect()
}

/// Each id's column.
fn column_lookup(columns: &[Column]) -> HashMap<String, usize> {
    columns
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.ids.iter().map(move |id| (id.clone(), i)))
        .collect()
}

/// Each period shades the columns of the nodes it cuts (those that drop
/// something, or those its label names), or every node column.
fn shades(columns: &[Column], periods: &[Period]) -> Vec<Shade> {
    let mut shades = Vec::new();
    for period in periods {
        let named: Vec<usize> = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.role == "node")
            .filter(|(_, c)| {
                let id = &c.ids[0];
                if period.cuts.is_empty() {
                    period.label.split_whitespace().any(|w| w == id)
                } else {
                    period.cuts.get(id).is_some_and(|from| !from.is_empty())
                }
            })
            .map(|(i, _)| i)
            .collect();
        let targets: Vec<usize> = if named.is_empty() {
            (0..columns.len())
                .filter(|&i| columns[i].role == "node")
                .collect()
        } else {
            named
        };
        for column in targets {
            let id = &columns[column].ids[0];
            let text = match period.cuts.get(id) {
                Some(from) if !from.is_empty() => {
                    format!(
                        "{id} drops messages from {} ({})",
                        from.join(" "),
                        period.describe()
                    )
                }
                _ => period.describe(),
            };
            shades.push(Shade {
                column,
                start: period.start,
                end: period.end,
                text,
            });
        }
    }
    shades
}

/// For each client process of the history, the client id that ran it:
/// each process's first invocation is matched, in time order, with the
/// first request of a client not yet matched sent at or after it (the
/// bench sends an operation's first request right after recording its
/// invocation, and a client serves one process).
pub fn clients_of_processes(run: &RunData) -> HashMap<u64, String> {
    let mut firsts: Vec<&Op> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for op in &run.history.ops {
        if seen.insert(op.process) {
            firsts.push(op);
        }
    }
    firsts.sort_by_key(|op| op.time);
    let mut client_firsts: Vec<(i64, &str)> = Vec::new();
    let mut seen_clients = std::collections::HashSet::new();
    for m in &run.messages {
        if is_client(&m.src) && m.sent >= 0 && seen_clients.insert(m.src.as_str()) {
            client_firsts.push((m.sent, m.src.as_str()));
        }
    }
    client_firsts.sort_by_key(|(sent, _)| *sent);
    let mut map = HashMap::new();
    let mut next = 0;
    for op in firsts {
        while next < client_firsts.len() && client_firsts[next].0 < op.time as i64 {
            next += 1;
        }
        if let Some((_, client)) = client_firsts.get(next) {
            map.insert(op.process, (*client).to_owned());
            next += 1;
        }
    }
    map
}

/// For each operation (invocation and completion), the history indices
/// of its two entries and the journal lines of the messages its client
/// exchanged from its invocation to its completion.
pub fn messages_of_ops(run: &RunData) -> Vec<(u64, Option<u64>, Vec<usize>)> {
    let clients = clients_of_processes(run);
    let mut by_client: HashMap<&str, Vec<&Message>> = HashMap::new();
    for m in &run.messages {
        for id in [&m.src, &m.dest] {
            if is_client(id) {
                by_client.entry(id.as_str()).or_default().push(m);
            }
        }
    }
    for messages in by_client.values_mut() {
        messages.sort_by_key(|m| (m.sent, m.line));
    }
    run.pairs()
        .into_iter()
        .map(|(invoke, done)| {
            let from = invoke.time as i64;
            let to = done.map_or(i64::MAX, |d| d.time as i64);
            let lines = clients
                .get(&invoke.process)
                .and_then(|client| by_client.get(client.as_str()))
                .map(|messages| {
                    let first = messages.partition_point(|m| m.sent < from);
                    messages[first..]
                        .iter()
                        .take_while(|m| m.sent <= to)
                        .map(|m| m.line)
                        .collect()
                })
                .unwrap_or_default();
            (invoke.index as u64, done.map(|d| d.index as u64), lines)
        })
        .collect()
}

/// The journal lines of the messages whose body carries `value` anywhere
/// (as a field's value or a list's item; message ids are not values).
pub fn messages_carrying(run: &RunData, value: &Value) -> Vec<usize> {
    run.messages
        .iter()
        .filter(|m| carries(&m.body, value, true))
        .map(|m| m.line)
        .collect()
}

fn carries(body: &Value, value: &Value, top: bool) -> bool {
    if body == value && !top {
        return true;
    }
    match body {
        Value::Array(items) => items.iter().any(|v| carries(v, value, false)),
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "msg_id" | "in_reply_to" | "type"))
            .any(|(_, v)| carries(v, value, false)),
        _ => false,
    }
}

impl Diagram {
    /// The data `messages.html` draws from, times in microseconds from the
    /// diagram's start: `arrows` is flat, seven numbers per arrow (from,
    /// to, sent, end, tip 0 delivered / 1 cut / 2 off the end, kind,
    /// journal line); `bodies` holds each message's body, shortened; `ops`
    /// each operation's history indices and journal lines; `marks` named
    /// sets of journal lines (such as the messages that carry a value an
    /// anomaly names).
    pub fn to_json(&self, run: &RunData, marks: &BTreeMap<String, Vec<usize>>) -> Value {
        let us = |t: i64| (t - self.start) / 1000;
        let mut flat = Vec::with_capacity(self.arrows.len() * 7);
        for a in &self.arrows {
            let tip = match a.tip {
                Tip::Delivered => 0,
                Tip::Cut => 1,
                Tip::OffEnd => 2,
            };
            flat.extend([
                a.from as i64,
                a.to as i64,
                us(a.sent),
                us(a.end),
                tip,
                a.kind as i64,
                a.line as i64,
            ]);
        }
        let bodies: Vec<String> = run.messages.iter().map(|m| shorten(&m.body)).collect();
        let columns: Vec<Value> = self
            .columns
            .iter()
            .map(|c| {
                let spans: Vec<[i64; 2]> = c.spans.iter().map(|&(a, b)| [us(a), us(b)]).collect();
                json!({"role": c.role, "ids": c.ids, "spans": spans})
            })
            .collect();
        let shades: Vec<Value> = self
            .shades
            .iter()
            .map(|s| json!([s.column, us(s.start), us(s.end), s.text]))
            .collect();
        let ops: Vec<Value> = messages_of_ops(run)
            .into_iter()
            .map(|(invoke, done, lines)| json!([invoke, done, lines]))
            .collect();
        json!({
            "ops": ops,
            "marks": marks,
            "origin": self.start,
            "length": us(self.end),
            "columns": columns,
            "kinds": self.kinds,
            "arrows": flat,
            "bodies": bodies,
            "shades": shades,
        })
    }
}

/// The most of a body `messages.html` shows (the whole is in the journal).
pub const BODY_CHARS: usize = 160;

/// A body's JSON text without its `type`, cut to [`BODY_CHARS`].
fn shorten(body: &Value) -> String {
    let mut body = body.clone();
    if let Some(map) = body.as_object_mut() {
        map.remove("type");
    }
    let text = body.to_string();
    if text.chars().count() <= BODY_CHARS {
        return text;
    }
    let cut: String = text.chars().take(BODY_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::OpType;
    use crate::report::data::parse_journal;

    const MS: i64 = 1_000_000;

    /// Init from c3, c4 (before 0); c1 broadcasts to n1, which gossips to
    /// n2 (delivered), to n2 again (dropped at 150 ms) and to n2 a third
    /// time (in flight at the end); c2 reads from n2 later.
    fn run() -> RunData {
        let line = |sent: i64, fate: &str, at: Option<i64>, src: &str, dest: &str, body: Value| {
            json!({"sent": sent, "fate": fate, "at": at, "message": {"src": src, "dest": dest, "body": body}})
                .to_string()
        };
        let journal = [
            line(
                -9 * MS,
                "received",
                Some(-9 * MS),
                "c3",
                "n1",
                json!({"type": "init", "msg_id": 1}),
            ),
            line(
                -9 * MS,
                "received",
                Some(-9 * MS),
                "c4",
                "n2",
                json!({"type": "init", "msg_id": 2}),
            ),
            line(
                -8 * MS,
                "received",
                Some(-8 * MS),
                "n1",
                "c3",
                json!({"type": "init_ok", "in_reply_to": 1}),
            ),
            line(
                -8 * MS,
                "received",
                Some(-8 * MS),
                "n2",
                "c4",
                json!({"type": "init_ok", "in_reply_to": 2}),
            ),
            line(
                MS,
                "received",
                Some(MS),
                "c1",
                "n1",
                json!({"type": "broadcast", "message": 7, "msg_id": 3}),
            ),
            line(
                2 * MS,
                "received",
                Some(2 * MS),
                "n1",
                "c1",
                json!({"type": "broadcast_ok", "in_reply_to": 3}),
            ),
            line(
                10 * MS,
                "received",
                Some(110 * MS),
                "n1",
                "n2",
                json!({"type": "gossip", "values": [7]}),
            ),
            line(
                50 * MS,
                "dropped",
                Some(150 * MS),
                "n1",
                "n2",
                json!({"type": "gossip", "values": [3, 7]}),
            ),
            line(
                300 * MS,
                "in-flight",
                None,
                "n1",
                "n2",
                json!({"type": "gossip", "values": [8]}),
            ),
            line(
                320 * MS,
                "received",
                Some(320 * MS),
                "c2",
                "n2",
                json!({"type": "read", "msg_id": 7}),
            ),
            line(
                321 * MS,
                "received",
                Some(321 * MS),
                "n2",
                "c2",
                json!({"type": "read_ok", "messages": [7], "in_reply_to": 7}),
            ),
        ]
        .join("\n");
        let mut run = RunData {
            messages: parse_journal(&journal).unwrap(),
            ..RunData::default()
        };
        let h = &mut run.history;
        h.push(
            MS as u64 - 1000,
            OpType::Invoke,
            0,
            "broadcast",
            json!(7),
            None,
        );
        h.push(
            2 * MS as u64 + 1000,
            OpType::Ok,
            0,
            "broadcast",
            json!(7),
            None,
        );
        h.push(
            320 * MS as u64 - 1000,
            OpType::Invoke,
            1,
            "read",
            json!(null),
            None,
        );
        h.push(
            321 * MS as u64 + 1000,
            OpType::Ok,
            1,
            "read",
            json!([7]),
            None,
        );
        run
    }

    fn diagram() -> (RunData, Diagram) {
        let run = run();
        let diagram = layout(&run, &[]);
        (run, diagram)
    }

    #[test]
    fn every_received_message_runs_from_its_send_to_its_delivery() {
        let (run, d) = diagram();
        assert_eq!(d.arrows.len(), run.messages.len());
        for (arrow, m) in d.arrows.iter().zip(&run.messages) {
            assert_eq!(arrow.line, m.line);
            assert_eq!(arrow.sent, m.sent);
            assert!(d.columns[arrow.from].ids.contains(&m.src), "{m:?}");
            assert!(d.columns[arrow.to].ids.contains(&m.dest), "{m:?}");
            if m.fate == Fate::Received {
                assert_eq!((arrow.end, arrow.tip), (m.at.unwrap(), Tip::Delivered));
            }
        }
        let gossip = &d.arrows[6];
        assert_eq!((gossip.sent, gossip.end), (10 * MS, 110 * MS));
        assert_eq!(d.kinds[gossip.kind], "gossip");
    }

    #[test]
    fn dropped_messages_end_at_the_cut_and_in_flight_ones_run_off_the_end() {
        let (_, d) = diagram();
        let dropped = &d.arrows[7];
        assert_eq!((dropped.end, dropped.tip), (150 * MS, Tip::Cut));
        let in_flight = &d.arrows[8];
        assert_eq!(in_flight.tip, Tip::OffEnd);
        assert_eq!(d.end, 321 * MS + 1000, "the run's last event");
        assert!(in_flight.end > d.end, "{in_flight:?}");
        assert_eq!(d.start, -9 * MS);
    }

    #[test]
    fn clients_sit_before_their_node_and_share_columns_when_never_active_together() {
        let (_, d) = diagram();
        let ids: Vec<Vec<&str>> = d
            .columns
            .iter()
            .map(|c| c.ids.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(
            ids,
            [vec!["c3", "c1"], vec!["n1"], vec!["c4", "c2"], vec!["n2"]]
        );
        let roles: Vec<&str> = d.columns.iter().map(|c| c.role).collect();
        assert_eq!(roles, ["client", "node", "client", "node"]);
        assert_eq!(d.columns[0].spans, [(-9 * MS, -8 * MS), (MS, 2 * MS)]);
    }

    #[test]
    fn operations_find_their_clients_and_messages() {
        let run = run();
        let clients = clients_of_processes(&run);
        assert_eq!(clients[&0], "c1");
        assert_eq!(clients[&1], "c2");
        assert_eq!(
            messages_of_ops(&run),
            [(0, Some(1), vec![5, 6]), (2, Some(3), vec![10, 11])]
        );
        assert_eq!(messages_carrying(&run, &json!(7)), [5, 7, 8, 11]);
        assert_eq!(
            messages_carrying(&run, &json!(3)),
            [8],
            "msg_id 3 is no value"
        );
    }

    #[test]
    fn partitions_shade_the_columns_of_the_nodes_they_cut() {
        let run = run();
        let period = Period {
            start: 40 * MS,
            end: 200 * MS,
            kind: "partition".into(),
            label: "one".into(),
            cuts: [
                ("n2".to_owned(), vec!["n1".to_owned()]),
                ("n1".to_owned(), vec![]),
            ]
            .into_iter()
            .collect(),
        };
        let d = layout(&run, &[period]);
        assert_eq!(d.shades.len(), 1);
        assert_eq!(d.columns[d.shades[0].column].ids, ["n2"]);
        assert!(d.shades[0].text.starts_with("n2 drops messages from n1"));
        let data = d.to_json(&run, &BTreeMap::new());
        assert_eq!(
            data["arrows"].as_array().unwrap().len(),
            7 * run.messages.len()
        );
        assert_eq!(
            data["arrows"][7 * 6 + 2],
            19_000,
            "gossip sent 19 ms after the start"
        );
        assert_eq!(data["arrows"][7 * 7 + 4], 1, "a cut tip");
        assert_eq!(data["bodies"][6], r#"{"values":[7]}"#);
    }
}
