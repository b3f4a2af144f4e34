//! A run's `index.html`: the verdict, the command that made the run, its
//! key figures, what the checkers found (each with links into the Lamport
//! diagram and the timeline at the operations and messages it names), the
//! pictures and the files.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

use super::data::RunData;
use super::findings::Finding;
use super::html::escape;
use super::nemesis::Period;
use crate::config::Config;
use crate::store::RunDir;

/// The name of the diagram's mark for the messages carrying `value`.
pub fn mark_name(value: &Value) -> String {
    format!("value-{value}")
}

/// `glomers test` with the flags that differ from their defaults (and
/// the seed), as the run's `test.json` records them.
pub fn command_line(config: &Config) -> String {
    let stored = config.to_json();
    let defaults = Config::new(config.workload, config.bin.clone()).to_json();
    let mut line = format!(
        "glomers test -w {} --bin {}",
        config.workload.name(),
        config.bin.display()
    );
    for (name, value) in stored.as_object().into_iter().flatten() {
        if matches!(name.as_str(), "workload" | "bin" | "args" | "store")
            || defaults.get(name) == Some(value) && name != "seed"
        {
            continue;
        }
        match value {
            Value::Bool(true) => write!(line, " --{name}").unwrap(),
            Value::Bool(false) | Value::Null => {}
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(plain).collect();
                write!(line, " --{name} {}", items.join(",")).unwrap();
            }
            other => write!(line, " --{name} {}", plain(other)).unwrap(),
        }
    }
    if !config.args.is_empty() {
        write!(line, " -- {}", config.args.join(" ")).unwrap();
    }
    line
}

fn plain(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

/// The figures a run is judged by at a glance, as (label, text).
pub fn key_figures(results: &Value) -> Vec<(&'static str, String)> {
    let mut figures = Vec::new();
    let stats = &results["stats"];
    if stats.is_object() {
        figures.push((
            "operations",
            format!(
                "{} ({} ok, {} fail, {} info)",
                stats["count"], stats["ok-count"], stats["fail-count"], stats["info-count"]
            ),
        ));
    }
    if let Some(fraction) = results["availability"]["ok-fraction"].as_f64() {
        figures.push(("availability", format!("{fraction:.4}")));
    }
    let net = &results["net"];
    if let (Some(all), Some(servers)) = (
        net["all"]["msgs-per-op"].as_f64(),
        net["servers"]["msgs-per-op"].as_f64(),
    ) {
        figures.push((
            "msgs-per-op",
            format!(
                "{all:.3} all, {servers:.3} between servers ({} messages)",
                net["all"]["msg-count"]
            ),
        ));
    }
    for (label, quantiles) in [
        (
            "stable latency (ms)",
            &results["workload"]["stable-latencies"],
        ),
        ("latency (ms)", &results["latencies"]),
    ] {
        if let Some(q) = quantiles.as_object() {
            let text: Vec<String> = q.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            figures.push((label, text.join(", ")));
        }
    }
    if let Some(seconds) = results["workload"]["check-seconds"].as_f64() {
        figures.push(("check-seconds", format!("{seconds:.3}")));
    }
    let bench = &results["bench"];
    if !bench["seed"].is_null() {
        let cores = bench["cpu-cores"]
            .as_f64()
            .map_or_else(String::new, |c| format!(", bench CPU {c:.3} cores"));
        figures.push(("seed", format!("{}{cores}", bench["seed"])));
    }
    figures
}

/// `valid`, `invalid` or `unknown`.
pub fn verdict(results: &Value) -> &'static str {
    match &results["valid?"] {
        Value::Bool(true) => "valid",
        Value::Bool(false) => "invalid",
        _ => "unknown",
    }
}

/// The page.
pub fn page(
    dir: &RunDir,
    title: &str,
    run: &RunData,
    found: &[Finding],
    periods: &[Period],
) -> String {
    let results = &run.results;
    let verdict = verdict(results);
    let mut out = String::new();
    write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} — {verdict}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 20px auto; max-width: 1000px; padding: 0 16px; color: #222; }}
