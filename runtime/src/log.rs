//! The node's log: lines on stderr that never stop the node.
//!
//! `eprintln!` panics when stderr cannot be written (closed, or a full
//! disk: `2>/dev/full`); a node must not die of its own diagnostics, so
//! every line the runtime and the generated code log goes through
//! [`write`], which ignores write failures.

use std::fmt;
use std::io::Write;

/// Writes `glomers: <args>` and a newline to stderr, ignoring failures.
pub(crate) fn write(args: fmt::Arguments<'_>) {
    line(format_args!("glomers: {args}"));
}

/// Writes `args` and a newline to stderr, ignoring failures.
pub(crate) fn line(args: fmt::Arguments<'_>) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{args}");
}

/// Writes one line to the node's log (stderr), like `eprintln!`, but a
/// log that cannot be written is ignored instead of panicking.
///
/// ```
/// let peer = "n2";
/// glomers::log!("ignoring a batch from {peer}: its offsets would overflow");
/// ```
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::__private::log_line(::std::format_args!($($arg)*))
    };
}
