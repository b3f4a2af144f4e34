use glomers::prelude::*;

#[maelstrom_node]
#[derive(Default)]
struct Cache {
    value: u64,
}

#[maelstrom_node]
impl Cache {
    #[handle("refresh")]
    async fn refresh(&mut self, ctx: Ctx) -> Result<(), Error> {
        self.value = ctx.lin_kv().read("k").await?;
        Ok(())
    }
}

fn main() {
    glomers::run(Cache::default());
}
