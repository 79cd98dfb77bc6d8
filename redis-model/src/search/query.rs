//! Queries: `FT.SEARCH` built from an [`Expr`], its replies decoded into models.

use bytes::Bytes;
use futures_core::Stream;

use super::expr::Expr;
use super::field::SortField;
use crate::commands::{cmd, Cmd, Commands};
use crate::error::{Error, Result};
use crate::model::{HashReader, RedisModel, Repository, Storage};
use crate::resp::{pairs, FromRedis, Value};

/// Sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// How many documents a page of [`Query::stream`] fetches.
const STREAM_PAGE: usize = 500;

/// A search over a model's index; run it with [`all`](Query::all), [`first`](Query::first),
/// [`count`](Query::count), [`page`](Query::page) or [`stream`](Query::stream).
#[must_use = "a query does nothing until it is run"]
pub struct Query<'r, M: RedisModel> {
    repo: &'r Repository<M>,
    expr: Expr<M>,
    sort: Option<(&'static str, Order)>,
    limit: Option<(u64, u64)>,
}

/// One page of results and the total number of matches.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<M> {
    /// The documents of this page.
    pub items: Vec<M>,
    /// How many documents match in all.
    pub total: u64,
}

impl<'r, M: RedisModel> Query<'r, M> {
    pub(crate) fn new(repo: &'r Repository<M>, expr: Expr<M>) -> Self {
        Query {
            repo,
            expr,
            sort: None,
            limit: None,
        }
    }

    /// Sorts by a field declared `sortable` (anything else does not compile). Documents missing
    /// the field come last either way.
    pub fn sort_by(mut self, field: impl SortField<M>, order: Order) -> Self {
        self.sort = Some((field.sort_name(), order));
        self
    }

    /// Skips `offset` matches and returns at most `n`.
    pub fn limit(mut self, offset: u64, n: u64) -> Self {
        self.limit = Some((offset, n));
        self
    }

    fn search(&self, offset: u64, n: u64) -> Result<Cmd> {
        Ok(search_cmd(
            self.repo.index_name(),
            &self.expr.to_query()?,
            self.sort,
            offset,
            n,
        ))
    }

    /// Every match (or the [`limit`](Query::limit)ed slice). Without a limit, matches are
    /// fetched page by page, so even more than the server's result cap come back.
    pub async fn all(self) -> Result<Vec<M>> {
        match self.limit {
            Some((offset, n)) => {
                let reply = self.repo.client().send(self.search(offset, n)?).await?;
                Ok(decode_search::<M, _>(reply, None, |m, _| Ok(m))?.items)
            }
            None => {
                let mut out = Vec::new();
                let mut stream = std::pin::pin!(self.stream());
                while let Some(m) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
                    out.push(m?);
                }
                Ok(out)
            }
        }
    }

    /// The first match.
    pub async fn first(self) -> Result<Option<M>> {
        let offset = self.limit.map_or(0, |(o, _)| o);
        let reply = self.repo.client().send(self.search(offset, 1)?).await?;
        Ok(decode_search::<M, _>(reply, None, |m, _| Ok(m))?
            .items
            .into_iter()
            .next())
    }

    /// How many documents match.
    pub async fn count(self) -> Result<u64> {
        let reply = self.repo.client().send(self.search(0, 0)?).await?;
        Ok(decode_search::<M, _>(reply, None, |_, _| Ok(()))?.total)
    }

    /// Page `page` (from 0) of `size` matches, with the total.
    pub async fn page(self, page: u64, size: u64) -> Result<Page<M>> {
        let reply = self
            .repo
            .client()
            .send(self.search(page.saturating_mul(size), size)?)
            .await?;
        let page = decode_search::<M, _>(reply, None, |m, _| Ok(m))?;
        Ok(Page {
            items: page.items,
            total: page.total,
        })
    }

    /// Walks every match without loading them all at once, past the server's result cap: an
    /// `FT.AGGREGATE` cursor yields the keys a page at a time and each page of documents is
    /// fetched in one pipeline. Documents deleted meanwhile are skipped. A sorted stream counts
    /// the matches first (the server sorts only as many rows as it is told to, ten by default),
    /// so documents added after it started may be left out.
    pub fn stream(self) -> impl Stream<Item = Result<M>> + Send + 'r {
        let repo = self.repo;
        let first = match self.expr.to_query() {
            Ok(query) => Step::Start {
                query,
                sort: self.sort,
            },
            Err(e) => Step::Failed(e),
        };
        crate::paged::Paged::new(first, move |step| Box::pin(next_page(repo, step)))
    }
}

