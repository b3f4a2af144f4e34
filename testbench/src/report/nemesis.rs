//! Nemesis periods (when links were cut, nodes killed or paused), from the
//! history's nemesis entries when it has them, else from the nemesis log in
//! `results.json`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::data::RunData;

/// One stretch of time during which a fault was in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    /// When it began and ended (ns from the start of the main phase).
    pub start: i64,
    pub end: i64,
    /// What kind of fault: `partition`, `kill`, `pause`, ...
    pub kind: String,
    /// The nemesis's own word for it (`majority`, a node list, ...).
    pub label: String,
    /// For partitions: each node and the nodes whose messages it drops.
    pub cuts: BTreeMap<String, Vec<String>>,
}

impl Period {
    /// Who was cut from whom, in words: the sides of a symmetric
    /// partition (`n1 | n2 n3`), else each node and what it drops.
    pub fn describe(&self) -> String {
        let mut text = format!("{} {}", self.kind, self.label).trim().to_owned();
        if let Some(sides) = sides(&self.cuts) {
            text.push_str(": ");
            text.push_str(
                &sides
                    .iter()
                    .map(|s| s.join(" "))
                    .collect::<Vec<_>>()
                    .join(" | "),
            );
        } else if !self.cuts.is_empty() {
            let each: Vec<String> = self
                .cuts
                .iter()
                .filter(|(_, from)| !from.is_empty())
                .map(|(node, from)| format!("{node} drops {}", from.join(" ")))
                .collect();
            text.push_str(": ");
            text.push_str(&each.join("; "));
        }
        text
    }
}

/// The run's nemesis periods, in time order. A period still open at the
/// end of the entries closes when the main phase ended (the bench heals
/// every fault before the final reads).
pub fn periods(run: &RunData) -> Vec<Period> {
    let events: Vec<Event> = if run.nemesis.is_empty() {
        from_results_log(&run.results["nemesis"])
    } else {
        run.nemesis.iter().map(from_history_entry).collect()
    };
    assemble(&events, run.main_phase_end())
}

/// One nemesis entry: when, what, and the values that describe it.
#[derive(Debug, Clone)]
struct Event {
    time: Option<i64>,
    f: String,
    details: Vec<Value>,
}

fn from_history_entry(entry: &Value) -> Event {
    Event {
        time: entry["time"].as_i64(),
        f: entry["f"].as_str().unwrap_or_default().to_owned(),
        details: vec![entry["value"].clone()],
    }
}

/// The bench's log: `{"time": seconds, "f", "value", "isolated"}`.
fn from_results_log(log: &Value) -> Vec<Event> {
    log.as_array()
        .into_iter()
        .flatten()
        .map(|entry| Event {
            time: entry["time"].as_f64().map(|s| (s * 1e9).round() as i64),
            f: entry["f"].as_str().unwrap_or_default().to_owned(),
            details: vec![entry["value"].clone(), entry["isolated"].clone()],
        })
        .collect()
}

/// The kind of fault an `f` starts or ends, and whether it starts it.
fn classify(f: &str) -> Option<(String, bool)> {
    if let Some(kind) = f.strip_prefix("start-") {
        return Some((kind.to_owned(), true));
    }
    if let Some(kind) = f.strip_prefix("stop-") {
        return Some((kind.to_owned(), false));
    }
    match f {
        "kill" => Some(("kill".to_owned(), true)),
        "start" | "restart" => Some(("kill".to_owned(), false)),
        "pause" => Some(("pause".to_owned(), true)),
        "resume" => Some(("pause".to_owned(), false)),
        _ => None,
    }
}

fn assemble(events: &[Event], heal: i64) -> Vec<Period> {
    let mut open: BTreeMap<String, Period> = BTreeMap::new();
    let mut done = Vec::new();
    let mut last_time = 0;
    for event in events {
        let Some((kind, starts)) = classify(&event.f) else {
            continue;
        };
        let time = event.time.unwrap_or(heal.max(last_time));
        last_time = last_time.max(time);
        if starts {
            // A second entry of the same start (Jepsen logs one when the
            // fault is asked for and one when it is in force) adds detail.
            let period = open.entry(kind.clone()).or_insert_with(|| Period {
                start: time,
                end: time,
                kind,
                label: String::new(),
                cuts: BTreeMap::new(),
            });
            for detail in &event.details {
                describe_into(period, detail);
            }
        } else if let Some(mut period) = open.remove(&kind) {
            period.end = time.max(period.start);
            done.push(period);
        }
    }
    for (_, mut period) in open {
        period.end = heal.max(period.start);
        done.push(period);
    }
    done.sort_by_key(|p| (p.start, p.end));
    done
}

/// Takes a label and a cut map from a nemesis value, whatever its shape:
/// a string is a label, an object whose values are lists of node ids is
/// the cut map, a list is searched item by item.
fn describe_into(period: &mut Period, value: &Value) {
    match value {
        Value::String(text) if period.label.is_empty() && text != "isolated" => {
            period.label = text.clone();
        }
        Value::Object(map) if !map.is_empty() && map.values().all(is_id_list) => {
            period.cuts = map
                .iter()
                .map(|(node, from)| {
                    let mut from: Vec<String> = from
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect();
                    from.sort();
                    (node.clone(), from)
                })
                .collect();
        }
        Value::Object(map) => map.values().for_each(|v| describe_into(period, v)),
        Value::Array(items)
            if !items.is_empty()
                && items.iter().all(Value::is_string)
                && period.label.is_empty() =>
        {
            let names: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            period.label = names.join(" ");
        }
        Value::Array(items) => items.iter().for_each(|v| describe_into(period, v)),
        _ => {}
    }
}

