//! Queries: `FT.SEARCH` built from an [`Expr`], its replies decoded into models.

use futures_core::Stream;

use super::expr::{Expr, SearchText};
use super::field::SortField;
use crate::commands::{cmd, send_frame, Cmd, Commands};
use crate::error::{Error, Result};
use crate::model::codec::FieldOpts;
use crate::model::key::id_part;
use crate::model::{HashReader, RedisModel, Repository, Storage};
use crate::resp::{pairs, take_field, Frame, FrameReader, FromRedis, Token, Value};
use crate::search::schema::FieldKind;

/// Sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// How many rows a cursor read of [`Query::stream`] fetches.
const STREAM_PAGE: usize = 500;
/// The most rows one cursor read fetches while walking to a page past the result cap: the
/// rows carry only keys.
const WALK_READ: u64 = 5_000;

/// A search over a model's index; run it with [`all`](Query::all), [`first`](Query::first),
/// [`count`](Query::count), [`page`](Query::page) or [`stream`](Query::stream).
///
/// Every way of running it gives the same order: by the [`sort_by`](Query::sort_by) field;
/// else best first when the query matches text (ties in the order documents were indexed);
/// else the order documents were indexed. Pages and [`limit`](Query::limit)s reach any offset:
/// those the server's result cap (`MAXSEARCHRESULTS`, 10,000 under `redis-stack-server`) puts
/// out of `FT.SEARCH`'s reach are walked to with an `FT.AGGREGATE` cursor in that same order.
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

    /// Skips `offset` matches and returns at most `n`, for any offset (see [`Query`]).
    pub fn limit(mut self, offset: u64, n: u64) -> Self {
        self.limit = Some((offset, n));
        self
    }

    /// How the matches are ordered.
    fn rows(&self) -> Rows {
        match self.sort {
            Some((field, order)) if folds_case::<M>(field) => Rows::Folded(field, order),
            Some((field, order)) => Rows::Sorted(field, order),
            None if self.expr.is_ranked() => Rows::Ranked,
            None => Rows::Indexed,
        }
    }

    /// Every match (or the [`limit`](Query::limit)ed slice), in the order
    /// [`stream`](Query::stream) gives. Without a limit, matches are fetched page by page, so
    /// even more than the server's result cap come back.
    pub async fn all(self) -> Result<Vec<M>> {
        match self.limit {
            Some((offset, n)) => Ok(self.slice(offset, n, false).await?.items),
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

    /// The first match (at the [`limit`](Query::limit)'s offset, if one is set).
    pub async fn first(self) -> Result<Option<M>> {
        let offset = self.limit.map_or(0, |(o, _)| o);
        Ok(self.slice(offset, 1, false).await?.items.into_iter().next())
    }

    /// How many documents match, however many that is.
    pub async fn count(self) -> Result<u64> {
        self.repo.searchable()?;
        let Some(query) = self.expr.to_query()? else {
            return Ok(0);
        };
        count(self.repo, &query, self.rows()).await
    }

    /// Page `page` (from 0) of `size` matches, with the total.
    pub async fn page(self, page: u64, size: u64) -> Result<Page<M>> {
        self.slice(page.saturating_mul(size), size, true).await
    }

    /// Matches `offset..offset + n`, and the total when `with_total` (else 0 where it would
    /// cost a round trip): from `FT.SEARCH` when it can order them and the server's result cap
    /// allows, else (it refused the offset, or cut the page short) by a cursor walk.
    async fn slice(&self, offset: u64, n: u64, with_total: bool) -> Result<Page<M>> {
        self.repo.searchable()?;
        let Some(query) = self.expr.to_query()? else {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
            });
        };
        let rows = self.rows();
        if let Rows::Folded(..) = rows {
            let total = if with_total {
                count(self.repo, &query, rows).await?
            } else {
                0
            };
            let items = walk(self.repo, &query, rows, offset, n).await?;
            return Ok(Page { items, total });
        }
        let search = search_cmd(self.repo.index_name(), &query, rows, offset, n);
        let total = match send_frame(self.repo.client(), search).await {
            Ok(reply) => {
                let prefix = self.repo.key_prefix();
                let page = decode_search::<M, _>(&reply, &prefix, None, |m, _| Ok(m))?;
                let got = page.items.len() as u64;
                if got == n || page.total <= offset.saturating_add(got) {
                    return Ok(Page {
                        items: page.items,
                        total: page.total,
                    });
                }
                page.total
            }
            Err(e) if is_past_result_cap(&e) => count(self.repo, &query, rows).await?,
            Err(e) => return Err(e),
        };
        let items = walk(self.repo, &query, rows, offset, n).await?;
        Ok(Page { items, total })
    }

    /// Walks every match without loading them all at once, past the server's result cap: an
    /// `FT.AGGREGATE` cursor yields the keys a page at a time and each page of documents is
    /// fetched in one pipeline. Documents deleted meanwhile are skipped. The order is the
    /// [`Query`]'s. A sorted or ranked stream counts the matches first (the server sorts only
    /// as many rows as it is told to, ten by default), so documents added after it started may
    /// be left out.
    pub fn stream(self) -> impl Stream<Item = Result<M>> + Send + 'r {
        let repo = self.repo;
        let rows = self.rows();
        let first = match self.repo.searchable().and_then(|()| self.expr.to_query()) {
            Ok(Some(query)) => Step::Start { query, rows },
            Ok(None) => Step::Done,
            Err(e) => Step::Failed(e),
        };
        crate::paged::Paged::new(first, move |step| Box::pin(next_page(repo, step)))
    }
}

