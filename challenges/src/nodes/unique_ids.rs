//! Challenge 2, unique ids: answer every `generate` with an id no other
//! request, on any node, ever gets.
//!
//! The ids are 64-bit snowflakes (time, node index, sequence; see
//! `challenges::snowflake`): no coordination, so partitions change nothing,
//! and unique across restarts of a node's process.

use crate::snowflake::IdGenerator;
use glomers::prelude::*;

/// Built at `init`: the generator needs the node's index among the ids.
#[maelstrom_node]
pub struct UniqueIds {
    ids: IdGenerator,
}

impl UniqueIds {
    /// A node built at `init`, from its index among the node ids.
    pub fn new(ctx: &Ctx) -> Result<Self, Error> {
        let index = ctx.node_ids().iter().position(|id| id == ctx.node_id());
        let ids = index.and_then(|index| IdGenerator::new(index, millis(ctx)));
        let ids = ids.ok_or_else(|| {
            Error::abort("the node must be one of at most 1024 listed in node_ids")
        })?;
        Ok(UniqueIds { ids })
    }
}

#[maelstrom_node]
impl UniqueIds {
    #[handle("generate")]
    fn generate(&mut self, ctx: &Ctx) -> GenerateOk {
        GenerateOk {
            id: self.ids.next(|| millis(ctx)),
        }
    }
}

fn millis(ctx: &Ctx) -> u64 {
    u64::try_from(ctx.now().as_millis()).unwrap_or(u64::MAX)
}

#[derive(Serialize)]
struct GenerateOk {
    id: u64,
}
