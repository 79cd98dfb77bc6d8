//! [`Repository`]: the operations on one model's documents.

use std::collections::VecDeque;
use std::fmt::Display;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use super::codec::HashReader;
use super::key::{id_part, key};
use super::{HashValue, HashWriter, ModelId, RedisModel, Storage, Ulid};
use crate::client::Client;
use crate::commands::{self, cmd, Cmd, Commands};
use crate::error::{Error, Result};
use crate::pipeline::Pipeline;
use crate::resp::{Frame, Token, Value};
use crate::search::migrate::{self, Migration};
use crate::search::query::Query;
use crate::search::vector::VectorQuery;
use crate::search::{Expr, VectorField};

/// How many documents one pipeline of [`Repository::save_all`] or [`Repository::get_many`]
/// carries: large enough to amortise the round trip, small enough to keep replies modest.
const CHUNK: usize = 1000;
/// How many chunks [`Repository::save_all`] keeps in flight.
const CHUNKS_IN_FLIGHT: usize = 3;

type PipelineReply<'a> = Pin<Box<dyn Future<Output = Result<Vec<Result<Value>>>> + Send + 'a>>;

/// A chunk of writes sent, and its replies once they came.
struct InFlightChunk<'a> {
    writes: Vec<Write>,
    reply: PipelineReply<'a>,
    outcome: Option<Result<Vec<Result<Value>>>>,
}

/// Saves a document only if its stored version is the one it was read at; `CONFLICT n` when
/// not. ARGV: storage, version field (a path for JSON), expected version, ttl in ms (0: none),
/// then for hashes the count of absent fields, those fields and the field-value pairs; for JSON
/// the document.
const VERSIONED_SAVE: &str = r#"
local current
if ARGV[1] == 'hash' then
  current = redis.call('HGET', KEYS[1], ARGV[2])
else
  local raw = redis.call('JSON.GET', KEYS[1], ARGV[2])
  if raw then current = cjson.decode(raw)[1] end
end
current = tonumber(current) or 0
if current ~= tonumber(ARGV[3]) then
  return redis.error_reply('CONFLICT ' .. current)
end
if ARGV[1] == 'hash' then
  local absent = tonumber(ARGV[5])
  if absent > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, 6, 5 + absent)) end
  redis.call('HSET', KEYS[1], unpack(ARGV, 6 + absent))
else
  redis.call('JSON.SET', KEYS[1], '$', ARGV[5])
end
local ttl = tonumber(ARGV[4])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return current + 1
"#;

/// Sets one field of an existing document and nothing else; 0 when the document does not
/// exist (a partial update never creates a partial document). ARGV: storage, field (a path for
/// JSON), value, version field or ''.
const UPDATE_FIELD: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == 'hash' then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
  if ARGV[4] ~= '' then redis.call('HINCRBY', KEYS[1], ARGV[4], 1) end
else
  redis.call('JSON.SET', KEYS[1], ARGV[2], ARGV[3])
  if ARGV[4] ~= '' then redis.call('JSON.NUMINCRBY', KEYS[1], ARGV[4], 1) end
end
return 1
"#;

/// The typed operations on one model's documents; get one with [`Client::repository`].
///
/// Every operation is one round trip (a pipeline where it touches several documents).
pub struct Repository<M> {
    client: Client,
    _model: PhantomData<fn() -> M>,
}

impl<M> Clone for Repository<M> {
    fn clone(&self) -> Self {
        Repository {
            client: self.client.clone(),
            _model: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for Repository<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository").finish_non_exhaustive()
    }
}

impl Client {
    /// The repository of model `M`.
    pub fn repository<M: RedisModel>(&self) -> Repository<M> {
        Repository {
            client: self.clone(),
            _model: PhantomData,
        }
    }
}

/// A document ready to be written.
struct Write {
    id: String,
    key: String,
    /// The version a versioned save expects to replace.
    expected: Option<u64>,
    cmds: Vec<Cmd>,
    /// How many commands (and so replies) the write has.
    commands: usize,
}

impl<M: RedisModel> Repository<M> {
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    fn namespace(&self) -> &str {
        &self.client.config().namespace
    }

