//! The documentation's own rules: every page is compiled, README is short,
//! no block is skipped, and relative links lead somewhere.

use std::fs;
use std::path::{Path, PathBuf};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// README.md, CHANGELOG.md and every `.md` file under `docs/`, as paths
/// from the root.
fn pages() -> Vec<String> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                found.push(path);
            }
        }
    }
    let root = root();
    let mut found = vec![root.join("README.md"), root.join("CHANGELOG.md")];
    walk(&root.join("docs"), &mut found);
    let mut pages: Vec<String> = found
        .iter()
        .map(|path| {
            path.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    pages.sort();
    pages
}

fn read(page: &str) -> String {
    fs::read_to_string(root().join(page)).unwrap()
}

#[test]
fn every_page_is_compiled() {
    let lib = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let missing: Vec<String> = pages()
        .into_iter()
        .filter(|page| !lib.contains(&format!("include_str!(\"../../{page}\")")))
        .collect();
    assert!(
        missing.is_empty(),
        "pages whose code blocks nothing compiles; add each to doc-tests/src/lib.rs as\n\
         #[doc = include_str!(\"../../PAGE\")] pub mod NAME {{}}\n{missing:#?}"
    );
}

#[test]
fn readme_is_at_most_200_lines() {
    let lines = read("README.md").lines().count();
    assert!(
        lines <= 200,
        "README.md has {lines} lines; move detail into docs/"
    );
}

#[test]
fn readme_states_the_test_command() {
    // CI greps README for it and runs it.
    assert!(read("README.md").contains("cargo test --workspace"));
}

/// The info strings of a page's fenced code blocks, with their line numbers.
fn fences(text: &str) -> Vec<(usize, String)> {
    let mut open = false;
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            if !open {
                found.push((number + 1, info.trim().to_owned()));
            }
            open = !open;
        }
    }
    found
}

#[test]
fn no_code_block_is_ignored() {
    let mut ignored = Vec::new();
    for page in pages() {
        for (line, info) in fences(&read(&page)) {
            // rustdoc splits the info string at commas and spaces.
            if info.split([',', ' ', '\t']).any(|word| word == "ignore") {
                ignored.push(format!("{page}:{line}: ```{info}"));
            }
        }
    }
    assert!(
        ignored.is_empty(),
        "blocks that nothing compiles:\n{}",
        ignored.join("\n")
    );
}

#[test]
fn relative_links_lead_to_files() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = read(&page);
        let dir = root().join(&page).parent().unwrap().to_owned();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let Some(end) = rest.find(')') else { break };
            let target = &rest[..end];
            let file = target.split('#').next().unwrap();
            let external = target.contains("://") || target.starts_with("mailto:");
            if !external && !file.is_empty() && !file.contains(' ') && !dir.join(file).exists() {
                broken.push(format!("{page}: {target}"));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links to files that do not exist:\n{}",
        broken.join("\n")
    );
}
