//! The query layer given unusual input, on both storages against a real Redis Stack: unicode
//! tags, numbers at their extremes, degenerate filters built from request parameters, and
//! pages past the server's result cap.

use futures_util::StreamExt;
use proptest::prelude::*;
use redis_model::prelude::*;
use redis_model::search::{NumericField, Query, Sortable, TagField, TextField};
use redis_model_tests::stack;
use serde::{Deserialize, Serialize};

/// A model with a tag, a text and a numeric field, all sortable, in the storage `$container`
/// names.
macro_rules! doc_model {
    ($name:ident, $($container:tt)*) => {
        #[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[redis($($container)*)]
        pub struct $name {
            #[redis(id)]
            pub id: String,
            #[redis(tag, sortable)]
            pub tag: String,
            #[redis(text, sortable)]
            pub name: String,
            #[redis(numeric, sortable)]
            pub n: u32,
            #[redis(tag, sortable)]
            pub label: Option<String>,
            #[redis(tag, case_sensitive, sortable)]
            pub code: String,
        }

        impl Doc for $name {
            fn new(id: String, tag: &str, name: &str, n: u32) -> Self {
                $name {
                    id,
                    tag: tag.into(),
                    name: name.into(),
                    n,
                    label: None,
                    code: tag.into(),
                }
            }

            fn labelled(mut self, label: &str) -> Self {
                self.label = Some(label.into());
                self
            }

            fn id(&self) -> &str {
                &self.id
            }

            fn tag() -> TagField<Self, Sortable> {
                $name::fields().tag
            }

            fn name() -> TextField<Self, Sortable> {
                $name::fields().name
            }

            fn n() -> NumericField<Self, Sortable> {
                $name::fields().n
            }

            fn label() -> TagField<Self, Sortable> {
                $name::fields().label
            }

            fn code() -> TagField<Self, Sortable> {
                $name::fields().code
            }
        }
    };
}

trait Doc: RedisModel + Clone + std::fmt::Debug + PartialEq {
    fn new(id: String, tag: &str, name: &str, n: u32) -> Self;
    fn id(&self) -> &str;
    fn tag() -> TagField<Self, Sortable>;
    fn name() -> TextField<Self, Sortable>;
    fn n() -> NumericField<Self, Sortable>;
    fn label() -> TagField<Self, Sortable>;
    fn code() -> TagField<Self, Sortable>;
    fn labelled(self, label: &str) -> Self;
}

doc_model!(HashDoc, prefix = "hdoc");
doc_model!(JsonDoc, prefix = "jdoc", storage = "json");

/// One field per numeric type, in the storage `$container` names.
macro_rules! numbers_model {
    ($name:ident, $($container:tt)*) => {
        #[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[redis($($container)*)]
        pub struct $name {
            #[redis(id)]
            pub id: String,
            #[redis(numeric)] pub a_u8: u8,
            #[redis(numeric)] pub a_i8: i8,
            #[redis(numeric)] pub a_u16: u16,
            #[redis(numeric)] pub a_i16: i16,
            #[redis(numeric)] pub a_u32: u32,
            #[redis(numeric)] pub a_i32: i32,
            #[redis(numeric)] pub a_u64: u64,
            #[redis(numeric)] pub a_i64: i64,
            #[redis(numeric)] pub a_f32: f32,
            #[redis(numeric)] pub a_f64: f64,
        }
    };
}

numbers_model!(HashNumbers, prefix = "hnum");
numbers_model!(JsonNumbers, prefix = "jnum", storage = "json");

fn sorted_ids<M: Doc>(found: &[M]) -> Vec<String> {
    let mut v: Vec<String> = found.iter().map(|m| Doc::id(m).to_owned()).collect();
    v.sort();
    v
}

/// The tag value the index holds for a stored value, as a query compares it: what the hash
/// indexer trims (C's `isspace`) and ASCII case, which tags fold.
fn indexed(value: &str, hash: bool) -> Option<String> {
    let v = if hash {
        value.trim_matches([' ', '\t', '\n', '\u{b}', '\u{c}', '\r'])
    } else {
        value
    };
    (!v.is_empty()).then(|| v.to_ascii_lowercase())
}

