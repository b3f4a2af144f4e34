//! The handler boundary: a panic in user code (a handler, an `every`
//! method, an init hook, a spawned task) is caught there, reported on
//! stderr, and every request it left unanswered gets error 13 (crash,
//! indefinite) with the panic's message. The node keeps serving.
//!
//! Spawning user code goes through it, so [`Ctx::spawn`] and
//! `Ctx::spawn_guarded` are here, in an `impl Ctx` of this module.
//!
//! The requests to answer are found through their [`Responder`]s: one
//! dropped while a panic unwinds (or while the runtime drops a future that
//! panicked) hands its address to the `Ctx` instead of logging it as
//! forgotten, and [`crashed`] answers them.
//!
//! [`Responder`]: crate::responder::Responder

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::ctx::{Ctx, LocalFuture};
use crate::error::Error;
use crate::log;
use crate::responder::reply_error;

// Spawning user code: here, behind the boundary, rather than in `ctx`, which
// the boundary itself builds on.
impl Ctx {
    /// Runs `future` on the node's executor, beside the handlers; it is
    /// dropped when the node stops (and not started if it has stopped). A
    /// panic in it ends the task, not the node, and is logged.
    ///
    /// ```no_run
    /// # use glomers::prelude::*;
    /// # use std::time::Duration;
    /// # #[derive(Serialize)] #[serde(tag = "type", rename = "ping")] struct Ping {}
    /// /// Pings every peer once a second, beside the handlers.
    /// fn start_pinging(ctx: &Ctx) {
    ///     let ctx = ctx.clone();
    ///     ctx.clone().spawn(async move {
    ///         loop {
    ///             for peer in ctx.peers() {
    ///                 ctx.send(peer, &Ping {});
    ///             }
    ///             ctx.sleep(Duration::from_secs(1)).await;
    ///         }
    ///     });
    /// }
    /// ```
    pub fn spawn(&self, future: impl Future<Output = ()> + 'static) {
        self.spawn_guarded("a task spawned with `Ctx::spawn`", Box::pin(future));
    }

    /// Spawns `future` with its panics caught and reported as `what`'s.
    pub(crate) fn spawn_guarded(&self, what: impl Into<Cow<'static, str>>, future: LocalFuture) {
        self.spawn_unguarded(Guarded::new(self, what, future));
    }
}

/// Runs `f`; if it panics, reports the panic as `what`'s and returns `None`.
pub(crate) fn catch<R>(ctx: &Ctx, what: &dyn fmt::Display, f: impl FnOnce() -> R) -> Option<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => Some(value),
        Err(payload) => {
            crashed(ctx, what, payload);
            None
        }
    }
}

/// A future whose panics are caught like [`catch`]'s; it completes when the
/// inner future completes or panics.
pub(crate) struct Guarded {
    future: Option<LocalFuture>,
    ctx: Ctx,
    what: Cow<'static, str>,
}

impl Guarded {
    pub(crate) fn new(ctx: &Ctx, what: impl Into<Cow<'static, str>>, future: LocalFuture) -> Self {
        Guarded {
            future: Some(future),
            ctx: ctx.clone(),
            what: what.into(),
        }
    }
}

impl Future for Guarded {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(future) = self.future.as_mut() else {
            return Poll::Ready(());
        };
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(())) => {
                self.future = None;
                Poll::Ready(())
            }
            Err(payload) => {
                // The future's locals (its responder among them) are dropped
                // now, outside the unwinding: tell them it is a crash.
                let future = self.future.take();
                self.ctx.set_unwinding(true);
                let _ = catch_unwind(AssertUnwindSafe(move || drop(future)));
                self.ctx.set_unwinding(false);
                crashed(&self.ctx, &self.what, payload);
                Poll::Ready(())
            }
        }
    }
}

/// Reports a caught panic and answers the requests it orphaned.
fn crashed(ctx: &Ctx, what: &dyn fmt::Display, payload: Box<dyn Any + Send>) {
    let message = panic_message(&*payload).to_owned();
    // A payload whose own drop panics must not take the node down either.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    let orphans = ctx.take_orphans();
    log::write(format_args!(
        "{what} panicked: {message}; the node goes on (state is as the panic left it){}",
        match orphans.len() {
            0 => String::new(),
            1 => "; its request was answered with error 13".to_owned(),
            n => format!("; {n} requests were answered with error 13"),
        }
    ));
    for orphan in orphans {
        let text = format!("`{}` crashed: {what} panicked: {message}", orphan.kind);
        reply_error(ctx, orphan, &Error::crash(text));
    }
}

/// The text a panic was raised with, when it is a string.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(a panic payload that is not a string)"
    }
}