    /// The index name queries use (an alias; see [`Repository::migrate`]).
    pub fn index_name(&self) -> String {
        format!("{}{}", self.namespace(), M::meta().index)
    }

    /// The index names queries go to, one per server holding documents: the index name on one
    /// server; on a cluster, where each master indexes only its own documents, the index name
    /// with a hash tag placing it on each master (`user-idx{3}`).
    /// Whether searches ask for keys only and read the documents by key: on a cluster an
    /// index reads only documents in its own name's slot, and a model whose key prefix has no
    /// hash tag spreads its documents over every slot.
    pub(crate) fn search_by_keys(&self) -> bool {
        let prefix = self.key_prefix();
        self.client.config().cluster.is_some()
            && crate::routing::cluster::slot::hash_tag(prefix.as_bytes()).len() == prefix.len()
    }

    pub(crate) fn search_indexes(&self) -> Vec<String> {
        let index = self.index_name();
        self.client
            .search_tags(&self.key_prefix())
            .into_iter()
            .map(|tag| format!("{index}{tag}"))
            .collect()
    }

    /// The prefix every key of this model starts with: `{namespace}{prefix}:`.
    pub fn key_prefix(&self) -> String {
        format!("{}{}:", self.namespace(), M::meta().prefix)
    }

    /// The key of the document with this id.
    pub fn key(&self, id: impl Display) -> String {
        key(self.namespace(), M::meta().prefix, id)
    }

    /// Creates the model's search index, or rebuilds it when the model's attributes changed
    /// since it was made, without downtime and without touching documents. Running it again is
    /// a no-op; concurrent runs are safe.
    ///
    /// On a cluster the index is made on every master (each indexes its own documents); the
    /// outcome returned is the first master's that changed anything, else the first's.
    pub async fn migrate(&self) -> Result<Migration> {
        let mut outcome: Option<Migration> = None;
        for index in self.search_indexes() {
            let done =
                migrate::migrate(&self.client, &index, &self.key_prefix(), M::meta()).await?;
            if outcome
                .as_ref()
                .is_none_or(|o| matches!(o, Migration::UpToDate { .. }))
            {
                outcome = Some(done);
            }
        }
        outcome.ok_or_else(|| Error::config("cluster", "no master serves slots"))
    }

    /// Saves a document (replacing it whole) and returns its id, generated (a ULID) when the id
    /// is empty. With a `#[redis(version)]` field, the save succeeds only if the stored version
    /// is the document's, and stores version + 1; otherwise it is [`Error::Conflict`] and
    /// nothing is written.
    pub async fn save(&self, model: &M) -> Result<String> {
        self.save_one(model, None).await
    }

    /// Saves a document that expires after `ttl`.
    pub async fn save_with_ttl(&self, model: &M, ttl: Duration) -> Result<String> {
        self.save_one(model, Some(ttl)).await
    }

    async fn save_one(&self, model: &M, ttl: Option<Duration>) -> Result<String> {
        let mut write = self.prepare(model, ttl)?;
        let mut results = self.run(std::mem::take(&mut write.cmds)).await?;
        check_write(&write, results.drain(..))?;
        Ok(write.id)
    }