/// Unicode of every kind a user sends: emoji (with modifiers and joiners), CJK, combining
/// marks, right-to-left scripts, ASCII punctuation, whitespace and control characters (not
/// NUL, which the index cuts values at, nor the tag separator U+001F).
fn tag_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 _\\-.,;:!@#$%^&*()\\[\\]{}|\\\\'\"`~<>?/+=émöüßçÀÉ東京日本語한국어🚀😀👍🏽\u{200d}\u{301}\u{308}\u{200f}\u{5d0}-\u{5ea}\u{627}-\u{64a}\t\n\r\u{b}\u{c}\u{1}-\u{8}\u{a0}\u{2003}]{0,10}",
        any::<String>().prop_map(|s| s.replace(['\0', '\u{1f}'], "")),
    ]
}

fn tags_are_found_whatever_they_hold<M: Doc>() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_server, client) = rt.block_on(stack());
    let repo = client.repository::<M>();
    rt.block_on(repo.migrate()).unwrap();
    let hash = M::meta().storage == redis_model::model::Storage::Hash;
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    });
    runner
        .run(&proptest::collection::vec(tag_value(), 1..16), |values| {
            rt.block_on(check_tags::<M>(&repo, &values, hash));
            Ok(())
        })
        .unwrap();
}

async fn check_tags<M: Doc>(repo: &Repository<M>, values: &[String], hash: bool) {
    let docs: Vec<M> = values
        .iter()
        .enumerate()
        .map(|(i, v)| M::new(format!("t{i}"), v, "tagged", 1))
        .collect();
    repo.save_all(&docs).await.unwrap();
    for (i, v) in values.iter().enumerate() {
        let want: Vec<String> = match indexed(v, hash) {
            None => Vec::new(),
            Some(key) => {
                let mut ids: Vec<String> = values
                    .iter()
                    .enumerate()
                    .filter(|(_, other)| indexed(other, hash).as_deref() == Some(key.as_str()))
                    .map(|(j, _)| format!("t{j}"))
                    .collect();
                ids.sort();
                ids
            }
        };
        let found = repo.find(M::tag().eq(v)).all().await.unwrap();
        assert_eq!(sorted_ids(&found), want, "== {v:?}");
        let next = &values[(i + 1) % values.len()];
        let either = repo
            .find(M::tag().any_of([v.as_str(), next.as_str()]))
            .all()
            .await
            .unwrap();
        let mut want_either: Vec<String> = values
            .iter()
            .enumerate()
            .filter(|(_, other)| {
                let other = indexed(other, hash);
                other.is_some() && (other == indexed(v, hash) || other == indexed(next, hash))
            })
            .map(|(j, _)| format!("t{j}"))
            .collect();
        want_either.sort();
        assert_eq!(sorted_ids(&either), want_either, "any_of {v:?} {next:?}");
    }
    let ids: Vec<String> = docs.iter().map(|d| Doc::id(d).to_owned()).collect();
    repo.delete_all(&ids).await.unwrap();
}

#[test]
fn unicode_tags_on_hashes() {
    tags_are_found_whatever_they_hold::<HashDoc>();
}

#[test]
fn unicode_tags_on_json() {
    tags_are_found_whatever_they_hold::<JsonDoc>();
}

/// Saves one document per index of the value lists, every field holding its list's value at
/// that index, then asks for each value by `eq`, `gt` and `lte` and checks the documents that
/// come back are exactly those whose field compares so in the field's own type.
macro_rules! numbers_check {
    ($repo:expr, $model:ident, $($field:ident: $t:ty = [$($v:expr),* $(,)?]),* $(,)?) => {{
        let repo = $repo;
        $(let $field: Vec<$t> = vec![$($v),*];)*
        let len = [$($field.len()),*].into_iter().max().unwrap();
        let docs: Vec<$model> = (0..len)
            .map(|i| $model {
                id: format!("n{i:02}"),
                $($field: $field[i % $field.len()],)*
            })
            .collect();
        repo.save_all(&docs).await.unwrap();
        let f = $model::fields();
        $(
            for &v in &$field {
                let expect = |keep: &dyn Fn($t) -> bool| -> Vec<String> {
                    docs.iter().filter(|d| keep(d.$field)).map(|d| d.id.clone()).collect()
                };
                let found = |e: Expr<$model>| async {
                    let mut ids: Vec<String> =
                        repo.find(e).all().await.unwrap().into_iter().map(|d| d.id).collect();
                    ids.sort();
                    ids
                };
                let what = concat!(stringify!($field), " ", stringify!($model));
                assert_eq!(found(f.$field.eq(v)).await, expect(&|x| x == v), "{what} == {v:?}");
                assert_eq!(found(f.$field.gt(v)).await, expect(&|x| x > v), "{what} > {v:?}");
                assert_eq!(found(f.$field.lte(v)).await, expect(&|x| x <= v), "{what} <= {v:?}");
            }
        )*
    }};
}

