//! `testbench serve`: the store's runs listed newest first, every file of
//! the store served, nothing outside it.

mod common;

use common::config;
use common::served::{fresh_store, run_into, valid_run, Served};
use testbench::Workload;

#[test]
fn the_store_is_listed_and_served() {
    let store = fresh_store("serve");
    let valid = valid_run(&store);
    let (ok, invalid) = run_into(
        &store,
        config(
            Workload::UniqueIds,
            "unique_ids_collide.py",
            &[],
            3,
            1.0,
            50.0,
        ),
    );
    assert!(!ok);
    let served = Served::start(&store);

    let (status, kind, list) = served.get("/");
    assert_eq!((status, kind.as_str()), (200, "text/html; charset=utf-8"));
    let rows: Vec<&str> = list
        .lines()
        .filter(|l| l.contains("class=\"run\""))
        .collect();
    assert_eq!(rows.len(), 2, "{list}");
    assert!(
        rows[0].contains("data-verdict=\"invalid\"") && rows[0].contains("unique-ids"),
        "newest first: {list}"
    );
    assert!(rows[0].contains("duplicated"), "{}", rows[0]);
    assert!(
        rows[1].contains("data-verdict=\"valid\"") && rows[1].contains("lin-kv"),
        "{list}"
    );
    assert!(
        rows[1].contains("<td>3</td>"),
        "the node count: {}",
        rows[1]
    );

    let name = |dir: &std::path::Path| dir.file_name().unwrap().to_string_lossy().into_owned();
    let run = format!("/unique-ids/{}", name(&invalid));
    assert_eq!(served.get(&run).1, format!("{run}/"));
    assert_eq!(
        served.get(&format!("{run}/")).1,
        format!("{run}/index.html")
    );
    let (status, _, page) = served.get(&format!("{run}/index.html"));
    assert_eq!(status, 200);
    assert!(
        page.contains("invalid") && page.contains("duplicated"),
        "{page}"
    );
    let (status, kind, _) = served.get("/latest/latency-raw.svg");
    assert_eq!((status, kind.as_str()), (200, "image/svg+xml"));
    let (status, kind, history) = served.get(&format!("/lin-kv/{}/history.jsonl", name(&valid)));
    assert_eq!((status, kind.as_str()), (200, "text/plain; charset=utf-8"));
    assert!(history.starts_with("{\"index\":0"));

    for outside in ["/../", "/lin-kv/%2e%2e/%2e%2e/etc/passwd", "/%zz"] {
        assert_eq!(served.get(outside).0, 400, "{outside}");
    }
    assert_eq!(served.get("/nothing-here").0, 404);
    drop(served);
    std::fs::remove_dir_all(store).unwrap();
}