/// Whether the server refused a search for reaching past its result cap (`OFFSET exceeds
/// maximum of 10000`, or the same of `LIMIT`).
fn is_past_result_cap(e: &Error) -> bool {
    matches!(e, Error::Server { code, message, .. }
        if matches!(code.as_str(), "OFFSET" | "LIMIT") && message.contains("exceeds maximum"))
}

/// Whether sorting by `field` folds case where the server does not: the server keeps a JSON
/// document's sortable text and tags as they are, where a hash's are folded unless the tag is
/// case-sensitive.
fn folds_case<M: RedisModel>(field: &str) -> bool {
    let meta = M::meta();
    meta.storage == Storage::Json
        && meta.fields.iter().any(|f| {
            f.name == field
                && matches!(
                    f.kind,
                    FieldKind::Text { .. }
                        | FieldKind::Tag {
                            case_sensitive: false,
                            ..
                        }
                )
        })
}

/// `FT.SEARCH` of `query` in the order `rows` (not [`Rows::Folded`], which it cannot give),
/// matches `offset..offset + n`.
fn search_cmd(index: String, query: &SearchText, rows: Rows, offset: u64, n: u64) -> Cmd {
    let mut c = cmd("FT.SEARCH").arg(index).arg(&query.query);
    match rows {
        Rows::Sorted(field, order) | Rows::Folded(field, order) => {
            c = c.arg("SORTBY").arg(field).arg(order_arg(order))
        }
        Rows::Ranked => {}
        // Every document scores the same, so ties (all of them) come in the order documents
        // were indexed, as a cursor yields them.
        Rows::Indexed => c = c.arg("SCORER").arg("DOCSCORE"),
    }
    query
        .params_to(c.arg("LIMIT").arg(offset).arg(n), &[])
        .arg("DIALECT")
        .arg(2)
}

/// How many documents match `query`.
async fn count<M: RedisModel>(repo: &Repository<M>, query: &SearchText, rows: Rows) -> Result<u64> {
    let rows = match rows {
        // Counting needs no order.
        Rows::Sorted(..) | Rows::Folded(..) => Rows::Indexed,
        rows => rows,
    };
    let reply = send_frame(
        repo.client(),
        search_cmd(repo.index_name(), query, rows, 0, 0),
    )
    .await?;
    Ok(decode_search::<M, _>(&reply, &repo.key_prefix(), None, |_, _| Ok(()))?.total)
}

