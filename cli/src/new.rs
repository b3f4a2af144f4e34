//! `glomers new NAME [--workload W]`: a node crate of one's own, ready to
//! build and test: `Cargo.toml` depending on glomers, `src/main.rs` with a
//! working node for the workload and a simulator test over ten seeds, and
//! a README with the commands that run it on the bench and on Maelstrom.
//!
//! ```text
//! glomers new mynode --workload broadcast && cd mynode && cargo test
//! ```

use std::path::{Path, PathBuf};

use crate::args::New;

/// A workload `new` can start from: its name, the node's source, and the
/// flags of a run on the bench or on Maelstrom.
struct Template {
    workload: &'static str,
    source: &'static str,
    flags: &'static str,
}

const TEMPLATES: &[Template] = &[
    Template {
        workload: "echo",
        source: include_str!("../templates/echo.rs"),
        flags: "--node-count 1 --time-limit 10",
    },
    Template {
        workload: "unique-ids",
        source: include_str!("../templates/unique_ids.rs"),
        flags:
            "--node-count 3 --time-limit 30 --rate 1000 --availability total --nemesis partition",
    },
    Template {
        workload: "broadcast",
        source: include_str!("../templates/broadcast.rs"),
        flags: "--node-count 5 --time-limit 20 --rate 10 --nemesis partition",
    },
    Template {
        workload: "g-counter",
        source: include_str!("../templates/g_counter.rs"),
        flags: "--node-count 3 --rate 100 --time-limit 20 --nemesis partition",
    },
    Template {
        workload: "pn-counter",
        source: include_str!("../templates/pn_counter.rs"),
        flags: "--node-count 3 --rate 100 --time-limit 20 --nemesis partition",
    },
    Template {
        workload: "g-set",
        source: include_str!("../templates/g_set.rs"),
        flags: "--node-count 3 --rate 20 --time-limit 20 --nemesis partition",
    },
    Template {
        workload: "kafka",
        source: include_str!("../templates/kafka.rs"),
        flags: "--node-count 1 --concurrency 2n --time-limit 20 --rate 1000",
    },
    Template {
        workload: "txn-rw-register",
        source: include_str!("../templates/txn_rw_register.rs"),
        flags: "--node-count 1 --time-limit 20 --rate 1000 --concurrency 2n \
                --consistency-models read-uncommitted --availability total",
    },
    Template {
        workload: "txn-list-append",
        source: include_str!("../templates/txn_list_append.rs"),
        flags: "--node-count 1 --time-limit 20 --rate 100 --consistency-models strict-serializable",
    },
    Template {
        workload: "lin-kv",
        source: include_str!("../templates/lin_kv.rs"),
        flags: "--node-count 1 --concurrency 4n --rate 100 --time-limit 20",
    },
];

/// The workloads `new` has a node for, in the order `--help` lists them.
pub fn workloads() -> Vec<&'static str> {
    TEMPLATES.iter().map(|t| t.workload).collect()
}

/// Writes the crate `options` asks for; returns its folder.
pub fn create(options: &New) -> Result<PathBuf, String> {
    let template = TEMPLATES
        .iter()
        .find(|t| t.workload == options.workload)
        .ok_or_else(|| {
            format!(
                "no node for the workload `{}`; choose one of: {}",
                options.workload,
                workloads().join(", ")
            )
        })?;
    check_name(&options.name)?;
    let glomers = glomers_checkout(options.glomers.as_deref())?;
    let dir = options
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&options.name));
    if dir.exists() {
        return Err(format!(
            "{} exists already; `glomers new` writes a fresh folder",
            dir.display()
        ));
    }
    let write = |path: &Path, text: &str| {
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|err| format!("cannot create {}: {err}", parent.display()))?;
        }
        std::fs::write(&full, text).map_err(|err| format!("cannot write {}: {err}", full.display()))
    };
    write(Path::new("Cargo.toml"), &manifest(&options.name, &glomers))?;
    write(Path::new("src/main.rs"), template.source)?;
    write(Path::new("README.md"), &readme(&options.name, template))?;
    write(Path::new(".gitignore"), "/target\n/store\n")?;
    Ok(dir)
}

/// A name Cargo takes for a package and its binary.
fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let starts_well = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if starts_well && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        Ok(())
    } else {
        Err(format!(
            "`{name}` cannot name a crate: use letters, digits, `-` and `_`, starting with a letter"
        ))
    }
}

/// The glomers checkout the crate depends on: `--glomers`, else the one
/// this command was built from (as `cargo install --path cli` leaves it).
fn glomers_checkout(given: Option<&Path>) -> Result<PathBuf, String> {
    let root = match given {
        Some(path) => path.to_path_buf(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
    };
    let root = root.canonicalize().map_err(|err| {
        format!(
            "no glomers checkout at {} ({err}); name one with --glomers PATH",
            root.display()
        )
    })?;
    for crate_dir in ["runtime", "sim"] {
        if !root.join(crate_dir).join("Cargo.toml").is_file() {
            return Err(format!(
                "{} is not a glomers checkout (no {crate_dir}/Cargo.toml); name one with --glomers PATH",
                root.display()
            ));
        }
    }
    Ok(root)
}

fn manifest(name: &str, glomers: &Path) -> String {
    let runtime = glomers.join("runtime");
    let sim = glomers.join("sim");
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"

[dependencies]
glomers = {{ path = "{runtime}" }}
serde = {{ version = "1", features = ["derive"] }}

[dev-dependencies]
# The simulator: whole clusters of this node on virtual time (`cargo test`).
glomers-sim = {{ path = "{sim}" }}

# A crate of its own, whatever workspace it is made in.
[workspace]
"#,
        runtime = runtime.display(),
        sim = sim.display(),
    )
}

fn readme(name: &str, template: &Template) -> String {
    let workload = template.workload;
    let flags = template.flags;
    format!(
        r#"# {name}

A node for Maelstrom's `{workload}` workload, written with glomers.

```sh
cargo test                   # the simulator: ten seeds of a short run
cargo build --release        # target/release/{name}
glomers test -w {workload} --bin target/release/{name} {flags}
glomers serve                # the runs, with their pictures
```

The same binary runs under the real Maelstrom:

```sh
maelstrom test -w {workload} --bin target/release/{name} {flags}
```

The node is in `src/main.rs`; the guide (`docs/guide/` in the glomers
repository) goes from here to RPCs, timers, services and replies that wait.
"#
    )
}
