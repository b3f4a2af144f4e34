//! The bench's own output. Writing to a closed pipe, a full disk or an
//! unwritable terminal must never stop a run or hide its verdict, so every
//! write here ignores failure (where `print!` would panic).

use std::io::Write;

/// Writes `text` to stdout and flushes; failures are ignored.
pub fn stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Writes `text` to stderr; failures are ignored.
pub fn stderr(text: &str) {
    stderr_bytes(text.as_bytes());
}

/// Writes raw bytes to stderr; failures are ignored.
pub fn stderr_bytes(bytes: &[u8]) {
    let _ = std::io::stderr().lock().write_all(bytes);
}

/// `testbench: <message>` and a newline on stderr.
pub fn warn(message: &str) {
    stderr(&format!("testbench: {message}\n"));
}