/// `FT.SEARCH` of `query`, sorted when asked, matches `offset..offset + n`.
fn search_cmd(
    index: String,
    query: &str,
    sort: Option<(&'static str, Order)>,
    offset: u64,
    n: u64,
) -> Cmd {
    let mut c = cmd("FT.SEARCH").arg(index).arg(query);
    if let Some((field, order)) = sort {
        c = c.arg("SORTBY").arg(field).arg(order_arg(order));
    }
    c.arg("LIMIT").arg(offset).arg(n).arg("DIALECT").arg(2)
}

/// The `FT.AGGREGATE` that opens a stream's cursor; sorting `max` rows, when sorted.
fn open_cursor(index: String, query: &str, sort: Option<(&'static str, Order, u64)>) -> Cmd {
    let mut c = cmd("FT.AGGREGATE")
        .arg(index)
        .arg(query)
        .arg("LOAD")
        .arg(1)
        .arg("@__key");
    if let Some((field, order, max)) = sort {
        c = c
            .arg("SORTBY")
            .arg(2)
            .arg(format!("@{field}"))
            .arg(order_arg(order))
            .arg("MAX")
            .arg(max);
    }
    c.arg("WITHCURSOR")
        .arg("COUNT")
        .arg(STREAM_PAGE)
        .arg("DIALECT")
        .arg(2)
}

fn order_arg(order: Order) -> &'static str {
    match order {
        Order::Asc => "ASC",
        Order::Desc => "DESC",
    }
}

enum Step {
    Start {
        query: String,
        sort: Option<(&'static str, Order)>,
    },
    Read(u64),
    Failed(Error),
}

/// One cursor read, then the documents of its keys in one pipeline.
async fn next_page<M: RedisModel>(
    repo: &Repository<M>,
    step: Step,
) -> Result<(Vec<Result<M>>, Option<Step>)> {
    let c = match step {
        Step::Start { query, sort: None } => open_cursor(repo.index_name(), &query, None),
        Step::Start {
            query,
            sort: Some((field, order)),
        } => {
            let count = search_cmd(repo.index_name(), &query, None, 0, 0);
            let reply = repo.client().send(count).await?;
            let total = decode_search::<M, _>(reply, None, |_, _| Ok(()))?.total;
            if total == 0 {
                return Ok((Vec::new(), None));
            }
            open_cursor(repo.index_name(), &query, Some((field, order, total)))
        }
        Step::Read(id) => cmd("FT.CURSOR")
            .arg("READ")
            .arg(repo.index_name())
            .arg(id)
            .arg("COUNT")
            .arg(STREAM_PAGE),
        Step::Failed(e) => return Err(e),
    };
    let (rows, cursor) = decode_cursor(repo.client().send::<Value>(c).await?)?;
    let keys: Vec<String> = rows
        .into_iter()
        .filter_map(|row| map_field(row, "__key").and_then(|v| String::from_redis(v).ok()))
        .collect();
    let docs = repo.get_keys(&keys).await?;
    Ok((
        docs.into_iter().flatten().map(Ok).collect(),
        cursor.map(Step::Read),
    ))
}

/// The rows and the next cursor (`None` when exhausted) of an `FT.AGGREGATE … WITHCURSOR` or
/// `FT.CURSOR READ` reply, in RESP2 (`[[total, row…], cursor]`) or RESP3 form.
fn decode_cursor(reply: Value) -> Result<(Vec<Value>, Option<u64>)> {
    let (results, cursor) = <(Value, u64)>::from_redis(reply)?;
    let rows = match results {
        Value::Map(_) => map_field(results, "results")
            .map(Vec::<Value>::from_redis)
            .transpose()?
            .unwrap_or_default()
            .into_iter()
            .filter_map(|row| map_field(row, "extra_attributes"))
            .collect(),
        Value::Array(mut items) => {
            if !items.is_empty() {
                items.remove(0); // the total
            }
            items
        }
        other => return Err(crate::resp::mismatch("aggregate rows", &other)),
    };
    Ok((rows, (cursor != 0).then_some(cursor)))
}

fn map_field(value: Value, name: &str) -> Option<Value> {
    take_field(&mut pairs(value).ok()?, name)
}

/// Decoded `FT.SEARCH` results: each hit as `keep` made it, and the total.
pub(crate) struct Hits<T> {
    pub(crate) items: Vec<T>,
    pub(crate) total: u64,
}

/// Decodes an `FT.SEARCH` reply in RESP3 (a map with `total_results` and `results`) or RESP2
/// (`[total, key, fields, key, fields, …]`) form: each hit into a model, with the score field
/// `score_field` (a KNN distance) when asked for, handed to `keep`. Hits are decoded as they
/// are walked, with nothing collected on the way.
pub(crate) fn decode_search<M: RedisModel, T>(
    reply: Value,
    score_field: Option<&str>,
    mut keep: impl FnMut(M, Option<f64>) -> Result<T>,
) -> Result<Hits<T>> {
    let mut hit = |id: &Bytes, attrs: Value| -> Result<T> {
        // The key is only for errors; Redis keys are nearly always UTF-8.
        let key = String::from_utf8_lossy(id);
        let (model, score) = decode_hit::<M>(&key, attrs, score_field)?;
        keep(model, score)
    };
    match reply {
        Value::Map(fields) => {
            let mut total = 0;
            let mut items = Vec::new();
            for (k, v) in fields {
                match k.as_bytes().map(|b| b.as_ref()) {
                    Some(b"total_results") => total = u64::from_redis(v)?,
                    Some(b"results") => {
                        let rows = Vec::<Value>::from_redis(v)?;
                        items.reserve_exact(rows.len());
                        for row in rows {
                            let mut id = None;
                            let mut attrs = Value::Map(Vec::new());
                            for (k, v) in pairs(row)? {
                                match k.as_bytes().map(|b| b.as_ref()) {
                                    Some(b"id") => id = Some(Bytes::from_redis(v)?),
                                    Some(b"extra_attributes") => attrs = v,
                                    _ => {}
                                }
                            }
                            let id =
                                id.ok_or_else(|| Error::protocol("FT.SEARCH result without id"))?;
                            items.push(hit(&id, attrs)?);
                        }
                    }
                    _ => {}
                }
            }
            Ok(Hits { items, total })
        }
        Value::Array(rows) => {
            let mut it = rows.into_iter();
            let total = u64::from_redis(it.next().unwrap_or(Value::Integer(0)))?;
            let mut items = Vec::with_capacity(it.len() / 2);
            while let Some(id) = it.next() {
                let attrs = it.next().unwrap_or(Value::Array(Vec::new()));
                items.push(hit(&Bytes::from_redis(id)?, attrs)?);
            }
            Ok(Hits { items, total })
        }
        other => Err(crate::resp::mismatch("FT.SEARCH results", &other)),
    }
}

fn decode_hit<M: RedisModel>(
    key: &str,
    attrs: Value,
    score_field: Option<&str>,
) -> Result<(M, Option<f64>)> {
    let mut fields = pairs(attrs)?;
    let score = match score_field {
        Some(f) => take_field(&mut fields, f)
            .map(f64::from_redis)
            .transpose()?,
        None => None,
    };
    let model = match M::meta().storage {
        Storage::Hash => M::decode_hash(HashReader::from_pairs(key, fields))?,
        Storage::Json => {
            let doc = take_field(&mut fields, "$").ok_or_else(|| Error::Decode {
                key: key.to_owned(),
                field: None,
                reason: "search result without its document".into(),
            })?;
            M::decode_json(key, &Bytes::from_redis(doc)?)?
        }
    };
    Ok((model, score))
}

fn take_field(fields: &mut Vec<(Value, Value)>, name: &str) -> Option<Value> {
    fields
        .iter()
        .position(|(k, _)| k.as_bytes().is_some_and(|k| k.as_ref() == name.as_bytes()))
        .map(|i| fields.swap_remove(i).1)
}