/// Values at each type's extremes, and floats that do not survive widening to `f64` (0.1f32
/// is saved as "0.1", which is not `f64::from(0.1f32)`). Integers beyond 2^53 are left out:
/// the index holds every number as an `f64`, so neighbours there compare equal.
macro_rules! numbers_test {
    ($test:ident, $model:ident) => {
        #[tokio::test]
        async fn $test() {
            let (_server, client) = stack().await;
            let repo = client.repository::<$model>();
            repo.migrate().await.unwrap();
            numbers_check!(
                &repo,
                $model,
                a_u8: u8 = [0, 1, u8::MAX],
                a_i8: i8 = [i8::MIN, -1, 0, i8::MAX],
                a_u16: u16 = [0, u16::MAX],
                a_i16: i16 = [i16::MIN, 0, i16::MAX],
                a_u32: u32 = [0, u32::MAX - 1, u32::MAX],
                a_i32: i32 = [i32::MIN, -1, i32::MAX],
                a_u64: u64 = [0, 1 << 53, u64::MAX],
                a_i64: i64 = [i64::MIN, -(1 << 53), 0, 1 << 53, i64::MAX],
                a_f32: f32 = [
                    0.1, 0.2, 0.3, -0.1, 0.0, 1.0 / 3.0, 16_777_216.0, 16_777_218.0,
                    f32::MIN, f32::MAX, f32::MIN_POSITIVE, f32::from_bits(1), f32::EPSILON,
                    1.0e-40, 3.4e38,
                ],
                a_f64: f64 = [
                    0.1, 0.2, 0.1 + 0.2, -0.1, 0.0, 1.0 / 3.0, f64::MIN, f64::MAX,
                    f64::MIN_POSITIVE, f64::EPSILON, 5e-324,
                ],
            );
        }
    };
}

numbers_test!(numbers_at_their_extremes_on_hashes, HashNumbers);
numbers_test!(numbers_at_their_extremes_on_json, JsonNumbers);

fn some_docs<M: Doc>() -> Vec<M> {
    vec![
        M::new("1".into(), "Paris", "New York stories", 1),
        M::new("2".into(), "Lyon", "grace under pressure", 2),
        M::new("3".into(), "  ", "the art of war", 3),
    ]
}

