//! Challenge 2, unique ids: answer every `generate` with an id no other
//! request, on any node, ever gets.
//!
//! The ids are 64-bit snowflakes (time, node index, sequence; see
//! `challenges::snowflake`): no coordination, so partitions change nothing,
//! and unique across restarts of a node's process.

use challenges::snowflake::IdGenerator;
use glomers::prelude::*;

#[maelstrom_node]
#[derive(Default)]
struct UniqueIds {
    ids: Option<IdGenerator>,
}

#[maelstrom_node]
impl UniqueIds {
    #[init]
    fn start(&mut self, ctx: &Ctx) -> Result<(), Error> {
        let index = ctx.node_ids().iter().position(|id| id == ctx.node_id());
        let ids = index.and_then(|index| IdGenerator::new(index, millis(ctx)));
        self.ids = Some(ids.ok_or_else(|| {
            Error::abort("the node must be one of at most 1024 listed in node_ids")
        })?);
        Ok(())
    }

    #[handle("generate")]
    fn generate(&mut self, ctx: &Ctx) -> Result<GenerateOk, Error> {
        let ids = self
            .ids
            .as_mut()
            .ok_or_else(|| Error::temporarily_unavailable("no init"))?;
        Ok(GenerateOk {
            id: ids.next(|| millis(ctx)),
        })
    }
}

fn millis(ctx: &Ctx) -> u64 {
    u64::try_from(ctx.now().as_millis()).unwrap_or(u64::MAX)
}

#[derive(Serialize)]
struct GenerateOk {
    id: u64,
}

fn main() {
    glomers::run(UniqueIds::default());
}
