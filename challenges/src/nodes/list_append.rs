//! Maelstrom's Datomic chapter (`-w txn-list-append`): strict-serializable
//! transactions of reads and appends, Datomic style on the `lin-kv`
//! service (`challenges::datomic`).
//!
//! # Why `lin-kv`, not the Raft module
//!
//! The services are never partitioned: every node reaches `lin-kv` through
//! any partition, so the store stays available with 2 nodes, where Raft
//! (a majority of 2 is both) would stop at every partition, and needs no
//! replication of its own. What it costs is messages: every transaction
//! takes a few round trips to the service, against about one append round
//! per batch for Raft.
//!
//! # How a transaction commits
//!
//! Database values are immutable: each commit is stored under a fresh id
//! as the elements it appended plus the id of the commit before it, and the
//! key `root` in `lin-kv` names the latest commit. A node runs the
//! transactions that arrived while its previous round ran, together, as
//! one batch:
//!
//! 1. it runs the batch in order on the database it holds (each
//!    transaction sees the ones before it);
//! 2. a batch with appends stores the next commit and moves `root` to it
//!    with a compare-and-set from the commit it built on. If that succeeds,
//!    the database was current and the whole batch took effect at that
//!    instant. If another node moved `root` first, nothing happened: the
//!    node reads `root`, fetches the commits it lacks, and starts over
//!    (after a short random pause from the second conflict on, for one
//!    second at most, then error 30, definite);
//! 3. a batch without appends first reads `root` (after every transaction
//!    of the batch arrived) and fetches the commits it lacks, then is
//!    answered from the database current at that read.
//!
//! So every transaction takes effect at one instant between its request
//! and its answer (strict serializability), and aborted attempts leave
//! only unreferenced values behind. A failed read of `root` or of a commit,
//! or a failed store, changed nothing: error 11. A compare-and-set whose
//! answer is lost may or may not have happened: error 13, indefinite.
//!
//! # Messages
//!
//! A node that commits also sends the commit to every other node, which
//! applies it at once if it is idle, so that its database is usually
//! current when its next batch arrives (a partition may drop a push; then
//! the node reads the commit from `lin-kv` when it needs it). A batch with
//! appends then costs a store and a compare-and-set, 4 messages with the
//! replies, plus one push per peer; a read-only batch costs a read of
//! `root`, 2 messages; a conflict costs a read of `root`, the commits
//! missed, and another attempt. All of it is shared by every transaction
//! of the batch. Every 64th commit also stores a checkpoint of the whole
//! database, so that a node that fell far behind loads it instead of the
//! whole chain.

use std::collections::HashMap;
use std::time::Duration;

use crate::datomic::{self, Checkpoint, Commit, Database, MicroOp};
use glomers::prelude::*;

/// The `lin-kv` key that names the latest commit.
const ROOT: &str = "root";

/// Commits pushed by other nodes that a node keeps, at most.
const HEARD_MAX: usize = 1024;

/// How long a batch may keep losing to other nodes' commits before it
/// gives up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(1);

/// Built at `init`: the ids of what it stores start with its node id.
#[maelstrom_node]
pub struct ListAppend {
    /// Makes this process's ids unique: node id and start time.
    prefix: String,
    stored: u64,
    /// The latest database this node assembled (taken by a running round).
    db: Database,
    /// Commits other nodes pushed, by id, until they are needed.
    heard: HashMap<String, Commit>,
    /// Transactions waiting for the next round.
    queue: Vec<(Vec<MicroOp>, Responder<TxnOk>)>,
    /// Whether a round is running.
    busy: bool,
}

