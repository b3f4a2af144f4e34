//! Challenge 1, echo: runs `challenges::nodes::echo`.

use challenges::nodes::echo::Echo;

fn main() {
    glomers::run(Echo);
}
