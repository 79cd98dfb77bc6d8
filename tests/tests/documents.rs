//! Documents as they are stored, on both storages against a real Redis Stack: written by
//! another program (ids only in the key, fields missing), and tag values the index would split.

use redis_model::model::Storage;
use redis_model::prelude::*;
use redis_model_tests::stack;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Writes `doc` at `key` as another program would: a raw `HSET` of its members (hash storage)
/// or a `JSON.SET` of the whole (JSON storage).
async fn write_raw<M: RedisModel>(client: &Client, key: &str, doc: serde_json::Value) {
    let c = match M::meta().storage {
        Storage::Hash => {
            let mut c = cmd("HSET").arg(key);
            for (name, value) in doc.as_object().expect("an object") {
                let value = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                c = c.arg(name).arg(value);
            }
            c
        }
        Storage::Json => cmd("JSON.SET").arg(key).arg("$").arg(doc.to_string()),
    };
    client.send::<()>(c).await.unwrap();
}

/// The key and field of a decode error.
fn decode_error<T: std::fmt::Debug>(result: Result<T>) -> (String, Option<String>) {
    match result {
        Err(Error::Decode { key, field, .. }) => (key, field),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

/// A model with a string id, in the storage `$container` names.
macro_rules! person_model {
    ($name:ident, $($container:tt)*) => {
        #[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[redis($($container)*)]
        pub struct $name {
            #[redis(id)]
            pub id: String,
            #[redis(text)]
            pub name: String,
            #[redis(tag)]
            pub city: String,
            #[redis(numeric)]
            pub age: u32,
        }
    };
}

person_model!(Person, prefix = "person");
person_model!(JsonPerson, prefix = "jperson", storage = "json");

/// A model with an integer id, in the storage `$container` names.
macro_rules! item_model {
    ($name:ident, $($container:tt)*) => {
        #[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[redis($($container)*)]
        pub struct $name {
            #[redis(id)]
            pub number: u64,
            #[redis(tag)]
            pub kind: String,
        }
    };
}

item_model!(Item, prefix = "item");
item_model!(JsonItem, prefix = "jitem", storage = "json");

/// Documents another program wrote are read with the key's id, by `get`, `get_many`, a page
/// of `find` and a streamed `find`: without the id field, with an id holding `:`, with an id
/// field that disagrees with the key. A missing field is named, not the id.
macro_rules! ids_come_from_keys {
    ($client:expr, $model:ident) => {{
        let client = $client;
        let repo = client.repository::<$model>();
        repo.migrate().await.unwrap();
        let prefix = repo.key_prefix();
        let doc = |name: &str, city: &str| json!({"name": name, "city": city, "age": 30});
        write_raw::<$model>(client, &format!("{prefix}42"), doc("Ann", "Oslo")).await;
        write_raw::<$model>(client, &format!("{prefix}a:b"), doc("Bo", "Oslo")).await;
        let mut disagreeing = doc("Cy", "Oslo");
        disagreeing["id"] = json!("99");
        write_raw::<$model>(client, &format!("{prefix}7"), disagreeing).await;

        let ann = repo.get("42").await.unwrap().unwrap();
        assert_eq!((ann.id.as_str(), ann.name.as_str()), ("42", "Ann"));
        assert_eq!(repo.get("a:b").await.unwrap().unwrap().id, "a:b");
        assert_eq!(repo.get("7").await.unwrap().unwrap().id, "7");
        let many = repo.get_many(&["7", "a:b", "nope"]).await.unwrap();
        let many: Vec<Option<&str>> = many.iter().map(|m| m.as_ref().map(|m| m.id.as_str())).collect();
        assert_eq!(many, [Some("7"), Some("a:b"), None]);

        let f = $model::fields();
        let ids = |found: Vec<$model>| {
            let mut ids: Vec<String> = found.into_iter().map(|m| m.id).collect();
            ids.sort();
            ids
        };
        let expected = ["42", "7", "a:b"];
        let page = repo.find(f.city.eq("Oslo")).limit(0, 10).all().await.unwrap();
        assert_eq!(ids(page), expected, "a page of search hits");
        let streamed = repo.find(f.city.eq("Oslo")).all().await.unwrap();
        assert_eq!(ids(streamed), expected, "a streamed search");
        let ann = repo.find(f.name.matches("ann")).first().await.unwrap().unwrap();
        assert_eq!(ann.id, "42");

        // A field really missing is named, by `get` and by a search that hits the document.
        write_raw::<$model>(client, &format!("{prefix}8"), json!({"name": "Di", "city": "Rome"}))
            .await;
        let missing = (format!("{prefix}8"), Some("age".to_owned()));
        assert_eq!(decode_error(repo.get("8").await), missing);
        assert_eq!(decode_error(repo.find(f.city.eq("Rome")).first().await), missing);
    }};
}

#[tokio::test]
async fn ids_come_from_keys_on_hashes() {
    let (_server, client) = stack().await;
    ids_come_from_keys!(&client, Person);
}

#[tokio::test]
async fn ids_come_from_keys_on_json() {
    let (_server, client) = stack().await;
    ids_come_from_keys!(&client, JsonPerson);
}

/// An integer id is the key's, converted; a key whose id is no integer is a decode error
/// naming the id field.
macro_rules! integer_ids_come_from_keys {
    ($client:expr, $model:ident) => {{
        let client = $client;
        let repo = client.repository::<$model>();
        repo.migrate().await.unwrap();
        let prefix = repo.key_prefix();
        write_raw::<$model>(client, &format!("{prefix}42"), json!({"kind": "bolt"})).await;
        // A stored id that is no integer at all does not matter either.
        write_raw::<$model>(
            client,
            &format!("{prefix}43"),
            json!({"number": "x", "kind": "bolt"}),
        )
        .await;
        assert_eq!(repo.get(42).await.unwrap().unwrap().number, 42);
        assert_eq!(repo.get(43).await.unwrap().unwrap().number, 43);
        let f = $model::fields();
        let mut found: Vec<u64> = repo
            .find(f.kind.eq("bolt"))
            .all()
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.number)
            .collect();
        found.sort();
        assert_eq!(found, [42, 43]);

        write_raw::<$model>(client, &format!("{prefix}abc"), json!({"kind": "nut"})).await;
        let bad = (format!("{prefix}abc"), Some("number".to_owned()));
        assert_eq!(decode_error(repo.get("abc").await), bad);
        assert_eq!(decode_error(repo.find(f.kind.eq("nut")).first().await), bad);
    }};
}

#[tokio::test]
async fn integer_ids_come_from_keys_on_hashes() {
    let (_server, client) = stack().await;
    integer_ids_come_from_keys!(&client, Item);
}

#[tokio::test]
async fn integer_ids_come_from_keys_on_json() {
    let (_server, client) = stack().await;
    integer_ids_come_from_keys!(&client, JsonItem);
}

#[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[redis(prefix = "jresident", storage = "json")]
pub struct Resident {
    #[redis(id)]
    pub id: String,
    #[redis(tag)]
    pub name: String,
    pub address: Address,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub street: String,
    pub city: String,
}

#[tokio::test]
async fn a_missing_nested_member_is_named_by_its_path() {
    let (_server, client) = stack().await;
    let repo = client.repository::<Resident>();
    repo.migrate().await.unwrap();
    let doc = json!({"name": "Eve", "address": {"street": "Main"}});
    write_raw::<Resident>(&client, "jresident:1", doc).await;
    let missing = ("jresident:1".to_owned(), Some("address.city".to_owned()));
    assert_eq!(decode_error(repo.get("1").await), missing);
    let f = Resident::fields();
    assert_eq!(
        decode_error(repo.find(f.name.eq("Eve")).first().await),
        missing
    );
}

/// Tag fields with a declared separator, one with none, in the storage `$container` names.
macro_rules! labelled_model {
    ($name:ident, $($container:tt)*) => {
        #[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[redis($($container)*)]
        pub struct $name {
            #[redis(id)]
            pub id: String,
            #[redis(tag, separator = ",")]
            pub labels: Vec<String>,
            #[redis(tag, separator = ",")]
            pub kind: String,
            #[redis(tag, separator = ",")]
            pub extra: Option<Vec<String>>,
            #[redis(tag)]
            pub plain: String,
        }
    };
}

labelled_model!(Labelled, prefix = "labelled");
labelled_model!(JsonLabelled, prefix = "jlabelled", storage = "json");

/// A tag holding its field's separator is refused before anything is written, by `save`,
/// `save_all` and `update_field`, naming the field and the tag; values without it are saved
/// and found whole.
macro_rules! separators_in_tags_are_refused {
    ($client:expr, $model:ident) => {{
        let client = $client;
        let repo = client.repository::<$model>();
        repo.migrate().await.unwrap();
        let good = |id: &str| $model {
            id: id.into(),
            labels: vec!["a".into(), "b c".into()],
            kind: "k|1".into(),
            extra: None,
            plain: "x,y".into(),
        };
        let refused = |result: Result<String>, field: &str, tag: &str| match result {
            Err(Error::InvalidValue { field: f, reason }) => {
                assert_eq!(f, field);
                assert!(reason.contains(tag), "{reason}");
            }
            other => panic!("expected {field} refused, got {other:?}"),
        };

        let mut bad = good("1");
        bad.labels = vec!["ok".into(), "a,b".into()];
        refused(repo.save(&bad).await, "labels", "tag 1");
        let mut bad = good("1");
        bad.kind = "a,b".into();
        refused(repo.save(&bad).await, "kind", "the tag");
        let mut bad = good("1");
        bad.extra = Some(vec!["a,b".into()]);
        refused(repo.save(&bad).await, "extra", "tag 0");
        assert!(!repo.exists("1").await.unwrap(), "nothing was written");
        match repo.save_all(&[good("2"), bad, good("3")]).await {
            Err(Error::InvalidValue { field, .. }) => assert_eq!(field, "extra"),
            other => panic!("{other:?}"),
        }
        for id in ["1", "2", "3"] {
            assert!(!repo.exists(id).await.unwrap(), "{id} was not written");
        }

        repo.save(&good("1")).await.unwrap();
        let f = $model::fields();
        let found = |found: Vec<$model>| found.into_iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(
            found(repo.find(f.labels.eq("b c")).all().await.unwrap()),
            ["1"]
        );
        assert_eq!(
            found(repo.find(f.kind.eq("k|1")).all().await.unwrap()),
            ["1"]
        );
        // Whatever this field's separator (the default one, or none on JSON), a comma is
        // part of the tag.
        assert_eq!(
            found(repo.find(f.plain.eq("x,y")).all().await.unwrap()),
            ["1"]
        );
        assert!(repo.find(f.plain.eq("x")).all().await.unwrap().is_empty());

        let update = repo.update_field("1", f.kind, &"a,b".to_owned()).await;
        refused(update.map(|_| String::new()), "kind", "the tag");
        let update = repo
            .update_field("1", f.labels, &vec!["a,b".to_owned()])
            .await;
        refused(update.map(|_| String::new()), "labels", "tag 0");
        assert_eq!(repo.get("1").await.unwrap().unwrap(), good("1"));
        assert!(repo
            .update_field("1", f.kind, &"k2".to_owned())
            .await
            .unwrap());
        assert_eq!(
            found(repo.find(f.kind.eq("k2")).all().await.unwrap()),
            ["1"]
        );
        // A tag list is replaced whole.
        let labels = vec!["p".to_owned(), "q r".to_owned()];
        assert!(repo.update_field("1", f.labels, &labels).await.unwrap());
        assert_eq!(repo.get("1").await.unwrap().unwrap().labels, labels);
        assert_eq!(
            found(repo.find(f.labels.eq("q r")).all().await.unwrap()),
            ["1"]
        );
        assert!(repo.find(f.labels.eq("a")).all().await.unwrap().is_empty());

        // NUL, where the index would cut a tag, is refused whatever the separator.
        let mut bad = good("5");
        bad.plain = "x\0y".into();
        refused(repo.save(&bad).await, "plain", "NUL");
        assert!(!repo.exists("5").await.unwrap());
        let update = repo.update_field("1", f.plain, &"x\0y".to_owned()).await;
        refused(update.map(|_| String::new()), "plain", "NUL");
    }};
}

#[tokio::test]
async fn separators_in_tags_are_refused_on_hashes() {
    let (_server, client) = stack().await;
    separators_in_tags_are_refused!(&client, Labelled);
    // The default separator is refused in a hash's tag, which declares none.
    let repo = client.repository::<Labelled>();
    let mut bad = repo.get("1").await.unwrap().unwrap();
    bad.id = "4".into();
    bad.plain = "x\u{1f}y".into();
    assert!(matches!(
        repo.save(&bad).await,
        Err(Error::InvalidValue { field, .. }) if field == "plain"
    ));
    assert!(!repo.exists("4").await.unwrap());
}

#[tokio::test]
async fn separators_in_tags_are_refused_on_json() {
    let (_server, client) = stack().await;
    separators_in_tags_are_refused!(&client, JsonLabelled);
}