a {{ color: #2563eb; }} code, pre {{ font: 12px ui-monospace, monospace; }}
pre {{ background: #f4f4f4; padding: 8px; overflow-x: auto; white-space: pre-wrap; }}
.verdict {{ padding: 2px 10px; border-radius: 4px; color: #fff; }}
.valid {{ background: #16a34a; }} .invalid {{ background: #dc2626; }} .unknown {{ background: #d97706; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 2px 12px 2px 0; text-align: left; vertical-align: top; }}
li {{ margin: 3px 0; }} .links a {{ margin-left: 8px; font-size: 12px; }}
img {{ max-width: 100%; border: 1px solid #eee; margin: 6px 0; }}
</style></head><body>
<p><a href="../../">all runs</a></p>
<h1>{title} <span class="verdict {verdict}" id="verdict">{verdict}</span></h1>
"#,
        title = escape(title)
    )
    .unwrap();
    if let Some(config) = &run.config {
        writeln!(out, "<pre>{}</pre>", escape(&command_line(config))).unwrap();
    }
    out.push_str("<table>\n");
    for (label, text) in key_figures(results) {
        writeln!(out, "<tr><th>{label}</th><td>{}</td></tr>", escape(&text)).unwrap();
    }
    for (part, name) in [
        ("workload", "checker"),
        ("stats", "stats"),
        ("availability", "availability"),
        ("nodes", "nodes"),
    ] {
        let text = match &results[part]["valid?"] {
            Value::Bool(true) => "valid",
            Value::Bool(false) => "invalid",
            Value::Null => continue,
            _ => "unknown",
        };
        writeln!(out, "<tr><th>{name}</th><td>{text}</td></tr>").unwrap();
    }
    out.push_str("</table>\n");
    out.push_str(&findings_section(dir, found));
    out.push_str(
        "<h2>Pictures</h2>\n<p><a href=\"messages.html\">Lamport diagram</a> (every message) · \
         <a href=\"timeline.html\">timeline</a> (every operation)</p>\n",
    );
    for (file, what) in [
        ("latency-raw.svg", "latency of each operation"),
        ("latency-quantiles.svg", "latency quantiles"),
        ("rate.svg", "rate"),
    ] {
        writeln!(
            out,
            "<a href=\"{file}\"><img src=\"{file}\" alt=\"{what}\"></a>"
        )
        .unwrap();
    }
    if !periods.is_empty() {
        out.push_str("<h2>Nemesis</h2>\n<ul>\n");
        for p in periods {
            writeln!(
                out,
                "<li>{:.3} s to {:.3} s: {} <span class=\"links\"><a href=\"messages.html#t={:.3}\">messages</a></span></li>",
                p.start as f64 / 1e9,
                p.end as f64 / 1e9,
                escape(&p.describe()),
                p.start as f64 / 1e9
            )
            .unwrap();
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<h2>Files</h2>\n<ul>\n");
    for file in files(dir) {
        writeln!(out, "<li><a href=\"{0}\">{0}</a></li>", escape(&file)).unwrap();
    }
    out.push_str("</ul>\n</body></html>\n");
    out
}

fn findings_section(dir: &RunDir, found: &[Finding]) -> String {
    if found.is_empty() {
        return String::new();
    }
    let mut by_kind: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in found {
        by_kind.entry(&finding.kind).or_default().push(finding);
    }
    let mut out = String::from("<h2>What the checkers found</h2>\n");
    for (kind, items) in by_kind {
        writeln!(
            out,
            "<h3 class=\"anomaly\">{} ({})</h3>\n<ul>",
            escape(kind),
            items.len()
        )
        .unwrap();
        for finding in items {
            write!(out, "<li class=\"finding\">{}", escape(&finding.text)).unwrap();
            out.push_str(" <span class=\"links\">");
            let ops: Vec<String> = finding.ops.iter().map(u64::to_string).collect();
            let mut diagram: Vec<String> = Vec::new();
            if !ops.is_empty() {
                diagram.push(format!("op={}", ops.join(",")));
            }
            for value in &finding.values {
                diagram.push(format!("mark={}", url_encode(&mark_name(value))));
            }
            if !diagram.is_empty() {
                write!(
                    out,
                    "<a href=\"messages.html#{}\">messages</a>",
                    escape(&diagram.join("&"))
                )
                .unwrap();
            }
            if !ops.is_empty() {
                write!(
                    out,
                    "<a href=\"timeline.html#op={}\">timeline</a>",
                    ops.join(",")
                )
                .unwrap();
            }
            if let Some(file) = finding.file.as_ref().filter(|f| dir.has(f)) {
                write!(out, "<a href=\"{0}\">{0}</a>", escape(file)).unwrap();
            }
            out.push_str("</span></li>\n");
        }
        out.push_str("</ul>\n");
    }
    out
}

/// Percent-encodes what a URL fragment's parameter value cannot hold.
fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            write!(out, "%{byte:02X}").unwrap();
        }
    }
    out
}

/// The run's files, pages and pictures first.
fn files(dir: &RunDir) -> Vec<String> {
    let mut names = dir.files();
    names.sort_by_key(|n| {
        (
            !n.ends_with(".html"),
            !n.ends_with(".svg"),
            n.ends_with(".log"),
            super::nemesis::natural(n),
        )
    });
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Workload;
    use serde_json::json;

    #[test]
    fn the_command_line_names_the_flags_that_differ() {
        let mut config = Config::new(Workload::Broadcast, "target/release/broadcast");
        config.node_count = Some(25);
        config.rate = 100.0;
        config.seed = Some(9);
        config.nemesis = vec![crate::config::NemesisKind::Partition];
        config.args = vec!["500".into()];
        assert_eq!(
            command_line(&config),
            "glomers test -w broadcast --bin target/release/broadcast --nemesis partition \
             --node-count 25 --rate 100.0 --seed 9 -- 500"
        );
    }

    #[test]
    fn the_page_gives_the_verdicts_and_figures() {
        let run = RunData {
            results: json!({
                "valid?": false,
                "workload": {"valid?": false},
                "stats": {"valid?": true, "count": 4, "ok-count": 3, "fail-count": 1, "info-count": 0},
                "net": {"all": {"msgs-per-op": 2.5, "msg-count": 10}, "servers": {"msgs-per-op": 1.0}},
            }),
            ..RunData::default()
        };
        let html = page(
            &RunDir::unchecked("/nonexistent".into()),
            "echo x",
            &run,
            &[],
            &[],
        );
        assert!(html.contains(r#"<span class="verdict invalid" id="verdict">invalid</span>"#));
        assert!(
            html.contains("<tr><th>checker</th><td>invalid</td></tr>"),
            "{html}"
        );
        assert!(html.contains("<tr><th>stats</th><td>valid</td></tr>"));
        assert!(html.contains("<td>4 (3 ok, 1 fail, 0 info)</td>"));
        assert!(html.contains("2.500 all, 1.000 between servers (10 messages)"));
    }

    #[test]
    fn findings_link_to_their_operations_and_values() {
        let finding = Finding {
            kind: "lost".into(),
            text: "19 <lost>".into(),
            ops: vec![4, 7],
            values: vec![json!(19)],
            file: None,
        };
        let html = findings_section(&RunDir::unchecked("/nonexistent".into()), &[finding]);
        assert!(
            html.contains("<h3 class=\"anomaly\">lost (1)</h3>"),
            "{html}"
        );
        assert!(html.contains("19 &lt;lost&gt;"));
        assert!(
            html.contains(r#"href="messages.html#op=4,7&amp;mark=value-19""#),
            "{html}"
        );
        assert!(html.contains(r#"href="timeline.html#op=4,7""#));
        assert_eq!(mark_name(&json!("a b")), r#"value-"a b""#);
        assert_eq!(url_encode(r#"value-"a b""#), "value-%22a%20b%22");
    }
}