    /// Saves many documents, pipelined in chunks; returns their ids in order. Every document is
    /// validated and encoded before anything is sent. Several chunks are in flight at once, so
    /// the server always has the next one queued while the client reads the replies of the
    /// last; on an error, chunks already written stay written.
    pub async fn save_all(&self, models: &[M]) -> Result<Vec<String>> {
        let writes = models
            .iter()
            .map(|m| self.prepare(m, None))
            .collect::<Result<Vec<_>>>()?;
        let mut ids = Vec::with_capacity(writes.len());
        let mut writes = writes.into_iter().peekable();
        let mut window: VecDeque<InFlightChunk<'_>> = VecDeque::with_capacity(CHUNKS_IN_FLIGHT);
        loop {
            while window.len() < CHUNKS_IN_FLIGHT && writes.peek().is_some() {
                let mut chunk: Vec<Write> = writes.by_ref().take(CHUNK).collect();
                let mut pipe = Pipeline::new();
                for w in &mut chunk {
                    for c in std::mem::take(&mut w.cmds) {
                        pipe.add(c);
                    }
                }
                window.push_back(InFlightChunk {
                    writes: chunk,
                    reply: Box::pin(self.client.pipeline(pipe)),
                    outcome: None,
                });
            }
            if window.is_empty() {
                return Ok(ids);
            }
            // Every chunk in the window is polled, not only the oldest: each must reach its
            // connection's queue (and a refill of the shared connection must not wait on a
            // chunk nobody polls).
            std::future::poll_fn(|cx| {
                for chunk in window.iter_mut().filter(|c| c.outcome.is_none()) {
                    if let Poll::Ready(outcome) = chunk.reply.as_mut().poll(cx) {
                        chunk.outcome = Some(outcome);
                    }
                }
                if window.front().is_some_and(|c| c.outcome.is_some()) {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
            let done = window.pop_front().expect("the window is not empty");
            let outcome = done.outcome.expect("polled to completion");
            let mut results = outcome?.into_iter();
            for w in done.writes {
                check_write(&w, results.by_ref().take(w.commands))?;
                ids.push(w.id);
            }
        }
    }

    /// The commands that write `model`.
    fn prepare(&self, model: &M, ttl: Option<Duration>) -> Result<Write> {
        model.validate()?;
        let meta = M::meta();
        let id = model
            .id()
            .key_part()
            .unwrap_or_else(|| Ulid::new().to_string());
        let key = self.key(&id);
        let ttl_ms = ttl
            .or(meta.ttl.map(Duration::from_secs))
            .map(|t| t.as_millis() as u64);
        let cmds = match (meta.version_field, model.version()) {
            (Some(field), Some(expected)) => {
                let mut c = cmd("EVAL")
                    .arg(VERSIONED_SAVE)
                    .arg(1)
                    .key(&key)
                    .arg(storage_name(meta.storage));
                match meta.storage {
                    Storage::Hash => {
                        let mut w = HashWriter::new(key.clone());
                        model.encode_hash(&id, Some(expected + 1), &mut w)?;
                        c = c
                            .arg(field)
                            .arg(expected)
                            .arg(ttl_ms.unwrap_or(0))
                            .arg(w.absent.len())
                            .arg(&w.absent[..]);
                        for (name, value) in w.pairs() {
                            c = c.arg(*name).arg(&value[..]);
                        }
                    }
                    Storage::Json => {
                        let doc = model.encode_json(&id, Some(expected + 1))?;
                        c = c
                            .arg(format!("$.{field}"))
                            .arg(expected)
                            .arg(ttl_ms.unwrap_or(0))
                            .arg(doc);
                    }
                }
                vec![c]
            }
            _ => {
                let mut cmds = match meta.storage {
                    Storage::Hash => {
                        let mut w = HashWriter::new(key.clone());
                        model.encode_hash(&id, None, &mut w)?;
                        let mut cmds = vec![w.hset()];
                        if !w.absent.is_empty() {
                            cmds.push(cmd("HDEL").key(&key).arg(&w.absent[..]));
                        }
                        cmds
                    }
                    Storage::Json => {
                        let doc = model.encode_json(&id, None)?;
                        vec![cmd("JSON.SET").key(&key).arg("$").arg(doc)]
                    }
                };
                if let Some(ms) = ttl_ms {
                    cmds.push(cmd("PEXPIRE").key(&key).arg(ms));
                }
                cmds
            }
        };
        let expected = meta.version_field.and(model.version());
        let commands = cmds.len();
        Ok(Write {
            id,
            key,
            expected,
            cmds,
            commands,
        })
    }

    /// Runs the commands of one document: alone, or atomically when there are several, so no
    /// reader sees half a save.
    async fn run(&self, cmds: Vec<Cmd>) -> Result<Vec<Result<Value>>> {
        let mut pipe = Pipeline::new();
        if cmds.len() > 1 {
            pipe = pipe.atomic();
        }
        for c in cmds {
            pipe.add(c);
        }
        self.client.pipeline(pipe).await
    }

    /// The document with this id, `None` if there is none. Its id is the key's, whether the
    /// document stores it or not (another program may have written it). A stored document that
    /// does not decode is [`Error::Decode`] naming the key and the field.
    pub async fn get(&self, id: impl Display) -> Result<Option<M>> {
        let key = self.key(id);
        let reply = commands::send_frame(&self.client, self.read(&key)).await?;
        // The key begins with the key prefix: sliced off it, not made again for every read.
        let prefix = &key[..self.namespace().len() + M::meta().prefix.len() + 1];
        decode_read::<M>(&key, prefix, &reply)
    }

    /// The documents with these ids, in order, `None` where there is none.
    pub async fn get_many<I: Display>(&self, ids: &[I]) -> Result<Vec<Option<M>>> {
        let keys: Vec<String> = ids.iter().map(|id| self.key(id)).collect();
        self.get_keys(&keys).await
    }

    pub(crate) async fn get_keys(&self, keys: &[String]) -> Result<Vec<Option<M>>> {
        let key_prefix = self.key_prefix();
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(CHUNK) {
            let reads = chunk.iter().map(|key| self.read(key)).collect();
            for (key, reply) in chunk
                .iter()
                .zip(commands::send_frames(&self.client, reads).await?)
            {
                out.push(decode_read::<M>(key, &key_prefix, &reply?)?);
            }
        }
        Ok(out)
    }

    fn read(&self, key: &str) -> Cmd {
        match M::meta().storage {
            Storage::Hash => cmd("HGETALL").key(key),
            Storage::Json => cmd("JSON.GET").key(key),
        }
    }

    /// Deletes the document; whether it existed.
    pub async fn delete(&self, id: impl Display) -> Result<bool> {
        Ok(self
            .client
            .send::<u64>(cmd("DEL").key(self.key(id)))
            .await?
            == 1)
    }

    /// Deletes these documents; how many existed.
    pub async fn delete_all<I: Display>(&self, ids: &[I]) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let keys: Vec<String> = ids.iter().map(|id| self.key(id)).collect();
        self.client.send(cmd("DEL").key(keys)).await
    }

    /// Whether the document exists.
    pub async fn exists(&self, id: impl Display) -> Result<bool> {
        Ok(self
            .client
            .send::<u64>(cmd("EXISTS").key(self.key(id)))
            .await?
            == 1)
    }

    /// Sets one indexed field of an existing document without rewriting the rest (and bumps its
    /// version, if it has one). Returns whether the document exists; a missing one is not
    /// created. A tag holding its field's tag separator is [`Error::InvalidValue`], and nothing
    /// is sent.
    pub async fn update_field<F, V>(&self, id: impl Display, field: F, value: &V) -> Result<bool>
    where
        F: FieldName<M>,
        V: HashValue + serde::Serialize,
    {
        let meta = M::meta();
        let name = field.field_name();
        let schema = meta.fields.iter().find(|f| f.name == name);
        let key = self.key(id);
        // A tag's separator, where its index has one (always for a hash; for a JSON document,
        // when declared).
        let separator = schema.and_then(|s| match s.kind {
            crate::search::schema::FieldKind::Tag { separator, .. } => separator,
            _ => None,
        });
        if schema.is_some_and(|s| matches!(s.kind, crate::search::schema::FieldKind::Tag { .. })) {
            value
                .check_tags(separator)
                .map_err(|reason| Error::InvalidValue {
                    field: name.to_owned(),
                    reason,
                })?;
        }
        let (target, encoded, version) = match meta.storage {
            Storage::Hash => {
                let opts = super::codec::FieldOpts {
                    separator: separator.unwrap_or(crate::search::schema::DEFAULT_TAG_SEPARATOR),
                };
                let mut out = Vec::new();
                match value.write(opts, &mut out) {
                    Ok(true) => {}
                    Ok(false) => {
                        return Err(Error::InvalidValue {
                            field: name.to_owned(),
                            reason: "an absent value cannot be set; save the document instead"
                                .into(),
                        })
                    }
                    Err(reason) => {
                        return Err(Error::InvalidValue {
                            field: name.to_owned(),
                            reason,
                        })
                    }
                }
                (
                    name.to_owned(),
                    out,
                    meta.version_field.unwrap_or("").to_owned(),
                )
            }
            Storage::Json => {
                // A list is indexed through its elements (`$.skills[*]`); it is set whole.
                let path = schema.and_then(|s| s.path).map_or_else(
                    || format!("$.{name}"),
                    |path| path.strip_suffix("[*]").unwrap_or(path).to_owned(),
                );
                let json = serde_json::to_vec(value).map_err(|e| Error::InvalidValue {
                    field: name.to_owned(),
                    reason: e.to_string(),
                })?;
                let version = meta
                    .version_field
                    .map(|v| format!("$.{v}"))
                    .unwrap_or_default();
                (path, json, version)
            }
        };
        let c = cmd("EVAL")
            .arg(UPDATE_FIELD)
            .arg(1)
            .key(&key)
            .arg(storage_name(meta.storage))
            .arg(target)
            .arg(encoded)
            .arg(version);
        Ok(self.client.send::<i64>(c).await? == 1)
    }

    /// A search: `users.find(f.age.gt(18) & f.city.eq("Paris")).all()`.
    pub fn find(&self, expr: Expr<M>) -> Query<'_, M> {
        Query::new(self, expr)
    }

    /// Every document, as a query.
    pub fn find_all(&self) -> Query<'_, M> {
        Query::new(self, Expr::all())
    }

