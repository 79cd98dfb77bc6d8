//! Queries: `FT.SEARCH` built from an [`Expr`], its replies decoded into models.

use std::collections::VecDeque;

use futures_core::Stream;

use super::expr::{Expr, SearchText};
use super::field::SortField;
use crate::client::Client;
use crate::commands::{cmd, send_frame, send_frames, Cmd};
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
        let Some(query) = self.expr.to_query()? else {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
            });
        };
        let rows = self.rows();
        let indexes = self.repo.search_indexes();
        // FT.SEARCH cannot fold a JSON document's case, nor merge several shards, nor read
        // documents outside its index's slot on a cluster.
        if matches!(rows, Rows::Folded(..)) || indexes.len() > 1 || self.repo.search_by_keys() {
            let total = if with_total {
                count(self.repo, &query, rows).await?
            } else {
                0
            };
            let items = walk(self.repo, query, rows, offset, n).await?;
            return Ok(Page { items, total });
        }
        let search = search_cmd(&indexes[0], &query, rows, (offset, n), false);
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
        let items = walk(self.repo, query, rows, offset, n).await?;
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
        let first = match self.expr.to_query() {
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
    M::meta().storage == Storage::Json && sorts_folded::<M>(field)
}

/// Whether `field` is text or a tag not case-sensitive: what a hash's index sorts folded.
fn sorts_folded<M: RedisModel>(field: &str) -> bool {
    matches!(
        field_kind::<M>(field),
        Some(
            FieldKind::Text { .. }
                | FieldKind::Tag {
                    case_sensitive: false,
                    ..
                }
        )
    )
}

/// The kind of the indexed field `field`.
fn field_kind<M: RedisModel>(field: &str) -> Option<FieldKind> {
    M::meta()
        .fields
        .iter()
        .find(|f| f.name == field)
        .map(|f| f.kind)
}

