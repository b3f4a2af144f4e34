use glomers::prelude::*;

#[maelstrom_node]
#[derive(Default)]
struct Cache {
    values: Vec<u64>,
}

#[maelstrom_node]
impl Cache {
    #[handle("refresh")]
    async fn refresh(mut node: Node<Self>, ctx: Ctx) -> Result<(), Error> {
        // Smuggling the borrow out of `with` to keep it across the await.
        let values = node.with(|cache| &mut cache.values);
        let value: u64 = ctx.lin_kv().read("k").await?;
        values.push(value);
        Ok(())
    }
}

fn main() {
    glomers::run(Cache::default());
}
