//! The `g-set` workload: runs `challenges::nodes::g_set`.

use challenges::nodes::g_set::GSet;

fn main() {
    glomers::run(GSet::new);
}