#[maelstrom_node]
impl ListAppend {
    /// Queues the transaction; the first request to find no round running
    /// runs rounds until the queue is empty.
    #[handle("txn")]
    async fn txn(mut node: Node<Self>, ctx: Ctx, txn: Vec<MicroOp>, reply: Responder<TxnOk>) {
        if let Err(err) = datomic::validate(&txn) {
            return reply.error(Error::malformed_request(err));
        }
        let start = node.with(|s| {
            s.queue.push((txn, reply));
            !std::mem::replace(&mut s.busy, true)
        });
        if !start {
            return;
        }
        let mut db = node.with(|s| std::mem::take(&mut s.db));
        loop {
            let batch = node.with(|s| std::mem::take(&mut s.queue));
            if batch.is_empty() {
                break;
            }
            let (txns, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            match commit(&mut node, &ctx, &mut db, txns).await {
                Ok(done) => {
                    for (reply, txn) in replies.into_iter().zip(done) {
                        reply.ok(TxnOk { txn });
                    }
                }
                Err(err) => replies
                    .into_iter()
                    .for_each(|reply| reply.error(err.clone())),
            }
        }
        node.with(|s| {
            s.db = db;
            s.busy = false;
        });
    }

    /// A commit another node made, pushed so that this one need not read it
    /// from `lin-kv`.
    #[handle("committed", no_reply)]
    fn on_committed(&mut self, id: String, commit: Commit) {
        if self.busy || !self.db.apply(&id, &commit) {
            if self.heard.len() >= HEARD_MAX {
                self.heard.clear();
            }
            self.heard.insert(id, commit);
        }
    }
}

/// Runs `txns` as one batch until it commits (see the module's steps);
/// returns them with their reads filled in.
async fn commit(
    node: &mut Node<ListAppend>,
    ctx: &Ctx,
    db: &mut Database,
    txns: Vec<Vec<MicroOp>>,
) -> Result<Vec<Vec<MicroOp>>, Error> {
    let kv = ctx.lin_kv();
    let start = ctx.now();
    // Whether `db` was brought up to `root` in this round: a batch with
    // appends may try its compare-and-set on the database the node holds
    // (kept current by pushes), since success proves it current; a
    // read-only batch may not.
    let mut checked = false;
    for attempt in 1.. {
        let (done, appended) = datomic::run(&db.lists, txns.clone());
        if appended.is_empty() {
            if checked {
                return Ok(done);
            }
            catch_up(node, &kv, db).await.map_err(nothing_done)?;
            checked = true;
            continue;
        }
        let (mut next, due) = db.next_commit(appended);
        let id = node.with(ListAppend::fresh_id);
        if due {
            let mut lists = db.lists.clone();
            for (key, elements) in &next.appended {
                lists
                    .entry(*key)
                    .or_default()
                    .extend(elements.iter().cloned());
            }
            let checkpoint = Checkpoint {
                id: id.clone(),
                seq: next.seq,
                lists,
            };
            let checkpoint_id = node.with(ListAppend::fresh_id);
            kv.write(&checkpoint_id, &checkpoint)
                .await
                .map_err(nothing_done)?;
            next.checkpoint = Some(checkpoint_id);
        }
        kv.write(&id, &next).await.map_err(nothing_done)?;
        match kv.cas(ROOT, &db.id, &id, db.id.is_empty()).await {
            Ok(()) => {
                for peer in ctx.peers() {
                    let (id, commit) = (id.clone(), next.clone());
                    ctx.send(peer, &ListAppendMsg::Committed { id, commit });
                }
                db.apply(&id, &next);
                return Ok(done);
            }
            Err(err)
                if [ErrorCode::PreconditionFailed, ErrorCode::KeyDoesNotExist]
                    .contains(&err.code) =>
            {
                if ctx.now().saturating_sub(start) >= GIVE_UP_AFTER {
                    break;
                }
                if checked {
                    // Up to 1, 2, 3 ... ms, so that racing nodes fall out
                    // of step.
                    let pause = ctx.random_below(1000 * attempt.min(20) + 1);
                    ctx.sleep(Duration::from_micros(pause)).await;
                }
                catch_up(node, &kv, db).await.map_err(nothing_done)?;
                checked = true;
            }
            Err(err) if err.is_definite() => return Err(nothing_done(err)),
            Err(err) => {
                return Err(Error::crash(format!(
                    "the commit may or may not have happened: {err}"
                )))
            }
        }
    }
    Err(Error::txn_conflict(format!(
        "other nodes kept committing first for {GIVE_UP_AFTER:?}; nothing was done"
    )))
}

/// Brings `db` up to the commit `root` names: the commits since (pushed,
/// or else read), or the latest checkpoint and the commits after it when
/// `db` is far behind.
async fn catch_up(node: &mut Node<ListAppend>, kv: &Kv, db: &mut Database) -> Result<(), Error> {
    let root: String = kv.read_or(ROOT, String::new()).await?;
    let result = follow(node, kv, db, root).await;
    let seq = db.seq;
    node.with(|s| s.heard.retain(|_, commit| commit.seq > seq));
    result
}

/// Moves `db` to commit `root`.
async fn follow(
    node: &mut Node<ListAppend>,
    kv: &Kv,
    db: &mut Database,
    root: String,
) -> Result<(), Error> {
    if root == db.id {
        return Ok(());
    }
    let head = fetch(node, kv, &root).await?;
    if head.seq > db.seq + datomic::CHECKPOINT_EVERY {
        if let Some(checkpoint_id) = &head.checkpoint {
            let checkpoint: Checkpoint = kv.read(checkpoint_id).await?;
            *db = Database::from_checkpoint(checkpoint_id, checkpoint);
            if root == db.id {
                return Ok(());
            }
        }
    }
    let mut chain = vec![(root, head)];
    while let Some((_, last)) = chain.last().filter(|(_, c)| c.prev != db.id) {
        if last.seq <= db.seq + 1 {
            return Err(Error::crash(
                "the commits in lin-kv do not lead to this node's database",
            ));
        }
        let id = last.prev.clone();
        let commit = fetch(node, kv, &id).await?;
        chain.push((id, commit));
    }
    for (id, commit) in chain.iter().rev() {
        db.apply(id, commit);
    }
    Ok(())
}

/// Commit `id`, as pushed by the node that made it or else from `lin-kv`.
async fn fetch(node: &mut Node<ListAppend>, kv: &Kv, id: &str) -> Result<Commit, Error> {
    match node.with(|s| s.heard.remove(id)) {
        Some(commit) => Ok(commit),
        None => kv.read(id).await,
    }
}

/// An error of a step after which nothing has changed: definite.
fn nothing_done(err: Error) -> Error {
    Error::temporarily_unavailable(format!("nothing was committed: {err}"))
}

impl ListAppend {
    /// A node with an empty database, its stored ids prefixed with its
    /// node id and start time.
    pub fn new(ctx: &Ctx) -> Self {
        ListAppend {
            prefix: format!("{}-{}", ctx.node_id(), ctx.now().as_millis()),
            stored: 0,
            db: Database::default(),
            heard: HashMap::new(),
            queue: Vec::new(),
            busy: false,
        }
    }

    /// An id no node has used for a stored value.
    fn fresh_id(&mut self) -> String {
        self.stored += 1;
        format!("{}-{}", self.prefix, self.stored)
    }
}

#[derive(Serialize)]
struct TxnOk {
    txn: Vec<MicroOp>,
}
