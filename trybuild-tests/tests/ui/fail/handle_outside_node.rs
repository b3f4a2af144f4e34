use glomers::prelude::*;

#[handle("echo")]
fn echo() {}

struct Plain;

impl Plain {
    #[every(ms = 100)]
    fn tick(&mut self) {}

    #[glomers::init]
    fn start(&mut self) {}
}

fn main() {
    echo();
    Plain.tick();
    Plain.start();
}