/// Filters built from request parameters: degenerate input gets the natural answer, never an
/// error; only programming errors are refused, before anything is sent.
async fn degenerate_input<M: Doc>() {
    let (_server, client) = stack().await;
    let repo = client.repository::<M>();
    repo.migrate().await.unwrap();
    repo.save_all(&some_docs::<M>()).await.unwrap();
    let hash = M::meta().storage == redis_model::model::Storage::Hash;
    let ids = |e: Expr<M>| {
        let repo = repo.clone();
        async move { sorted_ids(&repo.find(e).all().await.unwrap()) }
    };
    let none: Vec<String> = Vec::new();
    let every = ["1", "2", "3"];

    // Tags: empty values and empty lists.
    assert_eq!(ids(M::tag().eq("")).await, none);
    assert_eq!(ids(M::tag().any_of(Vec::<String>::new())).await, none);
    assert_eq!(ids(!M::tag().any_of(Vec::<String>::new())).await, every);
    assert_eq!(ids(!M::tag().eq("")).await, every);
    assert_eq!(ids(M::tag().eq("") | M::tag().eq("lyon")).await, ["2"]);
    assert_eq!(
        ids(M::tag().eq("") & M::name().matches("grace")).await,
        none
    );
    // A hash tag is trimmed when indexed, so one of spaces only is no tag at all; JSON keeps
    // it as it was written.
    let spaces: &[&str] = if hash { &[] } else { &["3"] };
    assert_eq!(ids(M::tag().eq("  ")).await, spaces);
    let some: &[&str] = if hash { &["1"] } else { &["1", "3"] };
    assert_eq!(ids(M::tag().any_of(["", "PARIS", "  "])).await, some);

    // Text: stop words only, nothing searchable, a one-letter prefix, several words.
    for text in ["", "  ", "?!", "to be or not to be", "The"] {
        assert_eq!(ids(M::name().matches(text)).await, none, "matches {text:?}");
        assert_eq!(ids(M::name().phrase(text)).await, none, "phrase {text:?}");
        assert_eq!(ids(M::name().fuzzy(text, 1)).await, none, "fuzzy {text:?}");
        assert_eq!(
            ids(!M::name().matches(text)).await,
            every,
            "!matches {text:?}"
        );
        assert_eq!(
            ids(M::name().matches(text) | M::n().eq(2)).await,
            ["2"],
            "matches {text:?} | n"
        );
    }
    assert_eq!(ids(M::name().matches("the war")).await, ["3"]);
    assert_eq!(ids(M::name().phrase("art of war")).await, ["3"]);
    assert_eq!(ids(M::name().prefix("g")).await, none);
    assert_eq!(ids(M::name().prefix("")).await, none);
    assert_eq!(ids(M::name().prefix("gr")).await, ["2"]);
    assert_eq!(ids(M::name().prefix("new yo")).await, ["1"]);
    assert_eq!(ids(M::name().fuzzy("grace pressur", 1)).await, ["2"]);

    // Terms split where the indexer split them: at ASCII punctuation and spaces only.
    let unicode = M::new(
        "4".into(),
        "x",
        "rocket🚀 «quoted» 東京タワー naïve e\u{301}t",
        4,
    );
    repo.save(&unicode).await.unwrap();
    for text in [
        "rocket🚀",
        "«quoted»!",
        "東京タワー",
        "(naïve)",
        "e\u{301}t",
    ] {
        assert_eq!(
            ids(M::name().matches(text)).await,
            ["4"],
            "matches {text:?}"
        );
    }
    assert_eq!(ids(M::name().phrase("«quoted», 東京タワー")).await, ["4"]);
    assert_eq!(ids(M::name().prefix("東京")).await, ["4"]);
    assert_eq!(ids(M::name().prefix("«quo")).await, ["4"]);
    assert_eq!(ids(M::name().matches("rocket")).await, none);
    repo.delete("4").await.unwrap();

    // Every way of running a query that matches nothing answers without an error.
    let nothing = || repo.find(M::tag().eq(""));
    assert_eq!(nothing().count().await.unwrap(), 0);
    assert!(nothing().first().await.unwrap().is_none());
    let page = nothing()
        .sort_by(M::n(), Order::Asc)
        .page(0, 10)
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (0, 0));
    assert!(nothing().limit(5, 5).all().await.unwrap().is_empty());
    let streamed: Vec<_> = nothing().stream().collect().await;
    assert!(streamed.is_empty());

    // Programming errors are refused.
    for bad in [
        M::n().eq(f64::NAN),
        M::n().gt(f32::NAN),
        M::name().fuzzy("grace", 0),
    ] {
        assert!(matches!(
            repo.find(bad | M::tag().eq("x")).all().await,
            Err(Error::InvalidValue { .. })
        ));
    }
    assert_eq!(ids(M::n().between(3, 1)).await, none);
}

#[tokio::test]
async fn degenerate_input_on_hashes() {
    degenerate_input::<HashDoc>().await;
}

#[tokio::test]
async fn degenerate_input_on_json() {
    degenerate_input::<JsonDoc>().await;
}

type MakeQuery<'r, M> = Box<dyn Fn() -> Query<'r, M> + 'r>;

