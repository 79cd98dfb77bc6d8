//! Typed repositories against a real Redis Stack (RediSearch and RedisJSON loaded): every
//! operation, on both storages.

use std::time::Duration;

use futures_util::StreamExt;
use redis_model::prelude::*;
use redis_model::search::Migration;
use redis_model_tests::{stack, RedisServer};
use serde::{Deserialize, Serialize};

#[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[redis(prefix = "user", index = "user-idx")]
pub struct User {
    #[redis(id)]
    pub id: String,
    #[redis(text, sortable)]
    pub name: String,
    #[redis(tag)]
    pub city: String,
    #[redis(numeric, sortable)]
    pub age: u32,
    #[redis(tag)]
    pub skills: Vec<String>,
    #[redis(geo)]
    pub home: GeoPoint,
    #[redis(vector(dim = 4, distance = "cosine", algorithm = "hnsw"))]
    pub embedding: Vec<f32>,
    pub bio: Option<String>,
}

#[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[redis(prefix = "juser", storage = "json", index = "juser-idx")]
pub struct JsonUser {
    #[redis(id)]
    pub id: String,
    #[redis(text, sortable)]
    pub name: String,
    #[redis(tag)]
    pub city: String,
    #[redis(numeric, sortable)]
    pub age: u32,
    #[redis(tag)]
    pub skills: Vec<String>,
    #[redis(geo)]
    pub home: GeoPoint,
    #[redis(vector(dim = 4, distance = "cosine", algorithm = "hnsw"))]
    pub embedding: Vec<f32>,
    pub bio: Option<String>,
    #[redis(tag, path = "$.address.country", alias = "country")]
    pub address: Address,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub street: String,
    pub country: String,
}

fn user(id: &str, name: &str, city: &str, age: u32, skills: &[&str], e: [f32; 4]) -> User {
    User {
        id: id.into(),
        name: name.into(),
        city: city.into(),
        age,
        skills: skills.iter().map(|s| s.to_string()).collect(),
        home: GeoPoint::new(2.35 + f64::from(age) / 1000.0, 48.85),
        embedding: e.to_vec(),
        bio: (age % 2 == 0).then(|| format!("bio of {name}")),
    }
}

fn json_user(u: &User) -> JsonUser {
    JsonUser {
        id: u.id.clone(),
        name: u.name.clone(),
        city: u.city.clone(),
        age: u.age,
        skills: u.skills.clone(),
        home: u.home,
        embedding: u.embedding.clone(),
        bio: u.bio.clone(),
        address: Address {
            street: format!("{} street", u.name),
            country: if u.city == "Paris" {
                "France"
            } else {
                "Elsewhere"
            }
            .into(),
        },
    }
}

fn people() -> Vec<User> {
    vec![
        user(
            "1",
            "Alice Martin",
            "Paris",
            34,
            &["rust", "go"],
            [1.0, 0.0, 0.0, 0.0],
        ),
        user(
            "2",
            "Bob Stone",
            "Paris",
            17,
            &["cobol"],
            [0.9, 0.1, 0.0, 0.0],
        ),
        user(
            "3",
            "Carol Beaches",
            "New York",
            52,
            &["rust", "c++"],
            [0.0, 1.0, 0.0, 0.0],
        ),
        user(
            "4",
            "Dan Grace",
            "São Paulo",
            65,
            &["go"],
            [0.0, 0.0, 1.0, 0.0],
        ),
        user(
            "5",
            "Eve Adams",
            "Paris",
            40,
            &["rust", "cobol"],
            [0.7, 0.7, 0.0, 0.0],
        ),
    ]
}

