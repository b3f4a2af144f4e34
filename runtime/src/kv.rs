//! Clients for Maelstrom's key-value services (`lin-kv`, `seq-kv`, `lww-kv`).

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::ctx::{Ack, Ctx};
use crate::error::{Error, ErrorCode};

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum KvRequest<'a, K: ?Sized, V: ?Sized> {
    Read {
        key: &'a K,
    },
    Write {
        key: &'a K,
        value: &'a V,
    },
    Cas {
        key: &'a K,
        from: &'a V,
        to: &'a V,
        create_if_not_exists: bool,
    },
}

#[derive(Deserialize)]
struct ReadOk<V> {
    value: V,
}

/// A client for one key-value service, made by [`Ctx::lin_kv`],
/// [`Ctx::seq_kv`], [`Ctx::lww_kv`] or [`Ctx::kv`].
///
/// Keys and values are any serde types. Each call sends its request at once
/// and returns a future of the reply; the timeout is the RPC timeout of the
/// [`Ctx`]. The service's errors arrive with their codes: 20
/// (key-does-not-exist) from `read` and `cas`, 22 (precondition-failed) from
/// `cas`.
///
/// ```no_run
/// use glomers::prelude::*;
///
/// /// Adds `delta` to the counter under "total", retrying on a lost race.
/// async fn add(ctx: Ctx, delta: u64) -> Result<(), Error> {
///     let kv = ctx.seq_kv();
///     loop {
///         let current: u64 = kv.read_or("total", 0).await?;
///         match kv.cas("total", &current, &(current + delta), true).await {
///             Err(err) if err.code == ErrorCode::PreconditionFailed => continue,
///             done => return done,
///         }
///     }
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Kv {
    ctx: Ctx,
    service: String,
}

// The clients' constructors: here rather than in `ctx`, so that `Ctx` does
// not depend on the clients it makes.
impl Ctx {
    /// A client for Maelstrom's linearizable key-value service `lin-kv`.
    ///
    /// ```
    /// let (ctx, _) = glomers::testing::detached_ctx("n1", &["n1", "n2", "n3"]);
    /// assert_eq!(ctx.lin_kv().service(), "lin-kv");
    /// ```
    pub fn lin_kv(&self) -> Kv {
        self.kv("lin-kv")
    }

    /// A client for the sequentially consistent `seq-kv` service.
    ///
    /// ```
    /// let (ctx, _) = glomers::testing::detached_ctx("n1", &["n1", "n2", "n3"]);
    /// assert_eq!(ctx.seq_kv().service(), "seq-kv");
    /// ```
    pub fn seq_kv(&self) -> Kv {
        self.kv("seq-kv")
    }

    /// A client for the last-write-wins `lww-kv` service.
    ///
    /// ```
    /// let (ctx, _) = glomers::testing::detached_ctx("n1", &["n1", "n2", "n3"]);
    /// assert_eq!(ctx.lww_kv().service(), "lww-kv");
    /// ```
    pub fn lww_kv(&self) -> Kv {
        self.kv("lww-kv")
    }

    /// A client for the key-value service with node id `service`.
    ///
    /// ```
    /// let (ctx, _) = glomers::testing::detached_ctx("n1", &["n1", "n2", "n3"]);
    /// assert_eq!(ctx.kv("my-kv").service(), "my-kv");
    /// ```
    pub fn kv(&self, service: &str) -> Kv {
        Kv::new(self.clone(), service)
    }
}

impl Kv {
    pub(crate) fn new(ctx: Ctx, service: &str) -> Self {
        Kv {
            ctx,
            service: service.to_owned(),
        }
    }

    /// The service's node id, such as `"lin-kv"`.
    ///
    /// ```
    /// let (ctx, _) = glomers::testing::detached_ctx("n1", &["n1"]);
    /// assert_eq!(ctx.seq_kv().service(), "seq-kv");
    /// ```
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The value under `key`; error 20 if there is none.
    ///
    /// ```no_run
    /// # use glomers::prelude::*;
    /// async fn leader(ctx: Ctx) -> Result<String, Error> {
    ///     ctx.lin_kv().read("leader").await // error 20 if nobody wrote it
    /// }
    /// ```
    pub fn read<V, K>(&self, key: &K) -> impl Future<Output = Result<V, Error>>
    where
        V: DeserializeOwned,
        K: Serialize + ?Sized,
    {
        let request: KvRequest<'_, K, ()> = KvRequest::Read { key };
        let reply = self.ctx.rpc::<ReadOk<V>, _>(&self.service, &request);
        async move { reply.await.map(|ok| ok.value) }
    }

    /// The value under `key`, or `default` if there is none.
    ///
    /// ```no_run
    /// # use glomers::prelude::*;
    /// async fn total(ctx: Ctx) -> Result<u64, Error> {
    ///     ctx.seq_kv().read_or("total", 0).await
    /// }
    /// ```
    pub fn read_or<V, K>(&self, key: &K, default: V) -> impl Future<Output = Result<V, Error>>
    where
        V: DeserializeOwned,
        K: Serialize + ?Sized,
    {
        let reply = self.read(key);
        async move {
            match reply.await {
                Err(err) if err.code == ErrorCode::KeyDoesNotExist => Ok(default),
                other => other,
            }
        }
    }

    /// Sets `key` to `value`.
    ///
    /// ```no_run
    /// # use glomers::prelude::*;
    /// async fn claim(ctx: Ctx) -> Result<(), Error> {
    ///     ctx.lin_kv().write("leader", ctx.node_id()).await
    /// }
    /// ```
    pub fn write<K, V>(&self, key: &K, value: &V) -> impl Future<Output = Result<(), Error>>
    where
        K: Serialize + ?Sized,
        V: Serialize + ?Sized,
    {
        let reply = self
            .ctx
            .rpc::<Ack, _>(&self.service, &KvRequest::Write { key, value });
        async move { reply.await.map(|_| ()) }
    }

    /// Sets `key` to `to` if it holds `from`: error 22 if it holds something
    /// else, error 20 if it is missing (unless `create_if_not_exists`, which
    /// then creates it with `to`).
    ///
    /// ```no_run
    /// # use glomers::prelude::*;
    /// /// Takes the lock if nobody holds it.
    /// async fn lock(ctx: Ctx) -> Result<(), Error> {
    ///     ctx.lin_kv().cas("lock", "", ctx.node_id(), true).await
    /// }
    /// ```
    pub fn cas<K, V>(
        &self,
        key: &K,
        from: &V,
        to: &V,
        create_if_not_exists: bool,
    ) -> impl Future<Output = Result<(), Error>>
    where
        K: Serialize + ?Sized,
        V: Serialize + ?Sized,
    {
        let reply = self.ctx.rpc::<Ack, _>(
            &self.service,
            &KvRequest::Cas {
                key,
                from,
                to,
                create_if_not_exists,
            },
        );
        async move { reply.await.map(|_| ()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_have_maelstroms_shape() {
        let cas = KvRequest::Cas {
            key: "k",
            from: &1,
            to: &2,
            create_if_not_exists: true,
        };
        assert_eq!(
            serde_json::to_string(&cas).unwrap(),
            r#"{"type":"cas","key":"k","from":1,"to":2,"create_if_not_exists":true}"#
        );
        let read: KvRequest<'_, _, ()> = KvRequest::Read { key: &3 };
        assert_eq!(
            serde_json::to_string(&read).unwrap(),
            r#"{"type":"read","key":3}"#
        );
    }
}
