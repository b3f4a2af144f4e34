//! The event loop: read a line, route it, repeat until input ends.

use std::cell::{OnceCell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;

use serde::Deserialize;
use smol::LocalExecutor;

use crate::ctx::{Ctx, Delivery};
use crate::env::{Env, Transport};
use crate::error::Error;
use crate::log;
use crate::message::{Header, Ids, Incoming, Request};
use crate::node::{Handlers, Periodic, Shared};
use crate::panic::{catch, Guarded};
use crate::responder::{reply_error, Responder};
use crate::start::{Start, Starting};

/// Runs a node on stdin and stdout until stdin closes.
///
/// `node` is the node's state, or a constructor that builds it at `init`
/// (see [`Start`]).
///
/// ```no_run
/// use glomers::prelude::*;
///
/// #[maelstrom_node]
/// struct Echo;
///
/// #[maelstrom_node]
/// impl Echo {
///     #[handle("echo")]
///     fn echo(&mut self, echo: RawJson) -> EchoOk {
///         EchoOk { echo }
///     }
/// }
///
/// #[derive(Serialize)]
/// struct EchoOk {
///     echo: RawJson,
/// }
///
/// fn main() {
///     glomers::run(Echo);
/// }
/// ```
pub fn run<How, N: Start<How>>(node: N) {
    let (transport, threads) = Transport::stdio();
    run_with(node, Env::new(transport));
    drop(threads); // waits for stdout to take every line
}

/// Runs a node in `env` until its incoming lines end, on the calling thread
/// and no other.
///
/// ```
/// use glomers::prelude::*;
/// use glomers::seams::{Env, Transport};
///
/// #[maelstrom_node]
/// struct Quiet;
///
/// #[maelstrom_node]
/// impl Quiet {}
///
/// let (transport, remote) = Transport::in_memory();
/// remote.to_node.close(); // no input: the node stops at once
/// glomers::seams::run_with(Quiet, Env::new(transport));
/// ```
pub fn run_with<How, N: Start<How>>(node: N, env: Env) {
    let executor = Rc::new(LocalExecutor::new());
    let ctx = Ctx::new(&env, &executor);
    smol::block_on(executor.run(serve(node, env, ctx)));
}

/// Reads the node's input until it ends, routing each line; then closes
/// its output, so that a writer drains what is queued and ends.
async fn serve<How, N: Start<How>>(node: N, env: Env, ctx: Ctx) {
    let mut router = Router {
        start: Some(node),
        state: Rc::new(OnceCell::new()),
        ctx: ctx.clone(),
        how: std::marker::PhantomData,
    };
    loop {
        // Lines that found the transport full go out before more input is
        // read: a node that cannot write stops reading.
        ctx.room().await;
        let Ok(lines) = env.transport.incoming.recv().await else {
            break;
        };
        for line in lines.split('\n') {
            router.route(line);
        }
    }
    ctx.room().await;
    env.transport.outgoing.close();
}

/// A node driven step by step on the caller's thread, for simulators that
/// run many nodes in one thread on a clock of their own.
///
/// [`Stepper::new`] starts the node as [`run_with`] would, without
/// running it; each [`Stepper::run_until_idle`] then runs the node until
/// it waits for something: input on its transport, or a timer of its
/// [`Env`]'s clock. Whoever drives it feeds lines through the transport,
/// reads what the node wrote, and moves the clock. Dropping the stepper
/// drops the node and all its tasks, as a killed process loses its state.
///
/// ```
/// use glomers::prelude::*;
/// use glomers::seams::{Env, Stepper, Transport};
///
/// #[maelstrom_node]
/// struct Echo;
///
/// #[maelstrom_node]
/// impl Echo {
///     #[handle("echo")]
///     fn echo(&mut self, echo: RawJson) -> EchoOk {
///         EchoOk { echo }
///     }
/// }
///
/// #[derive(Serialize)]
/// struct EchoOk {
///     echo: RawJson,
/// }
///
/// let (transport, remote) = Transport::in_memory();
/// let node = Stepper::new(Echo, Env::new(transport));
/// let init = r#"{"src":"c0","dest":"n0","body":{"type":"init","msg_id":1,"node_id":"n0","node_ids":["n0"]}}"#;
/// remote.to_node.try_send(init.to_owned()).unwrap();
/// node.run_until_idle();
/// let reply = remote.from_node.try_recv().unwrap();
/// assert!(reply.contains("init_ok"));
/// assert!(remote.from_node.try_recv().is_err(), "nothing more until more input");
/// ```
pub struct Stepper {
    executor: Rc<LocalExecutor<'static>>,
    task: smol::Task<()>,
    ctx: Ctx,
}

impl Stepper {
    /// Starts `node` (its state, or a constructor; see [`Start`]) in `env`,
    /// without running it yet.
    pub fn new<How: 'static, N: Start<How> + 'static>(node: N, env: Env) -> Self {
        let executor = Rc::new(LocalExecutor::new());
        let ctx = Ctx::new(&env, &executor);
        let task = executor.spawn(serve(node, env, ctx.clone()));
        Stepper {
            executor,
            task,
            ctx,
        }
    }

    /// Runs the node until every one of its tasks waits; returns whether
    /// anything ran.
    pub fn run_until_idle(&self) -> bool {
        self.run_at_most(usize::MAX) > 0
    }

    /// Runs at most `steps` steps of the node's tasks, stopping early once
    /// every task waits; returns how many ran. A node that is still busy
    /// after many steps never waits (a busy loop, which virtual time can
    /// never end).
    pub fn run_at_most(&self, steps: usize) -> usize {
        let mut ran = 0;
        while ran < steps && self.executor.try_tick() {
            ran += 1;
        }
        ran
    }

    /// Whether the node has stopped: its input ended and it is done.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

/// Dropping a stepper tears the node down as a killed process would be:
/// its tasks and state are dropped, and requests they held go unanswered
/// without a log line each.
impl Drop for Stepper {
    fn drop(&mut self) {
        self.ctx.set_torn_down();
    }
}

impl std::fmt::Debug for Stepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stepper")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct InitFields {
    node_id: String,
    node_ids: Vec<String>,
}

impl InitFields {
    /// Why these ids cannot be the cluster's, if they cannot.
    fn problem(&self) -> Option<String> {
        if self.node_id.is_empty() {
            return Some("`node_id` is empty".to_owned());
        }
        if !self.node_ids.contains(&self.node_id) {
            return Some(format!(
                "`node_id` {:?} is not one of `node_ids` {:?}",
                self.node_id, self.node_ids
            ));
        }
        let mut seen = HashSet::new();
        if let Some(twice) = self.node_ids.iter().find(|id| !seen.insert(*id)) {
            return Some(format!("`node_ids` lists {twice:?} twice"));
        }
        None
    }
}

struct Router<How, N: Start<How>> {
    /// What builds the state; taken at `init`.
    start: Option<N>,
    /// The node's state, once built.
    state: Rc<OnceCell<Shared<N::Node>>>,
    ctx: Ctx,
    how: std::marker::PhantomData<How>,
}

impl<How, N: Start<How>> Router<How, N> {
    /// Handles one line; every failure is answered or logged, never fatal.
    fn route(&mut self, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        let message: Incoming = match serde_json::from_str(line) {
            Ok(message) => message,
            Err(err) => {
                return log::write(format_args!(
                    "ignoring a line that is not a message ({err}): {line}"
                ))
            }
        };
        let me = self.ctx.node_id();
        if let Some(dest) = message.dest.as_deref() {
            if !me.is_empty() && dest != me {
                return log::write(format_args!(
                    "ignoring a message addressed to {dest}, not to this node ({me}): {line}"
                ));
            }
        }
        let header: Header = match serde_json::from_str(message.body.get()) {
            Ok(header) => header,
            Err(err) => return self.malformed_header(&message, &err.to_string(), line),
        };
        if let Some(in_reply_to) = header.in_reply_to {
            return self.reply(&message, in_reply_to, line);
        }
        let request = Request {
            src: &message.src,
            kind: header.kind.as_deref().unwrap_or("<untyped>"),
            msg_id: header.msg_id,
            body: message.body,
        };
        if header.kind.is_none() {
            return self.refuse(
                &message,
                &request,
                Error::malformed_request("the body has no `type` field"),
            );
        }
        let kind = request.kind;
        if kind == "init" {
            return self.init(&message, &request);
        }
        let Some(state) = self.state.get() else {
            let text = if self.ctx.is_initialised() {
                format!("`{kind}` arrived before the node was built (its constructor is still running, or failed); nothing was done")
            } else {
                format!("`{kind}` arrived before `init`; nothing was done")
            };
            return self.refuse(&message, &request, Error::temporarily_unavailable(text));
        };
        if !N::Node::TYPES.contains(&kind) {
            return reply_error(
                &self.ctx,
                request.reply_to(),
                &Error::not_supported(format!(
                    "this node does not handle `{kind}`; it handles {}",
                    N::Node::TYPES.join(", ")
                )),
            );
        }
        let what = format_args!("the `{kind}` handler");
        let parsed = catch(&self.ctx, &what, || {
            N::Node::dispatch(state, &self.ctx, request)
        });
        if let Some(Err(err)) = parsed {
            reply_error(
                &self.ctx,
                request.reply_to(),
                &Error::malformed_request(format!("bad `{kind}` body: {err}")),
            );
        }
    }

    /// A body whose `type` is not a string (or is given twice): answered
    /// with error 12 when its `msg_id` can be read, else logged.
    fn malformed_header(&self, message: &Incoming<'_>, err: &str, line: &str) {
        let ids: Option<Ids> = serde_json::from_str(message.body.get()).ok();
        match ids {
            Some(Ids {
                msg_id: Some(msg_id),
                in_reply_to: None,
            }) => {
                let request = Request {
                    src: &message.src,
                    kind: "<malformed>",
                    msg_id: Some(msg_id),
                    body: message.body,
                };
                self.refuse(
                    message,
                    &request,
                    Error::malformed_request(format!(
                        "the body's `type` must be one string and its ids integers: {err}"
                    )),
                );
            }
            _ => log::write(format_args!(
                "ignoring a message whose body is not an object with a string `type` and integer ids ({err}): {line}"
            )),
        }
    }

    /// Hands a reply to the RPC waiting for it.
    fn reply(&self, message: &Incoming<'_>, in_reply_to: u64, line: &str) {
        match self.ctx.complete(in_reply_to, &message.src, message.body) {
            Delivery::Delivered => {}
            Delivery::NobodyWaiting => log::write(format_args!(
                "ignoring a reply to msg {in_reply_to}, which no RPC is waiting for: {line}"
            )),
            Delivery::WrongSender { expected } => log::write(format_args!(
                "ignoring a stray reply to msg {in_reply_to}: that RPC went to {expected}, not to {}: {line}",
                message.src
            )),
        }
    }

    /// Answers `request` with `error`, from the id it was addressed to when
    /// the node has none yet.
    fn refuse(&self, message: &Incoming<'_>, request: &Request<'_>, error: Error) {
        let mut reply_to = request.reply_to();
        if !self.ctx.is_initialised() {
            reply_to.from = message.dest.as_deref().map(str::to_owned);
        }
        reply_error(&self.ctx, reply_to, &error);
    }

    fn init(&mut self, message: &Incoming<'_>, request: &Request<'_>) {
        let fields: InitFields = match request.parse() {
            Ok(fields) => fields,
            Err(err) => {
                return self.refuse(
                    message,
                    request,
                    Error::malformed_request(format!("bad `init` body: {err}")),
                )
            }
        };
        if self.ctx.is_initialised() {
            return reply_error(
                &self.ctx,
                request.reply_to(),
                &Error::abort(format!(
                    "already initialised as {}; this init was ignored",
                    self.ctx.node_id()
                )),
            );
        }
        if let Some(problem) = fields.problem() {
            return self.refuse(
                message,
                request,
                Error::malformed_request(format!(
                    "bad `init`: {problem}; the node stays uninitialised"
                )),
            );
        }
        let Some(start) = self.start.take() else {
            return; // unreachable: `start` goes with the first valid init
        };
        self.ctx.initialise(fields.node_id, fields.node_ids);
        let responder: Responder = Responder::new(&self.ctx, request.reply_to());
        // The responder goes into the closure and comes back out: if the
        // constructor panics, it is dropped while unwinding and answered
        // with error 13 naming the panic.
        let built = catch(&self.ctx, &"the node's constructor", || {
            let responder = responder;
            (responder, start.start(&self.ctx))
        });
        match built {
            None => {}
            Some((responder, Starting::Ready(Ok(node)))) => {
                started(&self.state, &self.ctx, node, responder)
            }
            Some((responder, Starting::Ready(Err(err)))) => responder.error(err),
            Some((responder, Starting::Later(building))) => {
                let slot = self.state.clone();
                let ctx = self.ctx.clone();
                let task = async move {
                    let built = building.await;
                    match built {
                        Ok(node) => started(&slot, &ctx, node, responder),
                        Err(err) => responder.error(err),
                    }
                };
                self.ctx
                    .spawn_guarded("the node's async constructor", Box::pin(task));
            }
        }
    }
}

/// Installs the built state, runs the init hook (which answers `init`) and
/// starts the periodic methods.
fn started<S: Handlers>(slot: &OnceCell<Shared<S>>, ctx: &Ctx, node: S, responder: Responder) {
    let state = slot.get_or_init(|| Rc::new(RefCell::new(node)));
    catch(ctx, &"the `#[init]` method", || {
        S::on_init(state, ctx, responder)
    });
    for periodic in S::periodic() {
        ctx.spawn_guarded(
            "a periodic method",
            Box::pin(tick(state.clone(), ctx.clone(), periodic)),
        );
    }
}

/// Runs one periodic method every period, first one period after `init`.
/// Runs are scheduled against a fixed grid, so they do not drift; a run that
/// overruns its period delays the next one instead of overlapping it. A run
/// that panics is reported, and the next one runs as planned.
async fn tick<S>(state: Shared<S>, ctx: Ctx, periodic: Periodic<S>) {
    let what = format!("the `#[every]` method `{}`", periodic.name);
    let mut next = ctx.now() + periodic.period;
    loop {
        let now = ctx.now();
        if next > now {
            ctx.sleep(next - now).await;
        }
        if let Some(Some(running)) = catch(&ctx, &what, || (periodic.run)(&state, &ctx)) {
            Guarded::new(&ctx, what.clone(), running).await;
        }
        next += periodic.period;
        let now = ctx.now();
        if next < now {
            next = now; // fell behind: run once now, not once per missed period
        }
    }
}
