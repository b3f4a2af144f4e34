//! The event loop: read a line, route it, repeat until input ends.

use std::rc::Rc;

use serde::Deserialize;
use smol::LocalExecutor;

use crate::env::{Env, Transport};
use crate::message::{Header, Incoming};
use crate::node::{Handlers, Periodic, Shared};
use crate::{Ctx, Error, Request};

/// Runs `node` on stdin and stdout until stdin closes.
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
///     fn echo(&mut self, echo: Value) -> EchoOk {
///         EchoOk { echo }
///     }
/// }
///
/// #[derive(Serialize)]
/// struct EchoOk {
///     echo: Value,
/// }
///
/// fn main() {
///     glomers::run(Echo);
/// }
/// ```
pub fn run<S: Handlers>(node: S) {
    let (transport, threads) = Transport::stdio();
    run_with(node, Env::new(transport));
    drop(threads); // waits for stdout to take every line
}

/// Runs `node` in `env` until its incoming lines end.
pub fn run_with<S: Handlers>(node: S, env: Env) {
    let executor = Rc::new(LocalExecutor::new());
    let ctx = Ctx::new(&env, &executor);
    let state = Rc::new(std::cell::RefCell::new(node));
    smol::block_on(executor.run(async {
        let mut router = Router { state, ctx };
        while let Ok(line) = env.transport.incoming.recv().await {
            router.route(&line);
        }
    }));
    // Input is over: tell the writer no more lines will come, so that it
    // drains what is queued and ends.
    env.transport.outgoing.close();
}

#[derive(Deserialize)]
struct InitFields {
    node_id: String,
    node_ids: Vec<String>,
}

struct Router<S> {
    state: Shared<S>,
    ctx: Ctx,
}

impl<S: Handlers> Router<S> {
    /// Handles one line; every failure is answered or logged, never fatal.
    fn route(&mut self, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        let message: Incoming = match serde_json::from_str(line) {
            Ok(message) => message,
            Err(err) => {
                return log(format_args!(
                    "ignoring a line that is not a message ({err}): {line}"
                ))
            }
        };
        let header: Header = match serde_json::from_str(message.body.get()) {
            Ok(header) => header,
            Err(err) => {
                return log(format_args!(
                    "ignoring a message whose body is not an object with a string `type` and integer ids ({err}): {line}"
                ))
            }
        };
        if let Some(in_reply_to) = header.in_reply_to {
            if !self.ctx.complete(in_reply_to, message.body) {
                log(format_args!(
                    "ignoring a reply to msg {in_reply_to}, which no RPC is waiting for: {line}"
                ));
            }
            return;
        }
        let Some(kind) = header.kind.as_deref() else {
            let responder = Request {
                src: message.src,
                kind: "<untyped>",
                msg_id: header.msg_id,
                body: message.body,
            }
            .responder();
            return responder.error(
                &self.ctx,
                &Error::malformed_request("the body has no `type` field"),
            );
        };
        let request = Request {
            src: message.src,
            kind,
            msg_id: header.msg_id,
            body: message.body,
        };
        if kind == "init" {
            return self.init(request);
        }
        if !self.ctx.is_initialised() {
            return request.responder().error(
                &self.ctx,
                &Error::temporarily_unavailable(format!(
                    "`{kind}` arrived before `init`; nothing was done"
                )),
            );
        }
        if !S::TYPES.contains(&kind) {
            return request.responder().error(
                &self.ctx,
                &Error::not_supported(format!(
                    "this node does not handle `{kind}`; it handles {}",
                    S::TYPES.join(", ")
                )),
            );
        }
        if let Err(err) = S::dispatch(&self.state, &self.ctx, request) {
            request.responder().error(
                &self.ctx,
                &Error::malformed_request(format!("bad `{kind}` body: {err}")),
            );
        }
    }

    fn init(&mut self, request: Request<'_>) {
        let responder = request.responder();
        let fields: InitFields = match request.parse() {
            Ok(fields) => fields,
            Err(err) => {
                return responder.error(
                    &self.ctx,
                    &Error::malformed_request(format!("bad `init` body: {err}")),
                )
            }
        };
        if !self.ctx.initialise(fields.node_id, fields.node_ids) {
            return responder.error(
                &self.ctx,
                &Error::abort(format!(
                    "already initialised as {}; this init was ignored",
                    self.ctx.node_id()
                )),
            );
        }
        S::on_init(&self.state, &self.ctx, responder);
        for periodic in S::periodic() {
            self.ctx
                .spawn(tick(self.state.clone(), self.ctx.clone(), periodic));
        }
    }
}

/// Runs one periodic method every period, first one period after `init`.
/// Runs are scheduled against a fixed grid, so they do not drift; a run that
/// overruns its period delays the next one instead of overlapping it.
async fn tick<S>(state: Shared<S>, ctx: Ctx, periodic: Periodic<S>) {
    let mut next = ctx.now() + periodic.period;
    loop {
        let now = ctx.now();
        if next > now {
            ctx.sleep(next - now).await;
        }
        if let Some(running) = (periodic.run)(&state, &ctx) {
            running.await;
        }
        next += periodic.period;
        let now = ctx.now();
        if next < now {
            next = now; // fell behind: run once now, not once per missed period
        }
    }
}

fn log(args: std::fmt::Arguments<'_>) {
    eprintln!("glomers: {args}");
}