fn is_id_list(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|items| items.iter().all(Value::is_string))
}

/// The sides of a partition when every cut goes both ways and the nodes
/// fall into groups that hear each other fully; `None` otherwise.
fn sides(cuts: &BTreeMap<String, Vec<String>>) -> Option<Vec<Vec<String>>> {
    let drops = |a: &str, b: &str| cuts.get(a).is_some_and(|from| from.iter().any(|x| x == b));
    let mut nodes: Vec<&String> = cuts.keys().collect();
    for from in cuts.values().flatten() {
        if !nodes.contains(&from) {
            nodes.push(from);
        }
    }
    let mut groups: Vec<Vec<String>> = Vec::new();
    for node in nodes {
        match groups.iter_mut().find(|g| !drops(node, &g[0])) {
            Some(group) => group.push(node.clone()),
            None => groups.push(vec![node.clone()]),
        }
    }
    let consistent = groups.iter().enumerate().all(|(i, group)| {
        groups.iter().enumerate().all(|(j, other)| {
            group.iter().all(|a| {
                other
                    .iter()
                    .all(|b| a == b || drops(a, b) == (i != j) && drops(b, a) == (i != j))
            })
        })
    });
    (consistent && groups.len() > 1).then(|| {
        for group in &mut groups {
            group.sort_by_key(|id| natural(id));
        }
        groups.sort_by(|a, b| {
            a.len()
                .cmp(&b.len())
                .then(natural(&a[0]).cmp(&natural(&b[0])))
        });
        groups
    })
}

/// Sort key that puts `n2` before `n10`.
pub fn natural(id: &str) -> (String, u64, String) {
    let digits_at = id.find(|c: char| c.is_ascii_digit()).unwrap_or(id.len());
    let (prefix, rest) = id.split_at(digits_at);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let number = digits.parse().unwrap_or(0);
    (prefix.to_owned(), number, rest[digits.len()..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run_with(results_log: Value, nemesis: Vec<Value>) -> RunData {
        RunData {
            results: json!({ "nemesis": results_log }),
            nemesis,
            ..RunData::default()
        }
    }

    #[test]
    fn the_benchs_log_gives_periods_with_sides() {
        let log = json!([
            {"time": 0.0, "f": "start-partition", "value": "one",
             "isolated": {"n1": ["n2", "n3"], "n2": ["n1"], "n3": ["n1"]}},
            {"time": 1.5, "f": "stop-partition"},
            {"time": 2.0, "f": "start-partition", "value": "majorities-ring",
             "isolated": {"n1": ["n3"], "n2": ["n1"], "n3": ["n2"]}},
            {"f": "stop-partition", "final?": true},
        ]);
        let mut run = run_with(log, Vec::new());
        run.history.push(
            7_000_000_000,
            crate::history::OpType::Ok,
            0,
            "read",
            json!(1),
            None,
        );
        let periods = periods(&run);
        assert_eq!(periods.len(), 2);
        assert_eq!((periods[0].start, periods[0].end), (0, 1_500_000_000));
        assert_eq!(periods[0].describe(), "partition one: n1 | n2 n3");
        assert_eq!(
            (periods[1].start, periods[1].end),
            (2_000_000_000, 7_000_000_000),
            "the final heal comes after the main phase's last operation"
        );
        assert_eq!(
            periods[1].describe(),
            "partition majorities-ring: n1 drops n3; n2 drops n1; n3 drops n2"
        );
    }

    #[test]
    fn history_entries_win_over_the_log_and_pairs_merge() {
        let entries = vec![
            json!({"process": "nemesis", "type": "info", "f": "start-partition", "value": "majority", "time": 10}),
            json!({"process": "nemesis", "type": "info", "f": "start-partition",
                   "value": ["isolated", {"n0": ["n2"], "n1": ["n2"], "n2": ["n0", "n1"]}], "time": 12}),
            json!({"process": "nemesis", "type": "info", "f": "kill", "value": ["n1"], "time": 15}),
            json!({"process": "nemesis", "type": "info", "f": "stop-partition", "value": null, "time": 20}),
            json!({"process": "nemesis", "type": "info", "f": "start", "value": ["n1"], "time": 30}),
        ];
        let run = run_with(json!([{"time": 0.0, "f": "start-partition"}]), entries);
        let periods = periods(&run);
        assert_eq!(periods.len(), 2);
        assert_eq!((periods[0].start, periods[0].end), (10, 20));
        assert_eq!(periods[0].describe(), "partition majority: n2 | n0 n1");
        assert_eq!(
            (periods[1].kind.as_str(), periods[1].start, periods[1].end),
            ("kill", 15, 30)
        );
        assert_eq!(periods[1].describe(), "kill n1");
    }

    #[test]
    fn ids_sort_naturally() {
        let mut ids = vec!["n10", "n2", "c1", "n1"];
        ids.sort_by_key(|id| natural(id));
        assert_eq!(ids, ["c1", "n1", "n2", "n10"]);
    }
}