/// The order of a query's matches.
#[derive(Clone, Copy)]
enum Rows {
    /// Best first, by the server's relevance score; ties in index order.
    Ranked,
    /// By a sortable field.
    Sorted(&'static str, Order),
    /// By a sortable text or tag field of JSON documents, folding ASCII case as the server
    /// folds a hash's (see [`folds_case`]): first the documents having the field, by its value
    /// in lowercase, then those missing it, as `SORTBY` puts them last.
    Folded(&'static str, Order),
    /// As the index holds them.
    Indexed,
}

/// The `FT.AGGREGATE` that opens a cursor over segment `segment` of `query`'s keys in the
/// order `rows`, reading `read` rows at a time; `None` past the last segment. An ordered cursor
/// orders the first `max` rows (the server orders only as many as it is told). Every order
/// but [`Rows::Folded`] has one segment.
fn open_cursor(
    index: String,
    query: &SearchText,
    rows: Rows,
    segment: usize,
    max: u64,
    read: u64,
) -> Option<Cmd> {
    let mut c = cmd("FT.AGGREGATE").arg(index).arg(&query.query);
    if let Rows::Ranked = rows {
        c = c.arg("ADDSCORES");
    }
    c = c.arg("LOAD").arg(1).arg("@__key");
    let sort = |c: Cmd, by: &str, order| {
        c.arg("SORTBY")
            .arg(2)
            .arg(by)
            .arg(order_arg(order))
            .arg("MAX")
            .arg(max)
    };
    c = match (rows, segment) {
        // FT.SEARCH's order: score descending, ties by index order. Sorting by the score
        // descending would put ties in reverse index order; its negation ascending does not.
        (Rows::Ranked, 0) => sort(
            c.arg("APPLY").arg("0-@__score").arg("AS").arg("__rank"),
            "@__rank",
            Order::Asc,
        ),
        (Rows::Sorted(field, order), 0) => sort(c, &format!("@{field}"), order),
        // `lower` of a missing value is an error, so those documents come apart, after.
        (Rows::Folded(field, order), 0) => sort(
            c.arg("FILTER")
                .arg(format!("exists(@{field})"))
                .arg("APPLY")
                .arg(format!("lower(@{field})"))
                .arg("AS")
                .arg("__folded"),
            "@__folded",
            order,
        ),
        // All ties, which come in index order the way the order runs, as `SORTBY` puts them.
        (Rows::Folded(field, order), 1) => sort(
            c.arg("FILTER").arg(format!("!exists(@{field})")),
            &format!("@{field}"),
            order,
        ),
        (Rows::Indexed, 0) => c,
        _ => return None,
    };
    Some(
        query
            .params_to(c.arg("WITHCURSOR").arg("COUNT").arg(read), &[])
            .arg("DIALECT")
            .arg(2),
    )
}

fn read_cursor(index: String, id: u64, read: u64) -> Cmd {
    cmd("FT.CURSOR")
        .arg("READ")
        .arg(index)
        .arg(id)
        .arg("COUNT")
        .arg(read)
}

fn order_arg(order: Order) -> &'static str {
    match order {
        Order::Asc => "ASC",
        Order::Desc => "DESC",
    }
}

/// The keys of the rows of a cursor reply.
fn row_keys(rows: Vec<Value>) -> impl Iterator<Item = String> {
    rows.into_iter()
        .filter_map(|row| map_field(row, "__key").and_then(|v| String::from_redis(v).ok()))
}

/// The documents at `offset..offset + n` in the order `rows`, reached by cursors that skip
/// the rows before them; a cursor left open is then closed.
async fn walk<M: RedisModel>(
    repo: &Repository<M>,
    query: &SearchText,
    rows: Rows,
    offset: u64,
    n: u64,
) -> Result<Vec<M>> {
    let end = offset.saturating_add(n);
    let read = end.clamp(1, WALK_READ);
    let mut seen = 0u64;
    let mut keys = Vec::new();
    let mut segment = 0;
    while seen < end {
        let Some(mut c) = open_cursor(repo.index_name(), query, rows, segment, end - seen, read)
        else {
            break;
        };
        loop {
            let (batch, cursor) = decode_cursor(repo.client().send::<Value>(c).await?)?;
            for key in row_keys(batch) {
                if seen >= offset && seen < end {
                    keys.push(key);
                }
                seen += 1;
            }
            match cursor {
                Some(id) if seen < end => c = read_cursor(repo.index_name(), id, read),
                Some(id) => {
                    let del = cmd("FT.CURSOR").arg("DEL").arg(repo.index_name()).arg(id);
                    repo.client().send::<()>(del).await?;
                    break;
                }
                None => break,
            }
        }
        segment += 1;
    }
    Ok(repo.get_keys(&keys).await?.into_iter().flatten().collect())
}

/// Where a stream is: the query, its order, and how many rows an ordered cursor orders.
struct Walk {
    query: SearchText,
    rows: Rows,
    max: u64,
}

enum Step {
    Start {
        query: SearchText,
        rows: Rows,
    },
    /// Open the cursor of this segment.
    Open(Walk, usize),
    /// Read on from this segment's cursor.
    Read(Walk, usize, u64),
    Failed(Error),
    Done,
}

/// One cursor read, then the documents of its keys in one pipeline.
async fn next_page<M: RedisModel>(
    repo: &Repository<M>,
    step: Step,
) -> Result<(Vec<Result<M>>, Option<Step>)> {
    let read = STREAM_PAGE as u64;
    let (walk, segment, cursor) = match step {
        Step::Start { query, rows } => {
            let max = match rows {
                // Unordered: the cursor has no rows to order.
                Rows::Indexed => 0,
                ordered => match count(repo, &query, ordered).await? {
                    0 => return Ok((Vec::new(), None)),
                    total => total,
                },
            };
            (Walk { query, rows, max }, 0, None)
        }
        Step::Open(walk, segment) => (walk, segment, None),
        Step::Read(walk, segment, id) => (walk, segment, Some(id)),
        Step::Failed(e) => return Err(e),
        Step::Done => return Ok((Vec::new(), None)),
    };
    let c = match cursor {
        Some(id) => read_cursor(repo.index_name(), id, read),
        None => match open_cursor(
            repo.index_name(),
            &walk.query,
            walk.rows,
            segment,
            walk.max,
            read,
        ) {
            Some(c) => c,
            None => return Ok((Vec::new(), None)),
        },
    };
    let (rows, cursor) = decode_cursor(repo.client().send::<Value>(c).await?)?;
    let keys: Vec<String> = row_keys(rows).collect();
    let docs = repo.get_keys(&keys).await?;
    let next = match cursor {
        Some(id) => Step::Read(walk, segment, id),
        None => Step::Open(walk, segment + 1),
    };
    Ok((docs.into_iter().flatten().map(Ok).collect(), Some(next)))
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
/// (`[total, key, fields, key, fields, …]`) form: each hit (its key under `key_prefix`) into a
/// model, with the score field `score_field` (a KNN distance) when asked for, handed to `keep`.
/// The hits are read in place from the frame as they are walked, with nothing built or
/// collected on the way.
pub(crate) fn decode_search<'f, M: RedisModel, T>(
    reply: &'f Frame,
    key_prefix: &str,
    score_field: Option<&'static str>,
    mut keep: impl FnMut(M, Option<f64>) -> Result<T>,
) -> Result<Hits<T>> {
    let mut hit = |id: &'f [u8], attrs: &mut FrameReader<'f>| -> Result<T> {
        let (model, score) = decode_hit::<M>(id, key_prefix, attrs, score_field)?;
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
/// field `score_field` when asked for. `id` is the hit's key, under `key_prefix`.
fn decode_hit<'a, M: RedisModel>(
    id: &'a [u8],
    key_prefix: &str,
    attrs: &mut FrameReader<'a>,
    score_field: Option<&'static str>,
) -> Result<(M, Option<f64>)> {
    let part = id_part(id, key_prefix, M::meta().id_field)?;
    let mut fields = HashReader::new(id, part, attrs.clone())?;
    let model = match M::meta().storage {
        Storage::Hash => M::decode_hash(&mut fields)?,
        Storage::Json => match fields.take("$")? {
            Some(Some(doc)) => M::decode_json(&String::from_utf8_lossy(id), part, doc)?,
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
