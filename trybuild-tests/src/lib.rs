//! Holds the trybuild suite of `#[maelstrom_node]` in `tests/`.
