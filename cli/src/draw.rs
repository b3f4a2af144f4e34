//! The pictures of a stored run, drawn after it by the commands that make
//! or judge runs (`test`, `analyze`, `official`).

use std::path::Path;

use testbench::console;
use testbench::store::RunDir;

/// Draws the pictures of the stored run in `dir` (a failure is reported on
/// stderr: drawing never changes a verdict).
pub fn draw(dir: &Path) {
    match RunDir::open(dir) {
        Ok(run) => testbench::report::draw_or_warn(&run),
        Err(err) => console::warn(&err),
    }
}