    /// The `k` documents whose `field` is nearest to `vector`, with their distances. A vector of
    /// the wrong dimension is [`Error::VectorDimension`] before anything is sent.
    pub fn knn(&self, field: VectorField<M>, vector: &[f32], k: usize) -> VectorQuery<'_, M> {
        VectorQuery::knn(self, field, vector, k)
    }

    /// The documents whose `field` is within `radius` of `vector` (squared Euclidean for L2).
    pub fn vector_range(
        &self,
        field: VectorField<M>,
        vector: &[f32],
        radius: f64,
    ) -> VectorQuery<'_, M> {
        VectorQuery::range(self, field, vector, radius)
    }
}

/// A field handle a partial update can name.
pub trait FieldName<M> {
    /// The field's name.
    fn field_name(&self) -> &'static str;
}

macro_rules! field_name {
    ($($handle:ident $(<$s:ident>)?),*) => {$(
        impl<M $(, $s)?> FieldName<M> for crate::search::$handle<M $(, $s)?> {
            fn field_name(&self) -> &'static str {
                self.name()
            }
        }
    )*};
}

field_name!(
    TextField<S>,
    TagField<S>,
    NumericField<S>,
    GeoField,
    VectorField
);

fn storage_name(storage: Storage) -> &'static str {
    match storage {
        Storage::Hash => "hash",
        Storage::Json => "json",
    }
}

