//! Challenge 2, unique ids: runs `challenges::nodes::unique_ids`.

use challenges::nodes::unique_ids::UniqueIds;

fn main() {
    glomers::run(UniqueIds::new);
}