/// A query over every document in each order a query can have.
fn orders<M: Doc>(repo: &Repository<M>) -> Vec<(&'static str, MakeQuery<'_, M>)> {
    let all = || repo.find(M::tag().eq("all"));
    vec![
        (
            "sorted up",
            Box::new(move || all().sort_by(M::n(), Order::Asc)),
        ),
        (
            "sorted down",
            Box::new(move || all().sort_by(M::n(), Order::Desc)),
        ),
        (
            "by text",
            Box::new(move || all().sort_by(M::name(), Order::Desc)),
        ),
        ("unsorted", Box::new(all)),
        (
            "ranked",
            Box::new(|| repo.find(M::name().matches("word x"))),
        ),
    ]
}

/// Pages anywhere in a result set larger than the server's result cap, in every order, agree
/// with the stream that walks all of it.
async fn pages_past_the_result_cap<M: Doc>() {
    const DOCS: usize = 12_000;
    let (_server, client) = stack().await;
    // The cap `redis-stack-server` sets.
    client
        .send::<()>(
            cmd("FT.CONFIG")
                .arg("SET")
                .arg("MAXSEARCHRESULTS")
                .arg(10_000),
        )
        .await
        .unwrap();
    let repo = client.repository::<M>();
    repo.migrate().await.unwrap();
    // Ties everywhere: fifty values of `n`, seven lengths of text.
    let docs: Vec<M> = (0..DOCS)
        .map(|i| {
            let name = format!("word{}", " x".repeat(i % 7));
            M::new(format!("d{i:05}"), "all", &name, (i % 50) as u32)
        })
        .collect();
    repo.save_all(&docs).await.unwrap();

    for (what, query) in &orders(&repo) {
        let all: Vec<String> = query()
            .stream()
            .map(|d| Doc::id(&d.unwrap()).to_owned())
            .collect()
            .await;
        let total = all.len();
        assert!(total > 10_000, "{what}: {total}");
        let unique: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(unique.len(), total, "{what}: every match once");
        assert_eq!(query().count().await.unwrap(), total as u64, "{what}");
        for (offset, n) in [
            (0, 20),
            (5_000, 20),
            (9_990, 20),
            (10_000, 5),
            (total as u64 - 20, 20),
            (total as u64 - 10, 20),
            (total as u64, 20),
            (0, 10_500),
        ] {
            let got: Vec<String> = query()
                .limit(offset, n)
                .all()
                .await
                .unwrap()
                .iter()
                .map(|d| Doc::id(d).to_owned())
                .collect();
            let from = (offset as usize).min(total);
            let want = &all[from..(from + n as usize).min(total)];
            assert_eq!(got, want, "{what}: limit({offset}, {n})");
        }
        let last = (total - 1) / 20;
        let page = query().page(last as u64, 20).await.unwrap();
        assert_eq!(page.total, total as u64, "{what}");
        let items: Vec<&str> = page.items.iter().map(Doc::id).collect();
        assert_eq!(items, all[last * 20..], "{what}: the last page");
        let first = query().limit(10_100, 1).first().await.unwrap().unwrap();
        assert_eq!(Doc::id(&first), all[10_100], "{what}: first at 10,100");
        assert!(query()
            .limit(total as u64, 1)
            .first()
            .await
            .unwrap()
            .is_none());
    }
}

#[tokio::test]
async fn pages_past_the_result_cap_on_hashes() {
    pages_past_the_result_cap::<HashDoc>().await;
}

#[tokio::test]
async fn pages_past_the_result_cap_on_json() {
    pages_past_the_result_cap::<JsonDoc>().await;
}