fn ids<M: RedisModel<Id = String>>(found: &[M]) -> Vec<String> {
    let mut v: Vec<String> = found.iter().map(|m| m.id().clone()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn hash_crud_round_trip() {
    let (_server, client) = stack().await;
    let users = client.repository::<User>();
    let mut alice = people().remove(0);
    alice.bio = None;
    assert_eq!(users.save(&alice).await.unwrap(), "1");
    assert_eq!(users.get("1").await.unwrap(), Some(alice.clone()));
    assert_eq!(users.get("nope").await.unwrap(), None);
    assert!(users.exists("1").await.unwrap());

    // Stored as flat fields: vectors as FLOAT32 bytes, tags joined, absent options left out.
    let raw: std::collections::HashMap<String, bytes::Bytes> =
        client.send(cmd("HGETALL").arg("user:1")).await.unwrap();
    assert_eq!(raw["embedding"].len(), 16);
    assert_eq!(&raw["age"][..], b"34");
    assert!(!raw.contains_key("bio"));

    // A save replaces the document whole: a field set to None disappears.
    let mut changed = alice.clone();
    changed.bio = Some("now has a bio".into());
    users.save(&changed).await.unwrap();
    changed.bio = None;
    users.save(&changed).await.unwrap();
    assert_eq!(users.get("1").await.unwrap().unwrap().bio, None);

    let all = people();
    users.save_all(&all).await.unwrap();
    let got = users.get_many(&["5", "missing", "1"]).await.unwrap();
    assert_eq!(got[0].as_ref(), Some(&all[4]));
    assert_eq!(got[1], None);
    assert_eq!(got[2].as_ref(), Some(&all[0]));

    assert!(users.delete("2").await.unwrap());
    assert!(!users.delete("2").await.unwrap());
    assert_eq!(users.delete_all(&["3", "4", "nope"]).await.unwrap(), 2);
    assert!(!users.exists("3").await.unwrap());
}

#[tokio::test]
async fn json_crud_round_trip() {
    let (_server, client) = stack().await;
    let users = client.repository::<JsonUser>();
    let all: Vec<JsonUser> = people().iter().map(json_user).collect();
    users.save_all(&all).await.unwrap();
    assert_eq!(users.get("3").await.unwrap(), Some(all[2].clone()));
    let raw: String = client
        .send(cmd("JSON.GET").arg("juser:3").arg("$.address.street"))
        .await
        .unwrap();
    assert_eq!(raw, r#"["Carol Beaches street"]"#);
    assert!(users.exists("3").await.unwrap());
    let got = users.get_many(&["5", "missing", "1"]).await.unwrap();
    assert_eq!(got[0].as_ref(), Some(&all[4]));
    assert_eq!(got[1], None);
    assert_eq!(got[2].as_ref(), Some(&all[0]));
    assert!(users.delete("3").await.unwrap());
    assert!(!users.delete("3").await.unwrap());
    assert_eq!(users.get("3").await.unwrap(), None);
    assert!(!users.exists("3").await.unwrap());
    assert_eq!(users.delete_all(&["1", "2", "nope"]).await.unwrap(), 2);
    assert_eq!(
        users.get_many(&["1", "2", "4"]).await.unwrap()[2].as_ref(),
        Some(&all[3])
    );
}

#[tokio::test]
async fn empty_ids_get_ulids_and_namespaces_prefix_keys() {
    let server = RedisServer::start_stack();
    let mut config = Config::from_url(&server.url()).unwrap();
    config.namespace = "staging:".into();
    let client = Client::with_config(config).await.unwrap();
    let users = client.repository::<User>();
    let mut u = people().remove(0);
    u.id.clear();
    let id = users.save(&u).await.unwrap();
    assert_eq!(id.len(), 26);
    assert!(Ulid::parse(&id).is_ok());
    let exists: u64 = client
        .send(cmd("EXISTS").arg(format!("staging:user:{id}")))
        .await
        .unwrap();
    assert_eq!(exists, 1);
    u.id = id.clone();
    assert_eq!(users.get(&id).await.unwrap(), Some(u));
    users.migrate().await.unwrap();
    assert_eq!(users.index_name(), "staging:user-idx");
    assert_eq!(users.find_all().count().await.unwrap(), 1);
}

#[tokio::test]
async fn ttls() {
    #[derive(RedisModel, Debug, Clone, PartialEq)]
    #[redis(prefix = "session", ttl = 3600)]
    struct Session {
        #[redis(id)]
        id: u64,
        user: String,
    }
    let (_server, client) = stack().await;
    let sessions = client.repository::<Session>();
    sessions
        .save(&Session {
            id: 7,
            user: "a".into(),
        })
        .await
        .unwrap();
    let ttl: i64 = client.send(cmd("TTL").arg("session:7")).await.unwrap();
    assert!((3590..=3600).contains(&ttl), "{ttl}");
    sessions
        .save_with_ttl(
            &Session {
                id: 8,
                user: "b".into(),
            },
            Duration::from_secs(90),
        )
        .await
        .unwrap();
    let pttl: i64 = client.send(cmd("PTTL").arg("session:8")).await.unwrap();
    assert!((60_000..=90_000).contains(&pttl), "{pttl}");
    assert_eq!(sessions.get(7u64).await.unwrap().unwrap().user, "a");
}

#[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[redis(prefix = "account")]
struct Account {
    #[redis(id)]
    id: String,
    #[redis(numeric)]
    balance: i64,
    #[redis(version)]
    version: u64,
}

#[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[redis(prefix = "jaccount", storage = "json")]
struct JsonAccount {
    #[redis(id)]
    id: String,
    #[redis(numeric)]
    balance: i64,
    #[redis(version)]
    version: u64,
}

#[tokio::test]
async fn optimistic_concurrency_on_both_storages() {
    let (_server, client) = stack().await;
    let accounts = client.repository::<Account>();
    let mut a = Account {
        id: "a".into(),
        balance: 10,
        version: 0,
    };
    accounts.save(&a).await.unwrap();
    let stored = accounts.get("a").await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    // A stale copy (still version 0) conflicts and writes nothing.
    a.balance = 99;
    match accounts.save(&a).await {
        Err(Error::Conflict {
            key,
            expected,
            found,
        }) => {
            assert_eq!((key.as_str(), expected, found), ("account:a", 0, 1))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(accounts.get("a").await.unwrap().unwrap().balance, 10);
    let mut fresh = stored;
    fresh.balance = 20;
    accounts.save(&fresh).await.unwrap();
    assert_eq!(accounts.get("a").await.unwrap().unwrap().version, 2);
    // Partial updates bump the version too, so a copy read before them is stale.
    assert!(accounts
        .update_field("a", Account::fields().balance, &25i64)
        .await
        .unwrap());
    let now = accounts.get("a").await.unwrap().unwrap();
    assert_eq!((now.balance, now.version), (25, 3));
    assert!(matches!(
        accounts.save(&fresh).await,
        Err(Error::Conflict { .. })
    ));
    // A partial update of a missing document creates nothing.
    assert!(!accounts
        .update_field("zz", Account::fields().balance, &1i64)
        .await
        .unwrap());
    assert!(!accounts.exists("zz").await.unwrap());

    let jaccounts = client.repository::<JsonAccount>();
    let j = JsonAccount {
        id: "j".into(),
        balance: 5,
        version: 0,
    };
    jaccounts.save(&j).await.unwrap();
    assert!(matches!(
        jaccounts.save(&j).await,
        Err(Error::Conflict { .. })
    ));
    assert!(jaccounts
        .update_field("j", JsonAccount::fields().balance, &6i64)
        .await
        .unwrap());
    let stored = jaccounts.get("j").await.unwrap().unwrap();
    assert_eq!((stored.balance, stored.version), (6, 2));
}

#[tokio::test]
async fn bad_stored_data_is_a_decode_error() {
    let (_server, client) = stack().await;
    let users = client.repository::<User>();
    users.save(&people().remove(0)).await.unwrap();
    client
        .send::<()>(cmd("HSET").arg("user:1").arg("age").arg("old"))
        .await
        .unwrap();
    match users.get("1").await {
        Err(Error::Decode { key, field, .. }) => {
            assert_eq!((key.as_str(), field.as_deref()), ("user:1", Some("age")))
        }
        other => panic!("{other:?}"),
    }
    client
        .send::<()>(cmd("HSET").arg("user:9").arg("name").arg("x"))
        .await
        .unwrap();
    match users.get("9").await {
        Err(Error::Decode {
            key,
            field: Some(_),
            reason,
        }) => {
            assert_eq!(key, "user:9");
            assert!(reason.contains("missing"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    client
        .send::<()>(
            cmd("JSON.SET")
                .arg("juser:1")
                .arg("$")
                .arg(r#"{"id":"1","name":"x"}"#),
        )
        .await
        .unwrap();
    match client.repository::<JsonUser>().get("1").await {
        Err(Error::Decode { key, reason, .. }) => {
            assert_eq!(key, "juser:1");
            assert!(reason.contains("missing field"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // A value of the wrong type, deep in the document, is named by its path.
    let jusers = client.repository::<JsonUser>();
    jusers.save(&json_user(&people()[0])).await.unwrap();
    client
        .send::<()>(
            cmd("JSON.SET")
                .arg("juser:1")
                .arg("$.address.country")
                .arg("7"),
        )
        .await
        .unwrap();
    match jusers.get("1").await {
        Err(Error::Decode { key, field, .. }) => {
            assert_eq!(
                (key.as_str(), field.as_deref()),
                ("juser:1", Some("address.country"))
            )
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn values_the_index_would_skip_are_refused() {
    let (_server, client) = stack().await;
    let users = client.repository::<User>();
    let mut u = people().remove(0);
    u.embedding = vec![1.0, 2.0, 3.0];
    match users.save(&u).await {
        Err(Error::VectorDimension { expected, got, .. }) => assert_eq!((expected, got), (4, 3)),
        other => panic!("{other:?}"),
    }
    let mut u = people().remove(0);
    u.home = GeoPoint::new(2.0, 95.0);
    assert!(matches!(
        users.save(&u).await,
        Err(Error::InvalidValue { .. })
    ));
    assert!(!users.exists("1").await.unwrap());
    let f = User::fields();
    assert!(matches!(
        users.knn(f.embedding, &[1.0, 2.0], 3).all().await,
        Err(Error::VectorDimension {
            expected: 4,
            got: 2,
            ..
        })
    ));
}

/// The queries both storages answer alike, over `people()` saved as `$model`.
macro_rules! common_queries {
    ($users:expr, $model:ident) => {{
        let users = $users;
        let f = $model::fields();
        let adults = users
            .find(f.age.between(18, 65) & f.city.eq("Paris") & !f.skills.any_of(["cobol"]))
            .sort_by(f.age, Order::Desc)
            .limit(0, 20)
            .all()
            .await
            .unwrap();
        assert_eq!(ids(&adults), ["1"]);

        let by_age = users
            .find(f.city.eq("paris"))
            .sort_by(f.age, Order::Asc)
            .all()
            .await
            .unwrap();
        let ages: Vec<u32> = by_age.iter().map(|u| u.age).collect();
        assert_eq!(ages, [17, 34, 40]);

        assert_eq!(
            users.find(f.name.matches("alice")).count().await.unwrap(),
            1
        );
        // Stemming: "beach" finds "Beaches".
        assert_eq!(
            ids(&users.find(f.name.matches("beach")).all().await.unwrap()),
            ["3"]
        );
        assert_eq!(
            ids(&users.find(f.name.prefix("gra")).all().await.unwrap()),
            ["4"]
        );
        assert_eq!(
            ids(&users.find(f.name.fuzzy("adamz", 1)).all().await.unwrap()),
            ["5"]
        );
        assert_eq!(
            ids(&users
                .find(f.name.phrase("the dan grace"))
                .all()
                .await
                .unwrap()),
            ["4"]
        );
        assert_eq!(
            ids(&users.find(f.city.eq("New York")).all().await.unwrap()),
            ["3"]
        );
        assert_eq!(
            ids(&users.find(f.city.eq("São Paulo")).all().await.unwrap()),
            ["4"]
        );
        assert_eq!(
            ids(&users.find(f.skills.eq("c++")).all().await.unwrap()),
            ["3"]
        );
        assert_eq!(ids(&users.find(f.age.gt(52)).all().await.unwrap()), ["4"]);
        assert_eq!(
            ids(&users.find(f.age.gte(52)).all().await.unwrap()),
            ["3", "4"]
        );
        assert_eq!(ids(&users.find(f.age.lt(18)).all().await.unwrap()), ["2"]);
        assert_eq!(
            ids(&users
                .find(f.age.lte(17) | f.age.eq(65))
                .all()
                .await
                .unwrap()),
            ["2", "4"]
        );
        let near = users
            .find(f.home.within_radius(GeoPoint::new(2.35, 48.85), 1500.0))
            .all()
            .await
            .unwrap();
        assert_eq!(ids(&near), ["2"]);
        let first = users
            .find(f.city.eq("Paris"))
            .sort_by(f.name, Order::Desc)
            .first()
            .await
            .unwrap();
        assert_eq!(first.unwrap().id, "5");
        let page = users
            .find_all()
            .sort_by(f.age, Order::Asc)
            .page(1, 2)
            .await
            .unwrap();
        assert_eq!(page.total, 5);
        assert_eq!(
            page.items.iter().map(|u| u.age).collect::<Vec<_>>(),
            [40, 52]
        );
        // A programming error is refused before anything is sent.
        assert!(matches!(
            users.find(f.name.fuzzy("grace", 4)).all().await,
            Err(Error::InvalidValue { .. })
        ));
    }};
}

#[tokio::test]
async fn queries_on_hashes() {
    let (_server, client) = stack().await;
    let users = client.repository::<User>();
    assert!(matches!(
        users.migrate().await.unwrap(),
        Migration::Created { .. }
    ));
    users.save_all(&people()).await.unwrap();
    common_queries!(&users, User);
}

#[tokio::test]
async fn queries_on_json() {
    let (_server, client) = stack().await;
    let users = client.repository::<JsonUser>();
    users.migrate().await.unwrap();
    users
        .save_all(&people().iter().map(json_user).collect::<Vec<_>>())
        .await
        .unwrap();
    common_queries!(&users, JsonUser);
    // A property of a nested struct, indexed by its JSON path under an alias.
    let f = JsonUser::fields();
    assert_eq!(users.find(f.country.eq("France")).count().await.unwrap(), 3);
    let near = users
        .knn(f.embedding, &[1.0, 0.0, 0.0, 0.0], 2)
        .all()
        .await
        .unwrap();
    assert_eq!(near[0].0.id, "1");
    assert!(near[0].1.abs() < 1e-6);
}

#[tokio::test]
async fn tag_values_match_exactly_whatever_they_contain() {
    let (_server, client) = stack().await;
    let users = client.repository::<User>();
    users.migrate().await.unwrap();
    let nasty = [
        "New York",
        "a,b",
        "x|y",
        "-neg",
        "@at",
        "{brace}",
        "quote\"s",
        "it's",
        "semi;colon",
        "back\\slash",
        "日本",
        "tab\there",
    ];
    let all: Vec<User> = nasty
        .iter()
        .enumerate()
        .map(|(i, city)| {
            user(
                &format!("n{i}"),
                "Nasty",
                city,
                30,
                &[city],
                [1.0, 0.0, 0.0, 0.0],
            )
        })
        .collect();
    users.save_all(&all).await.unwrap();
    let f = User::fields();
    for (i, city) in nasty.iter().enumerate() {
        let by_city = users.find(f.city.eq(city)).all().await.unwrap();
        assert_eq!(ids(&by_city), [format!("n{i}")], "city {city:?}");
        let by_skill = users.find(f.skills.eq(city)).all().await.unwrap();
        assert_eq!(ids(&by_skill), [format!("n{i}")], "skill {city:?}");
    }
    // A fragment of a value does not match it: nothing was split at a comma.
    assert!(users.find(f.city.eq("a")).all().await.unwrap().is_empty());
    // Text with punctuation is split into terms, as the indexer split it.
    let mut u = user(
        "t",
        "grace@navy.mil state-of-the-art",
        "X",
        1,
        &[],
        [0.0; 4],
    );
    u.embedding = vec![0.0, 0.0, 0.0, 1.0];
    users.save(&u).await.unwrap();
    assert_eq!(
        ids(&users
            .find(f.name.matches("grace@navy.mil"))
            .all()
            .await
            .unwrap()),
        ["t"]
    );
    assert_eq!(
        ids(&users
            .find(f.name.phrase("state-of-the-art"))
            .all()
            .await
            .unwrap()),
        ["t"]
    );
}

#[tokio::test]
async fn vector_search() {
    let (_server, client) = stack().await;
    let users = client.repository::<User>();
    users.migrate().await.unwrap();
    users.save_all(&people()).await.unwrap();
    let f = User::fields();
    let near = users
        .knn(f.embedding, &[0.1, 0.2, 0.3, 0.4], 5)
        .filter(f.city.eq("Paris"))
        .all()
        .await
        .unwrap();
    assert_eq!(near.len(), 3);
    assert!(near.iter().all(|(u, _)| u.city == "Paris"));
    assert!(
        near.windows(2).all(|w| w[0].1 <= w[1].1),
        "sorted by distance"
    );
    let exact = users
        .knn(f.embedding, &[1.0, 0.0, 0.0, 0.0], 2)
        .all()
        .await
        .unwrap();
    assert_eq!(exact[0].0.id, "1");
    assert!(exact[0].1.abs() < 1e-6);
    assert_eq!(exact[1].0.id, "2");
    let within = users
        .vector_range(f.embedding, &[1.0, 0.0, 0.0, 0.0], 0.1)
        .all()
        .await
        .unwrap();
    assert_eq!(
        ids(&within.into_iter().map(|(u, _)| u).collect::<Vec<_>>()),
        ["1", "2"]
    );
}

#[tokio::test]
async fn streams_walk_past_the_result_cap() {
    let (_server, client) = stack().await;
    client
        .send::<()>(
            cmd("FT.CONFIG")
                .arg("SET")
                .arg("MAXSEARCHRESULTS")
                .arg(1000),
        )
        .await
        .unwrap();
    let users = client.repository::<User>();
    users.migrate().await.unwrap();
    let many: Vec<User> = (0..2500)
        .map(|i| {
            user(
                &format!("u{i:05}"),
                "Many",
                "Lyon",
                i % 90,
                &["x"],
                [1.0, 0.0, 0.0, 0.0],
            )
        })
        .collect();
    users.save_all(&many).await.unwrap();
    let f = User::fields();
    assert_eq!(users.find(f.city.eq("Lyon")).count().await.unwrap(), 2500);
    let mut seen = std::collections::HashSet::new();
    let mut stream = std::pin::pin!(users.find(f.city.eq("Lyon")).stream());
    while let Some(u) = stream.next().await {
        assert!(seen.insert(u.unwrap().id));
    }
    assert_eq!(seen.len(), 2500);
    assert_eq!(
        users.find(f.city.eq("Lyon")).all().await.unwrap().len(),
        2500
    );
    // Sorted, across cursor pages too: every match once, in order.
    let sorted: Vec<User> = users
        .find(f.city.eq("Lyon"))
        .sort_by(f.age, Order::Desc)
        .stream()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(sorted.len(), 2500);
    assert!(sorted.windows(2).all(|w| w[0].age >= w[1].age));
    let ids: std::collections::HashSet<_> = sorted.iter().map(|u| &u.id).collect();
    assert_eq!(ids.len(), 2500);
}

#[tokio::test]
async fn migrations_rebuild_without_downtime_or_data_loss() {
    #[derive(RedisModel, Debug, Clone, PartialEq)]
    #[redis(prefix = "item", index = "item-idx")]
    struct V1 {
        #[redis(id)]
        id: String,
        #[redis(tag)]
        color: String,
        size: u32,
    }
    #[derive(RedisModel, Debug, Clone, PartialEq)]
    #[redis(prefix = "item", index = "item-idx")]
    struct V2 {
        #[redis(id)]
        id: String,
        #[redis(tag)]
        color: String,
        #[redis(numeric, sortable)]
        size: u32,
    }
    let (_server, client) = stack().await;
    let v1 = client.repository::<V1>();
    let created = v1.migrate().await.unwrap();
    assert!(matches!(created, Migration::Created { .. }));
    assert!(matches!(
        v1.migrate().await.unwrap(),
        Migration::UpToDate { .. }
    ));
    let items: Vec<V1> = (0..3000)
        .map(|i| V1 {
            id: i.to_string(),
            color: if i % 2 == 0 { "red" } else { "blue" }.into(),
            size: i,
        })
        .collect();
    v1.save_all(&items).await.unwrap();
    assert_eq!(
        v1.find(V1::fields().color.eq("red")).count().await.unwrap(),
        1500
    );

    // Two processes migrate to V2 at once while a reader keeps querying through the alias.
    let v2 = client.repository::<V2>();
    let reader = {
        let v1 = v1.clone();
        tokio::spawn(async move {
            let mut answers = 0;
            for _ in 0..40 {
                let n = v1.find(V1::fields().color.eq("red")).count().await.unwrap();
                assert_eq!(
                    n, 1500,
                    "queries keep being answered in full during the migration"
                );
                answers += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            answers
        })
    };
    let other = client.repository::<V2>();
    let (a, b) = tokio::join!(v2.migrate(), other.migrate());
    let outcomes = [a.unwrap(), b.unwrap()];
    assert_eq!(
        outcomes
            .iter()
            .filter(|m| matches!(m, Migration::Rebuilt { .. }))
            .count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .any(|m| matches!(m, Migration::UpToDate { .. })));
    assert_eq!(reader.await.unwrap(), 40);

    let f = V2::fields();
    let big = v2
        .find(f.size.gte(2990))
        .sort_by(f.size, Order::Desc)
        .all()
        .await
        .unwrap();
    assert_eq!(
        big.iter().map(|i| i.size).collect::<Vec<_>>(),
        (2990..3000).rev().collect::<Vec<_>>()
    );
    assert_eq!(v2.find(f.color.eq("blue")).count().await.unwrap(), 1500);
    // Only one index is left, and every document is still there.
    let indexes: Vec<String> = client.send(cmd("FT._LIST")).await.unwrap();
    assert_eq!(indexes.len(), 1, "{indexes:?}");
    let keys: u64 = client.send(cmd("DBSIZE")).await.unwrap();
    assert_eq!(keys, 3000);
    assert!(matches!(
        v2.migrate().await.unwrap(),
        Migration::UpToDate { .. }
    ));
}

#[tokio::test]
async fn hash_tags_in_prefixes_keep_a_model_in_one_slot() {
    #[derive(RedisModel, Debug, Clone, PartialEq)]
    #[redis(prefix = "{tenant7}:order", index = "tenant7-order-idx")]
    struct Order7 {
        #[redis(id)]
        id: u64,
        #[redis(numeric, sortable)]
        total: f64,
    }
    let (_server, client) = stack().await;
    let orders = client.repository::<Order7>();
    orders.migrate().await.unwrap();
    orders
        .save_all(&[Order7 { id: 1, total: 9.5 }, Order7 { id: 2, total: 20.0 }])
        .await
        .unwrap();
    assert_eq!(orders.key(1), "{tenant7}:order:1");
    // Cluster routing hashes only what is inside the braces: every key of the model shares
    // `tenant7`'s slot. Here, on one server, the keys and the index over them are what counts.
    let keys: Vec<String> = client.send(cmd("KEYS").arg("{tenant7}:*")).await.unwrap();
    assert_eq!(keys.len(), 2);
    let f = Order7::fields();
    let big = orders.find(f.total.gt(10)).all().await.unwrap();
    assert_eq!(big, [Order7 { id: 2, total: 20.0 }]);
}

/// The items the tests above cover on hashes, on JSON documents: default and explicit TTLs,
/// generated ULIDs, streams past the result cap, and a migration that rebuilds the index.
#[tokio::test]
async fn json_ttls_ulids_streams_and_migrations() {
    #[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[redis(prefix = "doc", storage = "json", index = "doc-idx", ttl = 600)]
    struct DocV1 {
        #[redis(id)]
        id: Ulid,
        #[redis(tag)]
        kind: String,
        size: u32,
    }
    #[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[redis(prefix = "doc", storage = "json", index = "doc-idx", ttl = 600)]
    struct DocV2 {
        #[redis(id)]
        id: Ulid,
        #[redis(tag)]
        kind: String,
        #[redis(numeric, sortable)]
        size: u32,
    }
    let (_server, client) = stack().await;
    client
        .send::<()>(
            cmd("FT.CONFIG")
                .arg("SET")
                .arg("MAXSEARCHRESULTS")
                .arg(1000),
        )
        .await
        .unwrap();
    let v1 = client.repository::<DocV1>();
    assert!(matches!(
        v1.migrate().await.unwrap(),
        Migration::Created { .. }
    ));
    let docs: Vec<DocV1> = (0..1500)
        .map(|i| DocV1 {
            id: Ulid::default(),
            kind: if i % 3 == 0 { "a" } else { "b" }.into(),
            size: i,
        })
        .collect();
    let ids = v1.save_all(&docs).await.unwrap();
    assert_eq!(ids.len(), 1500);
    assert!(ids.iter().all(|id| Ulid::parse(id).is_ok()));
    let ttl: i64 = client
        .send(cmd("TTL").arg(format!("doc:{}", ids[7])))
        .await
        .unwrap();
    assert!((590..=600).contains(&ttl), "{ttl}");
    let back = v1.get(&ids[7]).await.unwrap().unwrap();
    assert_eq!((back.id.to_string(), back.size), (ids[7].clone(), 7));
    let short = DocV1 {
        id: Ulid::new(),
        kind: "c".into(),
        size: 0,
    };
    v1.save_with_ttl(&short, Duration::from_secs(30))
        .await
        .unwrap();
    let pttl: i64 = client
        .send(cmd("PTTL").arg(format!("doc:{}", short.id)))
        .await
        .unwrap();
    assert!((20_000..=30_000).contains(&pttl), "{pttl}");

    let mut seen = std::collections::HashSet::new();
    let mut stream = std::pin::pin!(v1.find(DocV1::fields().kind.eq("b")).stream());
    while let Some(d) = stream.next().await {
        assert!(seen.insert(d.unwrap().id));
    }
    assert_eq!(seen.len(), 1000);

    let v2 = client.repository::<DocV2>();
    assert!(matches!(
        v2.migrate().await.unwrap(),
        Migration::Rebuilt { .. }
    ));
    let f = DocV2::fields();
    let top = v2
        .find(f.kind.eq("a"))
        .sort_by(f.size, Order::Desc)
        .limit(0, 3)
        .all()
        .await
        .unwrap();
    assert_eq!(
        top.iter().map(|d| d.size).collect::<Vec<_>>(),
        [1497, 1494, 1491]
    );
    assert_eq!(v2.find(f.size.lt(30)).count().await.unwrap(), 31); // 30 documents and `short`
    let indexes: Vec<String> = client.send(cmd("FT._LIST")).await.unwrap();
    assert_eq!(indexes.len(), 1);
}

/// A JSON model whose properties serde renames: the document, the index, the id, the version
/// and partial updates all use the names serde writes.
#[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[redis(prefix = "renamed", storage = "json")]
#[serde(rename_all = "camelCase")]
pub struct Renamed {
    #[redis(id)]
    #[serde(rename = "userId")]
    pub id: String,
    #[redis(tag)]
    pub home_city: String,
    #[redis(numeric, sortable)]
    pub login_count: u32,
    #[redis(version)]
    pub row_version: u64,
}

#[tokio::test]
async fn json_properties_follow_serde_renames() {
    let (_server, client) = stack().await;
    let repo = client.repository::<Renamed>();
    repo.migrate().await.unwrap();
    let mut r = Renamed {
        id: "r1".into(),
        home_city: "Paris".into(),
        login_count: 3,
        row_version: 0,
    };
    repo.save(&r).await.unwrap();
    let raw: String = client
        .send(cmd("JSON.GET").arg("renamed:r1"))
        .await
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(
        doc,
        serde_json::json!({"userId": "r1", "homeCity": "Paris", "loginCount": 3, "rowVersion": 1})
    );
    let stored = repo.get("r1").await.unwrap().unwrap();
    assert_eq!(stored.row_version, 1);

    let f = Renamed::fields();
    let found = repo
        .find(f.home_city.eq("Paris") & f.login_count.gte(3))
        .sort_by(f.login_count, Order::Asc)
        .all()
        .await
        .unwrap();
    assert_eq!(found, vec![stored]);

    assert!(repo.update_field("r1", f.login_count, &4u32).await.unwrap());
    let now = repo.get("r1").await.unwrap().unwrap();
    assert_eq!((now.login_count, now.row_version), (4, 2));
    assert_eq!(repo.find(f.login_count.eq(4)).count().await.unwrap(), 1);
    // A copy read before the update is stale.
    r.row_version = 1;
    assert!(matches!(repo.save(&r).await, Err(Error::Conflict { .. })));
}

/// A model with every schema option at once, on an integer id, in the storage `$container`
/// names.
macro_rules! part_model {
    ($name:ident, $($container:tt)*) => {
        #[derive(RedisModel, Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[redis($($container)*)]
        pub struct $name {
            #[redis(id)]
            pub number: u64,
            #[redis(text, weight = 2.5, nostem)]
            pub title: String,
            #[redis(text)]
            pub notes: String,
            #[redis(tag, separator = "|", case_sensitive, sortable)]
            pub labels: Vec<String>,
            #[redis(vector(dim = 2, distance = "l2", type = "float64", algorithm = "flat"))]
            pub point: [f64; 2],
            #[redis(vector(
                dim = 3,
                distance = "ip",
                algorithm = "hnsw",
                m = 12,
                ef_construction = 150
            ))]
            pub direction: [f32; 3],
        }
    };
}

part_model!(Part, prefix = "part");
part_model!(JsonPart, prefix = "jpart", storage = "json");

/// Every string and number in a reply, depth first: enough to find an option in `FT.INFO`
/// whichever protocol shaped it.
fn tokens(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::SimpleString(b) | Value::BulkString(b) => {
            out.push(String::from_utf8_lossy(b).into_owned())
        }
        Value::Integer(i) => out.push(i.to_string()),
        Value::Double(d) => out.push(d.to_string()),
        Value::Array(items) | Value::Set(items) => items.iter().for_each(|i| tokens(i, out)),
        Value::Map(pairs) => pairs.iter().for_each(|(k, v)| {
            tokens(k, out);
            tokens(v, out)
        }),
        _ => {}
    }
}

/// The tokens of one attribute of an index's `FT.INFO`.
async fn attribute(client: &Client, index: &str, name: &str) -> Vec<String> {
    let mut info: std::collections::HashMap<String, Value> =
        client.send(cmd("FT.INFO").arg(index)).await.unwrap();
    let Some(Value::Array(attributes)) = info.remove("attributes") else {
        panic!("FT.INFO {index} has no attributes: {info:?}")
    };
    attributes
        .iter()
        .map(|a| {
            let mut t = Vec::new();
            tokens(a, &mut t);
            t
        })
        .find(|t| t.iter().any(|s| s == name) && t.iter().any(|s| s == "attribute"))
        .unwrap_or_else(|| panic!("no attribute {name} in {index}"))
}

/// Each option reaches the server and changes what it matches: weights rank, `nostem` keeps
/// words whole, case-sensitive tags keep case, a declared separator lets commas through,
/// FLOAT64 and FLAT vectors, inner product on HNSW with its tuning.
macro_rules! schema_options {
    ($client:expr, $model:ident) => {{
        let client = $client;
        let parts = client.repository::<$model>();
        parts.migrate().await.unwrap();
        let part = |number, title: &str, notes: &str, labels: &[&str], point, direction| $model {
            number,
            title: title.into(),
            notes: notes.into(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            point,
            direction,
        };
        // Saved in reverse so that ties would come back as 3, 2, 1: any other order is the
        // server's ranking.
        parts
            .save_all(&[
                part(
                    3,
                    "gamma",
                    "gamma",
                    &["RED", "b"],
                    [0.0, 0.5],
                    [0.6, 0.8, 0.0],
                ),
                part(
                    2,
                    "beta",
                    "alpha running",
                    &["red"],
                    [1.0, 1.0],
                    [0.0, 1.0, 0.0],
                ),
                part(
                    1,
                    "alpha running",
                    "beta",
                    &["Red", "a,b"],
                    [3.0, 4.0],
                    [1.0, 0.0, 0.0],
                ),
            ])
            .await
            .unwrap();
        let got = parts.get(&1).await.unwrap().unwrap();
        assert_eq!(got.labels, ["Red", "a,b"]);
        assert_eq!(got.point, [3.0, 4.0]);
        let f = $model::fields();
        let numbers = |found: Vec<$model>| found.into_iter().map(|p| p.number).collect::<Vec<_>>();

        // The weighted title outranks the same word in the notes.
        let ranked = parts
            .find(f.title.matches("alpha") | f.notes.matches("alpha"))
            .all()
            .await
            .unwrap();
        assert_eq!(numbers(ranked), [1, 2]);
        let first_page = parts
            .find(f.title.matches("alpha") | f.notes.matches("alpha"))
            .limit(0, 10)
            .all()
            .await
            .unwrap();
        assert_eq!(
            numbers(first_page),
            [1, 2],
            "a page ranks as the whole does"
        );
        // `nostem` on the title: "run" misses "running" there, the stemmed notes find it.
        assert_eq!(parts.find(f.title.matches("run")).count().await.unwrap(), 0);
        assert_eq!(
            numbers(parts.find(f.title.matches("running")).all().await.unwrap()),
            [1]
        );
        assert_eq!(
            numbers(parts.find(f.notes.matches("run")).all().await.unwrap()),
            [2]
        );
        // Case-sensitive tags: three spellings, three documents.
        for (label, number) in [("Red", 1), ("red", 2), ("RED", 3)] {
            assert_eq!(
                numbers(parts.find(f.labels.eq(label)).all().await.unwrap()),
                [number]
            );
        }
        // With `|` as the separator a comma is part of the tag.
        assert_eq!(
            numbers(parts.find(f.labels.eq("a,b")).all().await.unwrap()),
            [1]
        );
        assert_eq!(
            numbers(parts.find(f.labels.eq("b")).all().await.unwrap()),
            [3]
        );
        assert_eq!(parts.find(f.labels.eq("a")).count().await.unwrap(), 0);

        // FLOAT64, FLAT, L2 (squared): [0, 0.5] at 0.25, [1, 1] at 2, [3, 4] at 25.
        let near = parts.knn(f.point, &[0.0, 0.0], 3).all().await.unwrap();
        let near: Vec<(u64, f32)> = near.into_iter().map(|(p, d)| (p.number, d)).collect();
        assert_eq!(near, [(3, 0.25), (2, 2.0), (1, 25.0)]);
        let within = parts
            .vector_range(f.point, &[0.0, 0.0], 2.5)
            .all()
            .await
            .unwrap();
        assert_eq!(within.len(), 2);
        // Inner product on HNSW: distance is 1 - a·b.
        let near = parts
            .knn(f.direction, &[1.0, 0.0, 0.0], 3)
            .all()
            .await
            .unwrap();
        assert_eq!(
            near.iter().map(|(p, _)| p.number).collect::<Vec<_>>(),
            [1, 3, 2]
        );
        assert!((near[1].1 - 0.4).abs() < 1e-6, "{near:?}");

        // What the server recorded.
        let index = <$model as RedisModel>::meta().index;
        let title = attribute(client, index, "title").await;
        assert!(title.iter().any(|t| t == "NOSTEM"), "{title:?}");
        assert!(
            title.windows(2).any(|w| w[0] == "WEIGHT" && w[1] == "2.5"),
            "{title:?}"
        );
        let labels = attribute(client, index, "labels").await;
        assert!(labels.iter().any(|t| t == "CASESENSITIVE"), "{labels:?}");
        assert!(
            labels
                .windows(2)
                .any(|w| w[0] == "SEPARATOR" && w[1] == "|"),
            "{labels:?}"
        );
        assert!(labels.iter().any(|t| t == "SORTABLE"), "{labels:?}");
        let point = attribute(client, index, "point").await;
        assert!(
            point.iter().any(|t| t.eq_ignore_ascii_case("FLOAT64")),
            "{point:?}"
        );
        assert!(
            point.iter().any(|t| t.eq_ignore_ascii_case("FLAT")),
            "{point:?}"
        );
        let direction = attribute(client, index, "direction").await;
        for (option, value) in [("M", "12"), ("ef_construction", "150")] {
            assert!(
                direction
                    .windows(2)
                    .any(|w| w[0].eq_ignore_ascii_case(option) && w[1] == value),
                "{direction:?}"
            );
        }
    }};
}

#[tokio::test]
async fn schema_options_reach_the_server_on_hashes() {
    let (_server, client) = stack().await;
    schema_options!(&client, Part);
}

#[tokio::test]
async fn schema_options_reach_the_server_on_json() {
    let (_server, client) = stack().await;
    schema_options!(&client, JsonPart);
}
