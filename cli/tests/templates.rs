//! The nodes `glomers new` writes, compiled and swept here as the crates
//! it makes would run them (each template's own `#[cfg(test)]` sweep runs
//! as part of this test binary): a template that stops compiling or
//! passing fails `cargo test` before any user meets it. `.ci/run` also
//! builds each generated crate on its own, from an installed `glomers`.

#![allow(dead_code)] // each template's `main` is not called here

#[path = "../templates/broadcast.rs"]
mod broadcast;
#[path = "../templates/echo.rs"]
mod echo;
#[path = "../templates/g_counter.rs"]
mod g_counter;
#[path = "../templates/g_set.rs"]
mod g_set;
#[path = "../templates/kafka.rs"]
mod kafka;
#[path = "../templates/lin_kv.rs"]
mod lin_kv;
#[path = "../templates/pn_counter.rs"]
mod pn_counter;
#[path = "../templates/txn_list_append.rs"]
mod txn_list_append;
#[path = "../templates/txn_rw_register.rs"]
mod txn_rw_register;
#[path = "../templates/unique_ids.rs"]
mod unique_ids;
