//! `glomers serve [--store DIR] [--port N]`: a local web page listing
//! every run in the store, newest first, each opening its `index.html`
//! (drawn on the first visit for a run stored without pictures); every
//! file of the store is served as it is.
//!
//! ```no_run
//! use glomers_cli::args::Serve;
//!
//! glomers_cli::serve::serve(&Serve { store: "store".into(), port: 8080, host: "127.0.0.1".into() })?;
//! # Ok::<(), String>(())
//! ```

use std::fmt::Write;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use tiny_http::{Header, Response, Server, StatusCode};

use testbench::config::Config;
use testbench::report::html::escape;
use testbench::report::{findings, index};
use testbench::store::RunDir;

use crate::args::Serve;

/// How often the server looks for a stop signal between requests.
const SIGNAL_POLL: Duration = Duration::from_millis(100);

/// Serves until a `SIGINT`, `SIGTERM` or `SIGHUP` (with
/// [`testbench::interrupt::install`]'s handlers in place; without them the
/// signal's default ends the process). The first line on stdout is
/// `glomers: serving STORE on http://HOST:PORT/` (with the port chosen
/// when `--port 0`); the last, once a signal stopped it, `glomers: stopped
/// serving (SIGTERM)`.
pub fn serve(options: &Serve) -> Result<(), String> {
    let server = Server::http((options.host.as_str(), options.port))
        .map_err(|err| format!("cannot listen on {}:{}: {err}", options.host, options.port))?;
    let address = server.server_addr().to_ip().map_or_else(
        || format!("{}:{}", options.host, options.port),
        |a| a.to_string(),
    );
    println!(
        "glomers: serving {} on http://{address}/",
        options.store.display()
    );
    let _ = std::io::stdout().flush();
    loop {
        if let Some(signal) = testbench::interrupt::received() {
            println!(
                "glomers: stopped serving ({})",
                testbench::interrupt::name(signal)
            );
            return Ok(());
        }
        let request = match server.recv_timeout(SIGNAL_POLL) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(err) => return Err(format!("the server failed: {err}")),
        };
        let response = respond(&options.store, request.url());
        if let Err(err) = request.respond(response) {
            eprintln!("glomers: a reply was not sent: {err}");
        }
    }
}

/// The answer to a request for `url` (path and query) from `store`.
pub fn respond(store: &Path, url: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let Some(relative) = decode(path).and_then(|p| safe_relative(&p)) else {
        return text(StatusCode(400), "a path outside the store");
    };
    if relative.as_os_str().is_empty() {
        return page(
            StatusCode(200),
            "text/html; charset=utf-8",
            runs_page(store).into_bytes(),
        );
    }
    let full = store.join(&relative);
    // Links inside the store (`latest`) are followed, but only to files in it.
    let (Ok(root), Ok(target)) = (store.canonicalize(), full.canonicalize()) else {
        return text(StatusCode(404), "no such file in the store");
    };
    if !target.starts_with(&root) {
        return text(StatusCode(403), "a link that leaves the store");
    }
    if target.is_dir() {
        if !path.ends_with('/') {
            return redirect(&format!("{path}/"));
        }
        if !target.join("index.html").is_file() {
            draw_if_run(&target);
        }
        if target.join("index.html").is_file() {
            return redirect(&format!("{path}index.html"));
        }
        return page(
            StatusCode(200),
            "text/html; charset=utf-8",
            listing(&target, path).into_bytes(),
        );
    }
    match std::fs::read(&target) {
        Ok(bytes) => page(StatusCode(200), content_type(&target), bytes),
        Err(err) => text(StatusCode(500), &format!("cannot read the file: {err}")),
    }
}

/// Draws the pictures of a stored run that has none yet (a simulator's
/// run kept without them); any other folder is left as it is.
fn draw_if_run(dir: &Path) {
    if let Ok(run) = RunDir::open(dir) {
        if run.has_history() {
            testbench::report::draw_or_warn(&run);
        }
    }
}

/// One run of the store, as the list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// The run's path inside the store (`broadcast/20261122T031500.123`).
    pub path: String,
    pub workload: String,
    /// The run's folder name: its UTC start time.
    pub time: String,
    pub nodes: Option<u64>,
    /// `valid`, `invalid`, `unknown`, or `incomplete` (no results yet).
    pub verdict: String,
    /// Kinds of what the checkers found, with counts.
    pub found: Vec<(String, usize)>,
    pub figures: Vec<(&'static str, String)>,
}

/// Every run in the store, newest first.
pub fn runs(store: &Path) -> Vec<RunSummary> {
    let mut runs = Vec::new();
    for workload in entries(store) {
        let workload_dir = store.join(&workload);
        if workload == "latest" || !workload_dir.is_dir() || is_link(&workload_dir) {
            continue;
        }
        for name in entries(&workload_dir) {
            let dir = workload_dir.join(&name);
            if name == "latest" || !dir.is_dir() || is_link(&dir) {
                continue;
            }
            runs.push(summarize(&dir, &workload, &name));
        }
    }
    runs.sort_by(|a, b| b.time.cmp(&a.time).then(b.workload.cmp(&a.workload)));
    runs
}