/// The ids of `M`'s documents in the order `sort` gives, fetched as a stream, as one page and
/// as pages of three, which must agree.
async fn sorted<M: Doc>(
    repo: &Repository<M>,
    sort: impl Fn(Query<'_, M>) -> Query<'_, M>,
) -> Vec<String> {
    let ids = |docs: Vec<M>| {
        docs.iter()
            .map(|d| Doc::id(d).to_owned())
            .collect::<Vec<_>>()
    };
    let streamed = ids(sort(repo.find_all()).all().await.unwrap());
    let page = ids(sort(repo.find_all()).limit(0, 100).all().await.unwrap());
    assert_eq!(page, streamed);
    let mut paged = Vec::new();
    for p in 0.. {
        let page = sort(repo.find_all()).page(p, 3).await.unwrap();
        assert_eq!(page.total as usize, streamed.len());
        if page.items.is_empty() {
            break;
        }
        paged.extend(ids(page.items));
    }
    assert_eq!(paged, streamed);
    streamed
}

/// Sortable text and tags sort the same way on both storages: ASCII case folded, unless the
/// tag is case-sensitive; documents missing the field last, whichever way.
#[tokio::test]
async fn text_and_tags_sort_alike_on_both_storages() {
    let (_server, client) = stack().await;
    let hashes = client.repository::<HashDoc>();
    let json = client.repository::<JsonDoc>();
    hashes.migrate().await.unwrap();
    json.migrate().await.unwrap();
    let words = [
        "apple", "Banana", "Zebra", "banana", "APPLE", "mango", "Mango", "zeta",
    ];
    fn docs<M: Doc>(words: &[&str]) -> Vec<M> {
        words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let d = M::new(format!("w{i}"), w, w, i as u32);
                if i % 3 == 2 {
                    d
                } else {
                    d.labelled(w)
                }
            })
            .collect()
    }
    hashes.save_all(&docs::<HashDoc>(&words)).await.unwrap();
    json.save_all(&docs::<JsonDoc>(&words)).await.unwrap();

    for order in [Order::Asc, Order::Desc] {
        let by_name = sorted(&hashes, |q| q.sort_by(HashDoc::name(), order)).await;
        assert_eq!(
            by_name,
            sorted(&json, |q| q.sort_by(JsonDoc::name(), order)).await
        );
        let by_tag = sorted(&hashes, |q| q.sort_by(HashDoc::tag(), order)).await;
        assert_eq!(
            by_tag,
            sorted(&json, |q| q.sort_by(JsonDoc::tag(), order)).await
        );
        assert_eq!(by_tag, by_name);
        let by_label = sorted(&hashes, |q| q.sort_by(HashDoc::label(), order)).await;
        assert_eq!(
            by_label,
            sorted(&json, |q| q.sort_by(JsonDoc::label(), order)).await
        );
        let by_code = sorted(&hashes, |q| q.sort_by(HashDoc::code(), order)).await;
        assert_eq!(
            by_code,
            sorted(&json, |q| q.sort_by(JsonDoc::code(), order)).await
        );
        if order == Order::Asc {
            // Folded, ties in the order the documents were saved.
            let want = ["w0", "w4", "w1", "w3", "w5", "w6", "w2", "w7"];
            assert_eq!(by_name, want);
            // w2 and w5 have no label: last.
            assert_eq!(by_label, ["w0", "w4", "w1", "w3", "w6", "w7", "w2", "w5"]);
            // Case-sensitive: byte order.
            assert_eq!(by_code, ["w4", "w1", "w6", "w2", "w0", "w3", "w5", "w7"]);
        } else {
            assert_eq!(by_label[6..], ["w5", "w2"]);
        }
    }

    // Beyond ASCII the server folds a hash's sortables ("éclair" and "Éclair" tie) but the
    // aggregation that folds JSON's lowercases ASCII only ("Éclair" sorts before "éclair").
    let accents = ["éclair", "Éclair"];
    let extra = |i: usize, w: &str| (format!("e{i}"), w.to_owned());
    for (i, w) in accents.iter().enumerate() {
        let (id, w) = extra(i, w);
        hashes
            .save(&HashDoc::new(id.clone(), "x", &w, 0))
            .await
            .unwrap();
        json.save(&JsonDoc::new(id, "x", &w, 0)).await.unwrap();
    }
    let last_two = |ids: Vec<String>| ids[ids.len() - 2..].to_vec();
    assert_eq!(
        last_two(sorted(&hashes, |q| q.sort_by(HashDoc::name(), Order::Asc)).await),
        ["e0", "e1"]
    );
    assert_eq!(
        last_two(sorted(&json, |q| q.sort_by(JsonDoc::name(), Order::Asc)).await),
        ["e1", "e0"]
    );
}
