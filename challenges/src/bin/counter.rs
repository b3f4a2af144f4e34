//! Challenge 4, grow-only counter (and the `pn-counter` workload): runs
//! `challenges::nodes::counter`.

use challenges::nodes::counter::Counter;

fn main() {
    glomers::run(Counter::default());
}