/// The outcome of one document's write: the first error, with a version conflict made
/// [`Error::Conflict`].
fn check_write(write: &Write, results: impl Iterator<Item = Result<Value>>) -> Result<()> {
    for r in results {
        match r {
            Err(Error::Server { code, message, .. }) if code == "CONFLICT" => {
                return Err(Error::Conflict {
                    key: write.key.clone(),
                    expected: write.expected.unwrap_or(0),
                    found: message.trim().parse().unwrap_or(0),
                })
            }
            Err(e) => return Err(e),
            Ok(_) => {}
        }
    }
    Ok(())
}

/// The document at `key` (under `key_prefix`) in an `HGETALL` or `JSON.GET` reply, read in
/// place.
fn decode_read<M: RedisModel>(key: &str, key_prefix: &str, reply: &Frame) -> Result<Option<M>> {
    let id = id_part(key.as_bytes(), key_prefix, M::meta().id_field)?;
    match M::meta().storage {
        Storage::Hash => {
            let mut hash = HashReader::from_frame(key, id, reply)?;
            if hash.is_empty() {
                return Ok(None);
            }
            M::decode_hash(&mut hash).map(Some)
        }
        Storage::Json => match reply.reader().next_value()? {
            Token::Nil => Ok(None),
            token => match token.bytes() {
                Some(json) => M::decode_json(key, id, json).map(Some),
                None => Err(reply.reader().mismatch("JSON document")),
            },
        },
    }
}