/// `FT.SEARCH` of `query` in the order `rows` (not [`Rows::Folded`], which it cannot give:
/// it sorts by the field as stored), matches `offset..offset + n`. `keys_only` asks for the
/// keys and what orders them (sort keys, scores), not the documents.
fn search_cmd(
    index: &str,
    query: &SearchText,
    rows: Rows,
    (offset, n): (u64, u64),
    keys_only: bool,
) -> Cmd {
    let mut c = cmd("FT.SEARCH").key(index).arg(&query.query);
    if keys_only {
        c = c.arg("NOCONTENT");
        match rows {
            Rows::Sorted(..) | Rows::Folded(..) => c = c.arg("WITHSORTKEYS"),
            Rows::Ranked => c = c.arg("WITHSCORES"),
            Rows::Indexed => {}
        }
    }
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

/// How many documents match `query`: the sum over every shard's index.
async fn count<M: RedisModel>(repo: &Repository<M>, query: &SearchText, rows: Rows) -> Result<u64> {
    let rows = match rows {
        // Counting needs no order.
        Rows::Sorted(..) | Rows::Folded(..) => Rows::Indexed,
        rows => rows,
    };
    let counts = repo
        .search_indexes()
        .iter()
        .map(|index| search_cmd(index, query, rows, (0, 0), false))
        .collect();
    let prefix = repo.key_prefix();
    let mut total = 0;
    for reply in send_frames(repo.client(), counts).await? {
        total += decode_search::<M, _>(&reply?, &prefix, None, |_, _| Ok(()))?.total;
    }
    Ok(total)
}

/// The order of a query's matches.
#[derive(Clone, Copy)]
pub(super) enum Rows {
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

impl Rows {
    /// The direction the rows' sort keys run: ascending for a score's negation.
    fn order(self) -> Order {
        match self {
            Rows::Sorted(_, order) | Rows::Folded(_, order) => order,
            Rows::Ranked | Rows::Indexed => Order::Asc,
        }
    }
}

/// The `FT.AGGREGATE` that opens a cursor over segment `segment` of `query`'s keys in the
/// order `rows`, reading `read` rows at a time; `None` past the last segment. An ordered cursor
/// orders the first `max` rows (the server orders only as many as it is told). Every order
/// but [`Rows::Folded`] has one segment.
fn open_cursor(
    index: &str,
    query: &SearchText,
    rows: Rows,
    segment: usize,
    max: u64,
    read: u64,
) -> Option<Cmd> {
    let mut c = cmd("FT.AGGREGATE").key(index).arg(&query.query);
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

fn read_cursor(index: &str, id: u64, read: u64) -> Cmd {
    cmd("FT.CURSOR")
        .arg("READ")
        .key(index)
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

/// The documents at `offset..offset + n` in the order `rows`, reached by cursors that skip
/// the rows before them; cursors left open are then closed.
async fn walk<M: RedisModel>(
    repo: &Repository<M>,
    query: SearchText,
    rows: Rows,
    offset: u64,
    n: u64,
) -> Result<Vec<M>> {
    let end = offset.saturating_add(n);
    let mut merge = Merge::new(repo, query, rows, end, end.clamp(1, WALK_READ));
    let mut seen = 0u64;
    let mut keys = Vec::new();
    while seen < end {
        match merge.next() {
            Next::Row(key) => {
                if seen >= offset {
                    keys.push(key);
                }
                seen += 1;
            }
            Next::Fill => merge.fill(repo.client()).await?,
            Next::End => break,
        }
    }
    merge.close(repo.client()).await?;
    Ok(repo.get_keys(&keys).await?.into_iter().flatten().collect())
}

/// The matches of every shard's index in the query's order: each shard's cursor yields its
/// rows in that order, and the merge takes the least of the rows at hand, waiting for a shard
/// that has none buffered but may have more. With one shard (one server), its rows as they
/// come. Ties between shards go to the first.
struct Merge {
    query: SearchText,
    rows: Rows,
    /// How many rows an ordered cursor orders.
    max: u64,
    /// How many rows a cursor read fetches.
    read: u64,
    /// How text sort keys are compared (see [`decode_keys`]).
    fold: Fold,
    /// Whether every shard is read to its end and its rows sorted here before any is merged:
    /// read in pages, a JSON text sort comes in the stored case, which the order folds.
    sort_here: bool,
    /// Whether shards are read in `FT.SEARCH` pages of keys and sort keys, not cursors: on a
    /// cluster, where an index cannot read documents outside its name's slot, nor so load
    /// their keys in an aggregation (see [`Repository::search_by_keys`]).
    pages: bool,
    shards: Vec<ShardRows>,
}

struct ShardRows {
    index: String,
    /// The segment of the order being read (see [`open_cursor`]).
    segment: usize,
    /// The open cursor to read on, if any.
    cursor: Option<u64>,
    /// Read in pages: the offset of the next page.
    offset: u64,
    buffered: VecDeque<(SortKey, String)>,
    done: bool,
}

enum Next {
    /// The next key in order.
    Row(String),
    /// A shard must be read before the next row can be told.
    Fill,
    End,
}

impl Merge {
    fn new<M: RedisModel>(
        repo: &Repository<M>,
        query: SearchText,
        rows: Rows,
        max: u64,
        read: u64,
    ) -> Self {
        let shards = repo
            .search_indexes()
            .into_iter()
            .map(|index| ShardRows {
                index,
                segment: 0,
                cursor: None,
                offset: 0,
                buffered: VecDeque::new(),
                done: false,
            })
            .collect();
        let fold = match rows {
            // The server gives a hash's sort keys as stored and compares them folded.
            Rows::Sorted(field, _)
                if M::meta().storage == Storage::Hash && sorts_folded::<M>(field) =>
            {
                Fold::Unicode
            }
            // As `lower` folds them in an aggregation on one server.
            Rows::Folded(..) => Fold::Ascii,
            _ => Fold::None,
        };
        let pages = repo.search_by_keys();
        Merge {
            query,
            rows,
            max,
            read,
            fold,
            sort_here: pages && matches!(rows, Rows::Folded(..)),
            pages,
            shards,
        }
    }

    fn next(&mut self) -> Next {
        if self.sort_here {
            if self.shards.iter().any(|s| !s.done) {
                return Next::Fill;
            }
            let order = self.rows.order();
            for shard in &mut self.shards {
                shard
                    .buffered
                    .make_contiguous()
                    .sort_by(|(a, _), (b, _)| a.ordering(b, order));
            }
            self.sort_here = false;
        }
        let mut least: Option<usize> = None;
        for (i, shard) in self.shards.iter().enumerate() {
            match shard.buffered.front() {
                None if shard.done => {}
                None => return Next::Fill,
                Some((key, _)) => {
                    let better = least.is_none_or(|l| {
                        let (best, _) = self.shards[l].buffered.front().expect("buffered");
                        key.before(best, self.rows.order())
                    });
                    if better {
                        least = Some(i);
                    }
                }
            }
        }
        match least {
            Some(i) => Next::Row(self.shards[i].buffered.pop_front().expect("buffered").1),
            None => Next::End,
        }
    }

    /// Reads on every shard that has no row buffered and may have more, all in one pipeline
    /// (a cluster sends each to its node at once).
    async fn fill(&mut self, client: &Client) -> Result<()> {
        let mut cmds = Vec::new();
        let mut reading = Vec::new();
        for (i, shard) in self.shards.iter_mut().enumerate() {
            if shard.done || !shard.buffered.is_empty() && !self.sort_here {
                continue;
            }
            let c = match shard.cursor {
                _ if self.pages => search_cmd(
                    &shard.index,
                    &self.query,
                    self.rows,
                    (shard.offset, self.read),
                    true,
                ),
                Some(id) => read_cursor(&shard.index, id, self.read),
                None => match open_cursor(
                    &shard.index,
                    &self.query,
                    self.rows,
                    shard.segment,
                    self.max,
                    self.read,
                ) {
                    Some(c) => c,
                    None => {
                        shard.done = true;
                        continue;
                    }
                },
            };
            cmds.push(c);
            reading.push(i);
        }
        for (i, reply) in reading.into_iter().zip(send_frames(client, cmds).await?) {
            let shard = &mut self.shards[i];
            if self.pages {
                let (total, rows) = decode_keys(reply?.parse()?, self.rows, self.fold)?;
                shard.offset += rows.len() as u64;
                shard.done = (rows.len() as u64) < self.read || shard.offset >= total;
                shard.buffered.extend(rows);
                continue;
            }
            // Read by cursors, a search has one shard (one server, or one slot of a cluster):
            // its rows come in order and need no sort key to merge.
            let (rows, cursor) = decode_cursor(reply?.parse()?)?;
            shard.buffered.extend(
                rows.into_iter()
                    .filter_map(|row| map_field(row, "__key"))
                    .filter_map(|key| String::from_redis(key).ok())
                    .map(|key| (SortKey::Unordered, key)),
            );
            shard.cursor = cursor;
            if cursor.is_none() {
                shard.segment += 1;
            }
        }
        Ok(())
    }

    /// Closes the cursors still open: a cursor holds server memory until it idles out.
    async fn close(&mut self, client: &Client) -> Result<()> {
        let dels: Vec<Cmd> = self
            .shards
            .iter_mut()
            .filter_map(|s| {
                let id = s.cursor.take()?;
                Some(cmd("FT.CURSOR").arg("DEL").key(&s.index).arg(id))
            })
            .collect();
        for reply in send_frames(client, dels).await? {
            reply?;
        }
        Ok(())
    }
}

/// The total and the keys, with their sort keys, of a keys-only `FT.SEARCH` reply (see
/// [`search_cmd`]) in RESP2 (`[total, key, sort key or score, …]`) or RESP3 form.
/// `fold` lowercases text sort keys as the order compares them.
pub(super) fn decode_keys(
    reply: Value,
    rows: Rows,
    fold: Fold,
) -> Result<(u64, Vec<(SortKey, String)>)> {
    let ranked = matches!(rows, Rows::Ranked);
    let with_key = !matches!(rows, Rows::Indexed);
    let sort_key = |v: Option<Value>| -> SortKey {
        let Some(v) = v.and_then(|v| String::from_redis(v).ok()) else {
            return SortKey::Missing;
        };
        if ranked {
            // Best first is the score's negation, ascending.
            return v
                .parse::<f64>()
                .map_or(SortKey::Missing, |s| SortKey::Number(-s));
        }
        match v.split_at_checked(1) {
            Some(("#", n)) => n.parse().map_or(SortKey::Missing, SortKey::Number),
            Some(("$", text)) => SortKey::Text(match fold {
                Fold::Unicode => text.to_lowercase().into_bytes(),
                Fold::Ascii => text.to_ascii_lowercase().into_bytes(),
                Fold::None => text.as_bytes().to_vec(),
            }),
            _ => SortKey::Missing,
        }
    };
    let unordered = || SortKey::Unordered;
    match reply {
        Value::Map(_) => {
            let mut fields = pairs(reply)?;
            let total = take_field(&mut fields, "total_results")
                .map(u64::from_redis)
                .transpose()?
                .unwrap_or(0);
            let results = take_field(&mut fields, "results")
                .map(Vec::<Value>::from_redis)
                .transpose()?
                .unwrap_or_default();
            let mut keys = Vec::with_capacity(results.len());
            for result in results {
                let mut result = pairs(result)?;
                let key = String::from_redis(
                    take_field(&mut result, "id")
                        .ok_or_else(|| Error::protocol("FT.SEARCH result without id"))?,
                )?;
                let sort = match with_key {
                    true if ranked => sort_key(take_field(&mut result, "score")),
                    true => sort_key(take_field(&mut result, "sortkey")),
                    false => unordered(),
                };
                keys.push((sort, key));
            }
            Ok((total, keys))
        }
        Value::Array(items) => {
            let mut items = items.into_iter();
            let total = items.next().map(u64::from_redis).transpose()?.unwrap_or(0);
            let mut keys = Vec::new();
            while let Some(key) = items.next() {
                let key = String::from_redis(key)?;
                let sort = match with_key {
                    true => sort_key(items.next()),
                    false => unordered(),
                };
                keys.push((sort, key));
            }
            Ok((total, keys))
        }
        other => Err(crate::resp::mismatch("FT.SEARCH results", &other)),
    }
}

/// How text sort keys are lowercased before they are compared.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Fold {
    None,
    /// As the server folds a hash's sortable text and tags.
    Unicode,
    /// As `lower` folds in an aggregation.
    Ascii,
}

/// A row's place in the order: what the merge of several shards compares.
#[derive(Debug, PartialEq)]
pub(super) enum SortKey {
    Unordered,
    Number(f64),
    /// Text, compared as bytes.
    Text(Vec<u8>),
    /// No value: last either way, as `SORTBY` puts it.
    Missing,
}

impl SortKey {
    /// Whether a row with this key comes before one with `other` in `order`.
    fn before(&self, other: &SortKey, order: Order) -> bool {
        self.ordering(other, order) == std::cmp::Ordering::Less
    }

    /// Where a row with this key goes against one with `other` in `order`: missing values
    /// last either way; unordered rows tie (the first shard's go first).
    fn ordering(&self, other: &SortKey, order: Order) -> std::cmp::Ordering {
        use std::cmp::Ordering::{Equal, Greater, Less};
        let ascending = match (self, other) {
            (SortKey::Missing, SortKey::Missing) => return Equal,
            (SortKey::Missing, _) => return Greater,
            (_, SortKey::Missing) => return Less,
            (SortKey::Number(a), SortKey::Number(b)) => a.partial_cmp(b).unwrap_or(Equal),
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
            _ => Equal,
        };
        match order {
            Order::Asc => ascending,
            Order::Desc => ascending.reverse(),
        }
    }
}

enum Step {
    Start { query: SearchText, rows: Rows },
    Walking(Box<Merge>),
    Failed(Error),
    Done,
}

/// The next page of a stream: up to [`STREAM_PAGE`] rows of the merge, then the documents of
/// their keys in one pipeline.
async fn next_page<M: RedisModel>(
    repo: &Repository<M>,
    step: Step,
) -> Result<(Vec<Result<M>>, Option<Step>)> {
    let mut merge = match step {
        Step::Start { query, rows } => {
            let max = match rows {
                // Unordered: the cursors have no rows to order.
                Rows::Indexed => 0,
                ordered => match count(repo, &query, ordered).await? {
                    0 => return Ok((Vec::new(), None)),
                    total => total,
                },
            };
            Box::new(Merge::new(repo, query, rows, max, STREAM_PAGE as u64))
        }
        Step::Walking(merge) => merge,
        Step::Failed(e) => return Err(e),
        Step::Done => return Ok((Vec::new(), None)),
    };
    let mut keys = Vec::with_capacity(STREAM_PAGE);
    let more = loop {
        if keys.len() == STREAM_PAGE {
            break true;
        }
        match merge.next() {
            Next::Row(key) => keys.push(key),
            Next::Fill if keys.is_empty() => merge.fill(repo.client()).await?,
            // The documents of the rows at hand are fetched before reading on.
            Next::Fill => break true,
            Next::End => break false,
        }
    };
    let docs = repo.get_keys(&keys).await?;
    let next = more.then_some(Step::Walking(merge));
    Ok((docs.into_iter().flatten().map(Ok).collect(), next))
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
