//! The pages in a real browser: `testbench serve` on a store with a valid
//! and an invalid run, opened in headless Chromium (Debian's `chromium`),
//! which runs the pages' scripts and dumps the resulting DOM.
//!
//! Ignored by default because it needs Chromium, which `cargo test` cannot
//! install; `.ci/run` installs it and runs this test with `--ignored`.
//! Run by hand without Chromium, it fails and names the install command.
//! Screenshots of each page are kept in `target/tmp/browser-test/`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::config;
use common::served::{fresh_store, run_into, valid_run, Served};
use testbench::Workload;

/// The Chromium binary, or a failure that says how to install it.
fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
            if dir.join(name).is_file() {
                return dir.join(name);
            }
        }
    }
    panic!("the browser test needs headless Chromium: install it with `apt-get install -y chromium` (.ci/run does)");
}

/// Runs headless Chromium on `url` with `extra` flags; returns stdout.
fn browse(url: &str, extra: &[String]) -> String {
    let profile = fresh_store("chromium-profile");
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=3000",
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(profile);
    assert!(
        output.status.success(),
        "chromium failed on {url}: {output:?}"
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The DOM after the page's scripts ran.
fn dom(url: &str) -> String {
    browse(url, &["--dump-dom".to_owned()])
}

/// Keeps a screenshot of `url` as a CI artefact.
fn screenshot(url: &str, name: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-test");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    browse(url, &[format!("--screenshot={}", file.display())]);
    assert!(file.is_file(), "no screenshot at {}", file.display());
}

/// The number in `data-NAME="..."` on the page's body.
fn body_number(dom: &str, name: &str) -> u64 {
    let body = dom
        .split("<body")
        .nth(1)
        .and_then(|b| b.split('>').next())
        .unwrap_or_default();
    let key = format!("data-{name}=\"");
    let at = body
        .find(&key)
        .unwrap_or_else(|| panic!("no data-{name} on <body{body}>"));
    body[at + key.len()..]
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
#[ignore = "needs Chromium: .ci/run installs it and runs this test"]
fn the_pages_show_the_runs_their_anomalies_and_every_message() {
    chromium();
    let store = fresh_store("browser");
    let valid = valid_run(&store);
    let (ok, invalid) = run_into(
        &store,
        config(
            Workload::Broadcast,
            "broadcast.py",
            &["no-gossip"],
            3,
            1.0,
            10.0,
        ),
    );
    assert!(!ok, "a broadcast that never gossips loses values");
    let served = Served::start(&store);
    let url = |dir: &Path, page: &str| {
        let relative = dir.strip_prefix(&store).unwrap().display().to_string();
        format!("{}/{relative}/{page}", served.base)
    };

    // The list shows both runs with their verdicts.
    let list = dom(&format!("{}/", served.base));
    let rows: Vec<&str> = list.split("<tr class=\"run\"").skip(1).collect();
    assert_eq!(rows.len(), 2, "{list}");
    assert!(
        rows[0].contains("data-verdict=\"invalid\"") && rows[0].contains("broadcast"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].contains("data-verdict=\"valid\"") && rows[1].contains("lin-kv"),
        "{}",
        rows[1]
    );
    screenshot(&format!("{}/", served.base), "runs.png");

    // The invalid run's page names its anomaly and links to its messages.
    let index = dom(&url(&invalid, "index.html"));
    assert!(index.contains("id=\"verdict\">invalid<"), "{index}");
    assert!(index.contains("<h3 class=\"anomaly\">lost ("), "{index}");
    let link = index
        .split("href=\"messages.html#op=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a lost value links to its messages")
        .replace("&amp;", "&");
    screenshot(&url(&invalid, "index.html"), "invalid-index.png");

    // The diagram draws one arrow per message of the journal.
    for dir in [&valid, &invalid] {
        let journal = std::fs::read_to_string(dir.join("messages.jsonl")).unwrap();
        let messages = journal.lines().count() as u64;
        assert!(messages > 10);
        let page = dom(&format!("{}#fit", url(dir, "messages.html")));
        assert_eq!(body_number(&page, "arrows"), messages);
        assert_eq!(
            body_number(&page, "drawn"),
            messages,
            "the whole run is in view"
        );
    }
    screenshot(
        &format!("{}#fit", url(&valid, "messages.html")),
        "valid-messages.png",
    );

    // Following the anomaly's link highlights the broadcast's request and
    // reply at least.
    let page = dom(&format!("{}#op={link}", url(&invalid, "messages.html")));
    assert!(body_number(&page, "highlighted") >= 2, "{link}");
    screenshot(
        &format!("{}#op={link}", url(&invalid, "messages.html")),
        "invalid-messages.png",
    );

    let timeline = dom(&url(&valid, "timeline.html"));
    assert!(body_number(&timeline, "ops") > 0);
    drop(served);
    std::fs::remove_dir_all(store).unwrap();
}
