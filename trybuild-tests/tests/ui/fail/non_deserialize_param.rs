use glomers::prelude::*;

struct Point {
    x: i64,
}

#[maelstrom_node]
struct Plot;

#[maelstrom_node]
impl Plot {
    #[handle("draw")]
    fn draw(&mut self, point: Point) {
        let _ = point.x;
    }
}

fn main() {
    glomers::run(Plot);
}
