//! redis-model: a typed, ORM-style data access framework for Redis.
//!
//! A struct with `#[derive(RedisModel)]` becomes a typed [`Repository`]: documents stored as
//! hashes or JSON, a RediSearch index generated from the field attributes and migrated without
//! downtime, queries checked at compile time, vector search. Every operation compiles to
//! pipelined commands run by the crate's own client core.
//!
//! ```no_run
//! # async fn demo() -> redis_model::Result<()> {
//! use redis_model::prelude::*;
//!
//! #[derive(RedisModel, Debug, Clone)]
//! #[redis(prefix = "user")] // hash storage; the index is "user-idx"
//! struct User {
//!     #[redis(id)]
//!     id: String, // empty: a ULID is generated on save
//!     #[redis(text, sortable)]
//!     name: String,
//!     #[redis(tag)]
//!     city: String,
//!     #[redis(numeric, sortable)]
//!     age: u32,
//! }
//!
//! let client = Client::connect("redis://127.0.0.1:6379").await?;
//! let users = client.repository::<User>();
//! users.migrate().await?;
//! let id = users
//!     .save(&User { id: String::new(), name: "Alice".into(), city: "Paris".into(), age: 34 })
//!     .await?;
//! let f = User::fields();
//! let parisians = users
//!     .find(f.city.eq("Paris") & f.age.gte(18))
//!     .sort_by(f.age, Order::Desc)
//!     .all()
//!     .await?;
//! // The client core underneath, for everything else:
//! client.set("greeting", "hello").await?;
//! let replies = client.pipeline(pipe().cmd(cmd("INCR").arg("hits")).cmd(cmd("TTL").arg("hits"))).await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! The modules follow the data path, from bytes on the wire up to the models:
//!
//! | module | what it holds |
//! |---|---|
//! | [`resp`] | `decode` (incremental, limit-checked), `frame` (a reply borrowed in place, read by the typed decoders), `encode`, [`Value`], [`FromRedis`] |
//! | [`connection`] | the socket (`transport`: TCP, TLS, Unix), `tls`, `handshake`, `driver`, the task that owns a socket and pipelines everything queued on it, and `buffer`, its buffers that shrink when idle |
//! | [`pool`] | the bb8 manager: health checks after idle, broken connections retired |
//! | [`pipeline`] | explicit [`Pipeline`]s, atomic ones, and `auto`: the shared connections that coalesce commands from many tasks |
//! | `routing` | where a request goes: `standalone`, or `cluster` (slot map, redirections, retries, multi-key splits, replica reads; search fans out over its masters from [`search`]); sentinel goes beside them |
//! | [`commands`] | [`Cmd`], [`Commands`], and one trait per command group |
//! | [`Client`] | the handle applications hold |
//! | [`model`] | [`RedisModel`], keys and ids, the hash and JSON codecs, [`Repository`] |
//! | [`search`] | the generated index schema, typed field handles, queries, vector search, migrations |
//! | [`error`] | [`Error`], the one error type, and its predicates |
//!
//! The derive lives in the `redis-model-derive` crate (re-exported here): it parses the
//! attributes into a typed model, reports every mistake with its span, then generates code.
#![warn(missing_docs)]

mod client;
pub mod commands;
mod config;
pub mod connection;
pub mod error;
pub mod model;
mod paged;
pub mod pipeline;
pub mod pool;
pub mod resp;
mod routing;
pub mod search;

pub use client::Client;
pub use commands::{cmd, Cmd, Commands, Script, ToArg};
pub use config::{ClusterConfig, Config, PoolConfig, Protocol, ReadFrom, Secret, ServerAddr};
pub use connection::{Connection, TlsConfig};
pub use error::{Error, Result};
pub use model::{GeoPoint, RedisModel, Repository, Ulid};
pub use pipeline::{pipe, Pipeline};
pub use resp::{FromRedis, Value};

/// The derive: `#[derive(RedisModel)]` (see [`RedisModel`]).
pub use redis_model_derive::RedisModel;

/// Paths the derive's generated code uses; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::error::{Error, Result};
    pub use crate::model::codec::{decode_json, encode_json, FieldOpts};
    pub use crate::model::codec::{field_codec, FieldCodec};
    pub use crate::model::{
        check_dim, check_geo, GeoPoint, HashReader, HashValue, HashWriter, ModelId, ModelMeta,
        RedisModel, Storage,
    };
    pub use crate::search::schema::{
        Distance, FieldKind, FieldSchema, VectorAlgorithm, VectorElement, VectorSpec,
        DEFAULT_TAG_SEPARATOR,
    };
    pub use crate::search::{
        GeoField, NumericField, Sortable, TagField, TextField, Unsortable, VectorField,
    };
    pub use serde;
}

/// Everything an application usually needs, in one import.
pub mod prelude {
    pub use crate::commands::{
        HashCommands, KeyCommands, ListCommands, SetCommands, SortedSetCommands, StringCommands,
    };
    pub use crate::model::Repository;
    pub use crate::search::{Expr, Order};
    pub use crate::{
        cmd, pipe, Client, Cmd, Commands, Config, Error, FromRedis, GeoPoint, Pipeline, RedisModel,
        Result, Script, Ulid, Value,
    };
}