fn summarize(dir: &Path, workload: &str, name: &str) -> RunSummary {
    let run = RunDir::open(dir).ok();
    let config: Option<Config> = run.as_ref().and_then(|run| run.config().ok());
    let results = run
        .and_then(|run| run.results().ok())
        .filter(|results| !results.is_null());
    let (verdict, found, figures) = match results {
        Some(results) => {
            let run = testbench::report::data::RunData {
                results,
                ..Default::default()
            };
            let mut kinds: Vec<(String, usize)> = Vec::new();
            for finding in findings::findings(&run) {
                match kinds.iter_mut().find(|(k, _)| *k == finding.kind) {
                    Some((_, n)) => *n += 1,
                    None => kinds.push((finding.kind, 1)),
                }
            }
            let figures = index::key_figures(&run.results)
                .into_iter()
                .filter(|(label, _)| !matches!(*label, "seed" | "check-seconds"))
                .collect();
            (index::verdict(&run.results).to_owned(), kinds, figures)
        }
        None => ("incomplete".to_owned(), Vec::new(), Vec::new()),
    };
    RunSummary {
        path: format!("{workload}/{name}"),
        workload: workload.to_owned(),
        time: name.to_owned(),
        nodes: config.map(|c| c.node_total() as u64),
        verdict,
        found,
        figures,
    }
}

/// The list of runs.
fn runs_page(store: &Path) -> String {
    let runs = runs(store);
    let mut out = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>testbench runs</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 20px; color: #222; }}
a {{ color: #2563eb; }} table {{ border-collapse: collapse; }}
td, th {{ padding: 4px 12px 4px 0; text-align: left; vertical-align: top; border-bottom: 1px solid #eee; }}
.valid {{ color: #16a34a; font-weight: bold; }} .invalid {{ color: #dc2626; font-weight: bold; }}
.unknown, .incomplete {{ color: #d97706; font-weight: bold; }} small {{ color: #555; }}
</style></head><body>
<h1>testbench runs</h1>
<p>{} runs in <code>{}</code>, newest first.</p>
<table id="runs"><tr><th>time (UTC)</th><th>workload</th><th>nodes</th><th>verdict</th><th>key figures</th></tr>
"#,
        runs.len(),
        escape(&store.display().to_string())
    );
    for run in &runs {
        let found: Vec<String> = run.found.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let figures: Vec<String> = run
            .figures
            .iter()
            .map(|(label, text)| format!("{label}: {text}"))
            .collect();
        writeln!(
            out,
            "<tr class=\"run\" data-verdict=\"{verdict}\" data-workload=\"{workload}\"><td><a href=\"{path}/\">{time}</a></td>\
             <td>{workload}</td><td>{nodes}</td><td class=\"{verdict}\">{verdict}<br><small>{found}</small></td>\
             <td><small>{figures}</small></td></tr>",
            verdict = escape(&run.verdict),
            workload = escape(&run.workload),
            path = escape(&run.path),
            time = escape(&run.time),
            nodes = run.nodes.map_or_else(String::new, |n| n.to_string()),
            found = escape(&found.join(", ")),
            figures = figures.iter().map(|f| escape(f)).collect::<Vec<_>>().join("<br>"),
        )
        .unwrap();
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

/// A folder's files, for a run that has no `index.html` yet.
fn listing(dir: &Path, path: &str) -> String {
    let mut out = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{0}</title></head><body><h1>{0}</h1><ul>",
        escape(path)
    );
    for name in entries(dir) {
        let slash = if dir.join(&name).is_dir() { "/" } else { "" };
        write!(
            out,
            "<li><a href=\"{0}{slash}\">{0}{slash}</a></li>",
            escape(&name)
        )
        .unwrap();
    }
    out.push_str("</ul></body></html>\n");
    out
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

fn is_link(path: &Path) -> bool {
    path.symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
}

/// A URL path's percent-escapes decoded; `None` if they do not make UTF-8.
fn decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The path relative to the store, if it stays inside (no `..`).
fn safe_relative(path: &str) -> Option<PathBuf> {
    let mut relative = PathBuf::new();
    for component in Path::new(path.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(relative)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        // Histories, journals and logs are read in the browser as text.
        _ => "text/plain; charset=utf-8",
    }
}

fn page(status: StatusCode, kind: &str, body: Vec<u8>) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_data(body)
        .with_status_code(status)
        .with_header(header("Content-Type", kind))
        .with_header(header("Cache-Control", "no-store"))
}

fn text(status: StatusCode, message: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    page(
        status,
        "text/plain; charset=utf-8",
        format!("{message}\n").into_bytes(),
    )
}

fn redirect(to: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    page(StatusCode(302), "text/plain; charset=utf-8", Vec::new())
        .with_header(header("Location", to))
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_store() {
        assert_eq!(safe_relative("/"), Some(PathBuf::new()));
        assert_eq!(
            safe_relative("/echo/latest/index.html"),
            Some(PathBuf::from("echo/latest/index.html"))
        );
        assert_eq!(safe_relative("/echo/../../etc/passwd"), None);
        assert_eq!(decode("/a%20b/%2e%2e").as_deref(), Some("/a b/.."));
        assert_eq!(safe_relative(&decode("/%2e%2e/x").unwrap()), None);
        assert_eq!(decode("/%zz"), None);
        assert_eq!(decode("/%"), None);
    }
}
