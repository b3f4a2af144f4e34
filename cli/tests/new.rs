//! `glomers new`: the crate it writes for each workload, and the errors
//! for a name, a folder or a workload it cannot take. The crates
//! themselves are built and tested end to end by `.ci/run`, from an
//! installed `glomers`; their nodes are compiled and swept here by
//! `tests/templates.rs`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::served::fresh_store;

fn glomers_new(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glomers"))
        .arg("new")
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("glomers runs")
}

const WORKLOADS: [&str; 10] = [
    "echo",
    "unique-ids",
    "broadcast",
    "g-counter",
    "pn-counter",
    "g-set",
    "kafka",
    "txn-rw-register",
    "txn-list-append",
    "lin-kv",
];

#[test]
fn every_workload_gets_a_crate_that_depends_on_this_checkout() {
    let scratch = fresh_store("new");
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap();
    for workload in WORKLOADS {
        let name = format!("node-{workload}");
        let out = glomers_new(&scratch, &[&name, "--workload", workload]);
        assert!(out.status.success(), "{workload}: {out:?}");
        let dir = scratch.join(&name);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{manifest}"
        );
        let runtime = checkout.join("runtime");
        assert!(
            manifest.contains(&format!("glomers = {{ path = \"{}\" }}", runtime.display())),
            "{manifest}"
        );
        assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
        let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
        assert!(main.contains("#[maelstrom_node]"), "{workload}");
        assert!(
            main.contains(".assert_seeds("),
            "{workload}: no simulator test"
        );
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
        let bench = format!("glomers test -w {workload} --bin target/release/{name}");
        assert!(readme.contains(&bench), "{readme}");
        assert!(
            readme.contains(&format!("maelstrom test -w {workload}")),
            "{readme}"
        );
    }
    std::fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn what_it_cannot_write_is_refused_with_the_reason() {
    let scratch = fresh_store("new-refused");
    let stderr = |out: Output| {
        assert_eq!(out.status.code(), Some(254), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let unknown = stderr(glomers_new(&scratch, &["x", "--workload", "raft"]));
    assert!(
        unknown.contains("no node for the workload `raft`"),
        "{unknown}"
    );
    assert!(unknown.contains("txn-list-append"), "{unknown}");
    let bad_name = stderr(glomers_new(&scratch, &["9lives"]));
    assert!(bad_name.contains("cannot name a crate"), "{bad_name}");
    std::fs::create_dir(scratch.join("taken")).unwrap();
    let taken = stderr(glomers_new(&scratch, &["taken"]));
    assert!(taken.contains("exists already"), "{taken}");
    let nowhere = stderr(glomers_new(&scratch, &["x", "--glomers", "/nonexistent"]));
    assert!(nowhere.contains("no glomers checkout"), "{nowhere}");
    assert!(!scratch.join("x").exists(), "nothing written on a refusal");
    std::fs::remove_dir_all(scratch).unwrap();
}
