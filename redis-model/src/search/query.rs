//! Queries: `FT.SEARCH` built from an [`Expr`], its replies decoded into models.

use futures_core::Stream;

use super::expr::Expr;
use super::field::SortField;
use crate::commands::{cmd, send_frame, Cmd, Commands};
use crate::error::{Error, Result};
use crate::model::codec::FieldOpts;
use crate::model::{HashReader, RedisModel, Repository, Storage};
use crate::resp::{pairs, Frame, FrameReader, FromRedis, Token, Value};

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

    /// Every match (or the [`limit`](Query::limit)ed slice), in the order
    /// [`stream`](Query::stream) gives. Without a limit, matches are fetched page by page, so
    /// even more than the server's result cap come back.
    pub async fn all(self) -> Result<Vec<M>> {
        match self.limit {
            Some((offset, n)) => {
                let reply = send_frame(self.repo.client(), self.search(offset, n)?).await?;
                Ok(decode_search::<M, _>(&reply, None, |m, _| Ok(m))?.items)
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
        let reply = send_frame(self.repo.client(), self.search(offset, 1)?).await?;
        Ok(decode_search::<M, _>(&reply, None, |m, _| Ok(m))?
            .items
            .into_iter()
            .next())
    }

    /// How many documents match.
    pub async fn count(self) -> Result<u64> {
        let reply = send_frame(self.repo.client(), self.search(0, 0)?).await?;
        Ok(decode_search::<M, _>(&reply, None, |_, _| Ok(()))?.total)
    }

    /// Page `page` (from 0) of `size` matches, with the total.
    pub async fn page(self, page: u64, size: u64) -> Result<Page<M>> {
        let search = self.search(page.saturating_mul(size), size)?;
        let reply = send_frame(self.repo.client(), search).await?;
        let page = decode_search::<M, _>(&reply, None, |m, _| Ok(m))?;
        Ok(Page {
            items: page.items,
            total: page.total,
        })
    }

    /// Walks every match without loading them all at once, past the server's result cap: an
    /// `FT.AGGREGATE` cursor yields the keys a page at a time and each page of documents is
    /// fetched in one pipeline. Documents deleted meanwhile are skipped. The order is the one
    /// `FT.SEARCH` gives: by the [`sort_by`](Query::sort_by) field, else best first when the
    /// query matches text, else the index's own. A sorted or ranked stream counts the matches
    /// first (the server sorts only as many rows as it is told to, ten by default), so
    /// documents added after it started may be left out.
    pub fn stream(self) -> impl Stream<Item = Result<M>> + Send + 'r {
        let repo = self.repo;
        let order = match self.sort {
            Some((field, order)) => Some(Rows::Sorted(field, order)),
            None if self.expr.is_ranked() => Some(Rows::Ranked),
            None => None,
        };
        let first = match self.expr.to_query() {
            Ok(query) => Step::Start { query, order },
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

/// How an ordered stream's rows are ordered; without one, as the index holds them.
#[derive(Clone, Copy)]
enum Rows {
    /// Best first, by the server's relevance score.
    Ranked,
    /// By a sortable field.
    Sorted(&'static str, Order),
}

/// The `FT.AGGREGATE` that opens a stream's cursor; ordering `max` rows, when ordered.
fn open_cursor(index: String, query: &str, order: Option<(Rows, u64)>) -> Cmd {
    let mut c = cmd("FT.AGGREGATE").arg(index).arg(query);
    if let Some((Rows::Ranked, _)) = order {
        c = c.arg("ADDSCORES");
    }
    c = c.arg("LOAD").arg(1).arg("@__key");
    if let Some((rows, max)) = order {
        let (field, order) = match rows {
            Rows::Ranked => ("__score", Order::Desc),
            Rows::Sorted(field, order) => (field, order),
        };
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
    Start { query: String, order: Option<Rows> },
    Read(u64),
    Failed(Error),
}

/// One cursor read, then the documents of its keys in one pipeline.
async fn next_page<M: RedisModel>(
    repo: &Repository<M>,
    step: Step,
) -> Result<(Vec<Result<M>>, Option<Step>)> {
    let c = match step {
        Step::Start { query, order: None } => open_cursor(repo.index_name(), &query, None),
        Step::Start {
            query,
            order: Some(rows),
        } => {
            let count = search_cmd(repo.index_name(), &query, None, 0, 0);
            let reply = send_frame(repo.client(), count).await?;
            let total = decode_search::<M, _>(&reply, None, |_, _| Ok(()))?.total;
            if total == 0 {
                return Ok((Vec::new(), None));
            }
            open_cursor(repo.index_name(), &query, Some((rows, total)))
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
/// `score_field` (a KNN distance) when asked for, handed to `keep`. The hits are read in place
/// from the frame as they are walked, with nothing built or collected on the way.
pub(crate) fn decode_search<'f, M: RedisModel, T>(
    reply: &'f Frame,
    score_field: Option<&'static str>,
    mut keep: impl FnMut(M, Option<f64>) -> Result<T>,
) -> Result<Hits<T>> {
    let mut hit = |id: &'f [u8], attrs: &mut FrameReader<'f>| -> Result<T> {
        let (model, score) = decode_hit::<M>(id, attrs, score_field)?;
        keep(model, score)
    };
    let mut r = reply.reader();
    let mut items = Vec::new();
    match r.next_value()? {
        Token::Map(n) => {
            let mut total = 0;
            for _ in 0..n {
                match r.string_or_skip()? {
                    Some(b"total_results") => total = r.uint()?,
                    Some(b"results") => {
                        let rows = r.array("FT.SEARCH results")?;
                        items.reserve_exact(rows);
                        for _ in 0..rows {
                            items.push(decode_row(&mut r, &mut hit)?);
                        }
                    }
                    // The keys are strings; the values of the others are not wanted.
                    _ => r.skip()?,
                }
            }
            Ok(Hits { items, total })
        }
        Token::Array(n) => {
            let total = if n == 0 { 0 } else { r.uint()? };
            let hits = n.saturating_sub(1);
            if hits % 2 != 0 {
                return Err(Error::protocol("FT.SEARCH result without its fields"));
            }
            items.reserve_exact(hits / 2);
            for _ in 0..hits / 2 {
                let id = r.string("FT.SEARCH result id")?;
                items.push(hit(id, &mut r)?);
            }
            Ok(Hits { items, total })
        }
        _ => Err(reply.reader().mismatch("FT.SEARCH results")),
    }
}

/// One RESP3 result, `{id, extra_attributes, values, …}`, handed to `hit` with its id.
fn decode_row<'a, T>(
    r: &mut FrameReader<'a>,
    hit: &mut impl FnMut(&'a [u8], &mut FrameReader<'a>) -> Result<T>,
) -> Result<T> {
    let mut id = None;
    let mut attrs = None;
    let mut done = None;
    for _ in 0..r.pairs()? {
        match r.string_or_skip()? {
            Some(b"id") => id = Some(r.string("FT.SEARCH result id")?),
            // The id comes first: the attributes are then decoded where they are, in one pass.
            Some(b"extra_attributes") => match id {
                Some(id) => done = Some(hit(id, r)?),
                None => {
                    attrs = Some(r.clone());
                    r.skip()?;
                }
            },
            _ => r.skip()?,
        }
    }
    match (done, id, attrs) {
        (Some(done), _, _) => Ok(done),
        (None, Some(id), Some(mut attrs)) => hit(id, &mut attrs),
        (None, None, _) => Err(Error::protocol("FT.SEARCH result without id")),
        (None, Some(id), None) => Err(Error::Decode {
            key: String::from_utf8_lossy(id).into_owned(),
            field: None,
            reason: "search result without its fields".into(),
        }),
    }
}

/// The model in one hit's attributes, which `attrs` is at and is moved past, with the score
/// field `score_field` when asked for.
fn decode_hit<'a, M: RedisModel>(
    id: &'a [u8],
    attrs: &mut FrameReader<'a>,
    score_field: Option<&'static str>,
) -> Result<(M, Option<f64>)> {
    let mut fields = HashReader::new(id, attrs.clone())?;
    let model = match M::meta().storage {
        Storage::Hash => M::decode_hash(&mut fields)?,
        Storage::Json => match fields.take("$")? {
            Some(Some(doc)) => M::decode_json(&String::from_utf8_lossy(id), doc)?,
            _ => {
                return Err(Error::Decode {
                    key: String::from_utf8_lossy(id).into_owned(),
                    field: None,
                    reason: "search result without its document".into(),
                })
            }
        },
    };
    let score = match score_field {
        Some(f) => fields.field::<Option<f64>>(f, FieldOpts::default())?,
        None => None,
    };
    *attrs = fields.finish()?;
    Ok((model, score))
}

fn take_field(fields: &mut Vec<(Value, Value)>, name: &str) -> Option<Value> {
    fields
        .iter()
        .position(|(k, _)| k.as_bytes().is_some_and(|k| k.as_ref() == name.as_bytes()))
        .map(|i| fields.swap_remove(i).1)
}
