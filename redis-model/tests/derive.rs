//! `#[derive(RedisModel)]` without a server: the generated schema, handles, validation and the
//! hash codec's round trip.

use bytes::{Bytes, BytesMut};
use redis_model::__private::{HashReader, HashWriter};
use redis_model::resp::{encode_value, Decoder};
use redis_model::search::schema::{
    Distance, FieldKind, FieldSchema, VectorAlgorithm, VectorElement, VectorSpec,
    DEFAULT_TAG_SEPARATOR,
};
use redis_model::search::{Expr, SortField, Sortable, TextField};
use redis_model::{Error, GeoPoint, RedisModel, Ulid, Value};

#[derive(Clone, Debug, PartialEq, RedisModel)]
#[redis(prefix = "user")]
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

fn user() -> User {
    User {
        id: "u1".into(),
        name: "Grace Hopper".into(),
        city: "Arlington".into(),
        age: 85,
        skills: vec!["cobol".into(), "compilers, early".into()],
        home: GeoPoint::new(-77.1, 38.88),
        embedding: vec![0.1, 0.2, 0.3, 0.4],
        bio: None,
    }
}

/// Encodes `model` as a save would, and hands back the hash as the server would return it.
fn encode<M: RedisModel>(model: &M, id: &str, version: Option<u64>) -> (HashWriter, Value) {
    let mut out = HashWriter::new(format!("{}:{id}", M::meta().prefix));
    model.encode_hash(id, version, &mut out).unwrap();
    let reply = reply(
        out.pairs()
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    );
    (out, reply)
}

fn reply(pairs: Vec<(String, Vec<u8>)>) -> Value {
    Value::Map(
        pairs
            .into_iter()
            .map(|(k, v)| {
                (
                    Value::BulkString(Bytes::from(k)),
                    Value::BulkString(Bytes::from(v)),
                )
            })
            .collect(),
    )
}

fn decode<M: RedisModel>(key: &str, reply: Value) -> redis_model::Result<M> {
    let mut wire = BytesMut::new();
    encode_value(&reply, &mut wire);
    let frame = Decoder::default().decode_frame(&mut wire).unwrap().unwrap();
    M::decode_hash(&mut HashReader::from_frame(key, id_part::<M>(key), &frame).unwrap())
}

/// What follows the model's prefix in `key`, as a repository reads it.
fn id_part<M: RedisModel>(key: &str) -> &str {
    key.strip_prefix(M::meta().prefix)
        .and_then(|k| k.strip_prefix(':'))
        .expect("a key under the model's prefix")
}

#[test]
fn hash_meta() {
    let meta = User::meta();
    assert_eq!(meta.name, "User");
    assert_eq!(meta.prefix, "user");
    assert_eq!(meta.index, "user-idx");
    assert_eq!(meta.storage, redis_model::model::Storage::Hash);
    assert_eq!(meta.ttl, None);
    assert_eq!(meta.id_field, "id");
    assert_eq!(meta.version_field, None);
    assert!(std::ptr::eq(meta, User::meta()), "one static");
    let tag = |name| FieldSchema {
        name,
        path: None,
        kind: FieldKind::Tag {
            separator: Some(DEFAULT_TAG_SEPARATOR),
            case_sensitive: false,
        },
        sortable: false,
    };
    assert_eq!(
        meta.fields,
        &[
            FieldSchema {
                name: "name",
                path: None,
                kind: FieldKind::Text {
                    weight: 1.0,
                    nostem: false
                },
                sortable: true,
            },
            tag("city"),
            FieldSchema {
                name: "age",
                path: None,
                kind: FieldKind::Numeric,
                sortable: true,
            },
            tag("skills"),
            FieldSchema {
                name: "home",
                path: None,
                kind: FieldKind::Geo,
                sortable: false,
            },
            FieldSchema {
                name: "embedding",
                path: None,
                kind: FieldKind::Vector(VectorSpec {
                    algorithm: VectorAlgorithm::Hnsw,
                    element: VectorElement::Float32,
                    dim: 4,
                    distance: Distance::Cosine,
                    m: None,
                    ef_construction: None,
                }),
                sortable: false,
            },
        ][..]
    );
}

#[test]
fn handles() {
    let f = User::fields();
    assert_eq!(f.name.name(), "name");
    assert_eq!(f.city.name(), "city");
    assert_eq!(f.age.name(), "age");
    assert_eq!(f.skills.name(), "skills");
    assert_eq!(f.home.name(), "home");
    assert_eq!(f.embedding.name(), "embedding");
    assert_eq!(f.embedding.dim(), 4);
    // The handle types carry sortability.
    let _: TextField<User, Sortable> = f.name;
    assert_eq!(f.age.sort_name(), "age");
    let query = |e: Expr<User>| e.to_query().unwrap().expect("matches something");
    assert_eq!(query(f.age.gt(18)).query, "@age:[(18 +inf]");
    let city = query(f.city.eq("Paris"));
    assert_eq!(city.query, "@city:{$t0}");
    assert_eq!(city.params, [("t0".to_owned(), "Paris".to_owned())]);
    assert_eq!(user().id(), "u1");
    assert_eq!(user().version(), None);
}

#[test]
fn validate() {
    assert!(user().validate().is_ok());
    let mut u = user();
    u.embedding.pop();
    match u.validate() {
        Err(Error::VectorDimension {
            field,
            expected: 4,
            got: 3,
        }) => assert_eq!(field, "embedding"),
        other => panic!("{other:?}"),
    }
    let mut u = user();
    u.home = GeoPoint::new(0.0, 89.0);
    match u.validate() {
        Err(Error::InvalidValue { field, .. }) => assert_eq!(field, "home"),
        other => panic!("{other:?}"),
    }
    // A hash's tags, one or a list, may not hold the default separator.
    let mut u = user();
    u.city = format!("a{DEFAULT_TAG_SEPARATOR}b");
    match u.validate() {
        Err(Error::InvalidValue { field, reason }) => {
            assert_eq!(field, "city");
            assert!(reason.contains("the tag contains"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let mut u = user();
    u.skills.push(format!("a{DEFAULT_TAG_SEPARATOR}b"));
    match u.validate() {
        Err(Error::InvalidValue { field, reason }) => {
            assert_eq!(field, "skills");
            assert!(reason.starts_with("tag 2 "), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn hash_round_trip() {
    let mut u = user();
    u.skills = vec!["cobol".into(), "compilers".into()];
    let (out, reply) = encode(&u, "u1", None);
    assert_eq!(out.key(), "user:u1");
    let names: Vec<&str> = out.pairs().iter().map(|(k, _)| *k).collect();
    // `bio` is None: left out (a save removes it from the stored hash).
    assert_eq!(
        names,
        ["id", "name", "city", "age", "skills", "home", "embedding"]
    );
    let get = |name: &str| &out.pairs().iter().find(|(k, _)| *k == name).unwrap().1;
    assert_eq!(get("age"), b"85");
    assert_eq!(get("skills"), "cobol\u{1f}compilers".as_bytes());
    assert_eq!(get("embedding").len(), 16);
    assert_eq!(decode::<User>("user:u1", reply).unwrap(), u);

    u.bio = Some("admiral".into());
    let (_, reply) = encode(&u, "u1", None);
    assert_eq!(decode::<User>("user:u1", reply).unwrap(), u);
}

#[test]
fn the_id_written_is_the_one_given_and_read_from_the_key() {
    let mut u = user();
    u.id = String::new();
    u.skills.clear();
    let (out, reply) = encode(&u, "01J0000000000000000000000", None);
    assert_eq!(
        out.pairs()[0],
        ("id", b"01J0000000000000000000000".to_vec())
    );
    let back: User = decode("user:01J0000000000000000000000", reply.clone()).unwrap();
    assert_eq!(back.id, "01J0000000000000000000000");
    // The key is the identity, whatever the hash holds.
    let back: User = decode("user:x:y", reply).unwrap();
    assert_eq!(back.id, "x:y");
}

#[test]
fn decode_errors_name_key_and_field() {
    let (out, _) = encode(&user(), "u1", None);
    let mut pairs: Vec<(String, Vec<u8>)> = out
        .pairs()
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();

    let mut bad = pairs.clone();
    bad.iter_mut().find(|(k, _)| k == "age").unwrap().1 = b"old".to_vec();
    match decode::<User>("user:u1", reply(bad)) {
        Err(Error::Decode { key, field, reason }) => {
            assert_eq!(key, "user:u1");
            assert_eq!(field.as_deref(), Some("age"));
            assert!(reason.contains("u32"), "{reason}");
        }
        other => panic!("{other:?}"),
    }

    pairs.retain(|(k, _)| k != "city");
    match decode::<User>("user:u1", reply(pairs)) {
        Err(Error::Decode { key, field, reason }) => {
            assert_eq!(key, "user:u1");
            assert_eq!(field.as_deref(), Some("city"));
            assert!(reason.contains("missing"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

/// An integer id, default prefix and index, options on every kind.
#[derive(Debug, PartialEq, RedisModel)]
struct OrderLine {
    #[redis(id)]
    number: u64,
    #[redis(text, weight = 2.5, nostem)]
    title: String,
    #[redis(tag, separator = "|", case_sensitive, sortable)]
    labels: Vec<String>,
    #[redis(numeric)]
    price: f64,
    #[redis(vector(dim = 2, distance = "l2", type = "float64"))]
    point: [f64; 2],
    #[redis(vector(
        dim = 3,
        distance = "ip",
        algorithm = "hnsw",
        m = 16,
        ef_construction = 200
    ))]
    r#type: [f32; 3],
}

#[test]
fn integer_ids_and_options() {
    let meta = OrderLine::meta();
    assert_eq!(meta.prefix, "order_line");
    assert_eq!(meta.index, "order_line-idx");
    assert_eq!(meta.id_field, "number");
    assert_eq!(
        meta.fields[0].kind,
        FieldKind::Text {
            weight: 2.5,
            nostem: true
        }
    );
    assert_eq!(
        meta.fields[1],
        FieldSchema {
            name: "labels",
            path: None,
            kind: FieldKind::Tag {
                separator: Some('|'),
                case_sensitive: true
            },
            sortable: true,
        }
    );
    assert_eq!(
        meta.fields[3].kind,
        FieldKind::Vector(VectorSpec {
            algorithm: VectorAlgorithm::Flat,
            element: VectorElement::Float64,
            dim: 2,
            distance: Distance::L2,
            m: None,
            ef_construction: None,
        })
    );
    assert_eq!(meta.fields[4].name, "type");
    assert_eq!(
        meta.fields[4].kind,
        FieldKind::Vector(VectorSpec {
            algorithm: VectorAlgorithm::Hnsw,
            element: VectorElement::Float32,
            dim: 3,
            distance: Distance::Ip,
            m: Some(16),
            ef_construction: Some(200),
        })
    );
    assert_eq!(OrderLine::fields().r#type.name(), "type");
    assert_eq!(OrderLine::fields().labels.sort_name(), "labels");

    let line = OrderLine {
        number: 42,
        title: "Widget".into(),
        labels: vec!["a,b".into(), "C".into()],
        price: 9.99,
        point: [1.0, -2.0],
        r#type: [0.0, 1.0, 2.0],
    };
    assert!(line.validate().is_ok());
    assert_eq!(*line.id(), 42);
    let (out, reply) = encode(&line, "42", None);
    let labels = &out.pairs().iter().find(|(k, _)| *k == "labels").unwrap().1;
    assert_eq!(labels, b"a,b|C");
    assert_eq!(decode::<OrderLine>("order_line:42", reply).unwrap(), line);
}

#[derive(Debug, PartialEq, RedisModel)]
#[redis(prefix = "evt", index = "events")]
struct Event {
    #[redis(id)]
    id: Ulid,
    #[redis(tag)]
    kind: String,
    place: Option<GeoPoint>,
}

#[test]
fn ulid_ids() {
    let meta = Event::meta();
    assert_eq!((meta.prefix, meta.index), ("evt", "events"));
    let id = Ulid::new();
    let e = Event {
        id,
        kind: "login".into(),
        place: Some(GeoPoint::new(2.35, 48.85)),
    };
    let (_, reply) = encode(&e, &id.to_string(), None);
    assert_eq!(
        decode::<Event>(&format!("evt:{id}"), reply.clone()).unwrap(),
        e
    );
    match decode::<Event>("evt:x", reply) {
        Err(Error::Decode { key, field, .. }) => {
            assert_eq!((key.as_str(), field.as_deref()), ("evt:x", Some("id")))
        }
        other => panic!("{other:?}"),
    }
}

#[derive(Debug, PartialEq, RedisModel)]
#[redis(ttl = 3600)]
struct Session {
    #[redis(id)]
    token: String,
    #[redis(version)]
    version: u64,
    #[redis(geo)]
    last_seen: Option<GeoPoint>,
}

#[test]
fn ttl_and_version() {
    let meta = Session::meta();
    assert_eq!(meta.ttl, Some(3600));
    assert_eq!(meta.version_field, Some("version"));
    let s = Session {
        token: "t".into(),
        version: 3,
        last_seen: None,
    };
    assert_eq!(s.version(), Some(3));
    assert!(s.validate().is_ok());
    let bad = Session {
        last_seen: Some(GeoPoint::new(200.0, 0.0)),
        ..s
    };
    assert!(matches!(bad.validate(), Err(Error::InvalidValue { .. })));

    // The version given to the encoder wins over the struct's (a save bumps it).
    let s = Session {
        token: "t".into(),
        version: 3,
        last_seen: None,
    };
    let (_, reply) = encode(&s, "t", Some(4));
    let back: Session = decode("session:t", reply).unwrap();
    assert_eq!(back.version, 4);
    let (_, reply) = encode(&s, "t", None);
    assert_eq!(decode::<Session>("session:t", reply).unwrap(), s);
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Address {
    city: String,
    zip: String,
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, RedisModel)]
#[redis(storage = "json", prefix = "customer")]
pub struct Customer {
    #[redis(id)]
    id: u32,
    #[redis(version)]
    rev: u64,
    #[redis(text)]
    name: String,
    #[redis(tag, path = "$.address.city", alias = "city")]
    address: Address,
    #[redis(tag)]
    skills: Vec<String>,
    #[redis(tag, separator = ";")]
    groups: String,
    #[redis(vector(dim = 2, distance = "l2"))]
    embedding: Vec<f64>,
    notes: Option<String>,
}

#[test]
fn json_model() {
    let meta = Customer::meta();
    assert_eq!(meta.storage, redis_model::model::Storage::Json);
    assert_eq!(meta.version_field, Some("rev"));
    let paths: Vec<(&str, Option<&str>)> = meta.fields.iter().map(|f| (f.name, f.path)).collect();
    assert_eq!(
        paths,
        [
            ("name", Some("$.name")),
            ("city", Some("$.address.city")),
            ("skills", Some("$.skills[*]")),
            ("groups", Some("$.groups")),
            ("embedding", Some("$.embedding")),
        ]
    );
    // JSON tags need no separator unless one is declared.
    assert_eq!(
        meta.fields[1].kind,
        FieldKind::Tag {
            separator: None,
            case_sensitive: false
        }
    );
    assert_eq!(
        meta.fields[3].kind,
        FieldKind::Tag {
            separator: Some(';'),
            case_sensitive: false
        }
    );
    assert_eq!(Customer::fields().city.name(), "city");
    assert_eq!(Customer::fields().embedding.dim(), 2);

    let c = Customer {
        id: 0,
        rev: 1,
        name: "Ada".into(),
        address: Address {
            city: "London".into(),
            zip: "N1".into(),
        },
        skills: vec!["math".into()],
        groups: "a,b".into(),
        embedding: vec![1.0, 2.0],
        notes: None,
    };
    let bytes = c.encode_json("7", Some(2)).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["id"], 7, "the key's id, as the id type holds it");
    assert_eq!(doc["rev"], 2);
    assert_eq!(doc["address"]["city"], "London");
    let back = Customer::decode_json("customer:7", "7", &bytes).unwrap();
    assert_eq!(back, Customer { id: 7, rev: 2, ..c });
    assert!(matches!(
        Customer::decode_json("customer:7", "7", b"{}"),
        Err(Error::Decode { .. })
    ));
    // The key's id, whatever the document holds: another one, or none.
    let mut doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        Customer::decode_json("customer:8", "8", doc.to_string().as_bytes())
            .unwrap()
            .id,
        8
    );
    doc.as_object_mut().unwrap().remove("id");
    assert_eq!(
        Customer::decode_json("customer:9", "9", doc.to_string().as_bytes())
            .unwrap()
            .id,
        9
    );
    let short = Customer {
        embedding: vec![1.0],
        ..back
    };
    assert!(matches!(
        short.validate(),
        Err(Error::VectorDimension {
            expected: 2,
            got: 1,
            ..
        })
    ));
    // A declared separator is refused in a JSON tag; a JSON tag without one splits nothing.
    let split = Customer {
        groups: "a;b".into(),
        skills: vec!["x;y".into(), "a,b".into()],
        embedding: vec![1.0, 2.0],
        ..short
    };
    match split.validate() {
        Err(Error::InvalidValue { field, .. }) => assert_eq!(field, "groups"),
        other => panic!("{other:?}"),
    }
    let short = Customer {
        groups: "a".into(),
        ..split
    };
    assert!(short.validate().is_ok());
    // A JSON model is not a hash.
    let mut out = HashWriter::new("customer:7".into());
    assert!(short.encode_hash("7", None, &mut out).is_err());
}

/// serde's names move JSON properties; hash fields keep their Rust names.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, RedisModel)]
#[redis(storage = "json", prefix = "camel")]
#[serde(rename_all = "camelCase")]
pub struct CamelDoc {
    #[redis(id)]
    #[serde(rename = "docId")]
    id: String,
    #[redis(version)]
    row_version: u64,
    #[redis(tag)]
    home_city: String,
    #[redis(tag)]
    #[serde(rename = "skillSet")]
    skills: Vec<String>,
    #[redis(numeric, path = "$.stats.visits", alias = "visits")]
    stats: serde_json::Value,
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, RedisModel)]
#[redis(prefix = "camelhash")]
#[serde(rename_all = "camelCase")]
pub struct CamelHash {
    #[redis(id)]
    id: String,
    #[redis(tag)]
    home_city: String,
}

#[test]
fn json_properties_are_serde_names() {
    let meta = CamelDoc::meta();
    assert_eq!(
        (meta.id_field, meta.version_field),
        ("docId", Some("rowVersion"))
    );
    let paths: Vec<(&str, Option<&str>)> = meta.fields.iter().map(|f| (f.name, f.path)).collect();
    assert_eq!(
        paths,
        [
            ("home_city", Some("$.homeCity")),
            ("skills", Some("$.skillSet[*]")),
            ("visits", Some("$.stats.visits")),
        ]
    );
    let doc = CamelDoc {
        id: String::new(),
        row_version: 0,
        home_city: "Oslo".into(),
        skills: vec![],
        stats: serde_json::json!({"visits": 1}),
    };
    let json: serde_json::Value =
        serde_json::from_slice(&doc.encode_json("d1", Some(4)).unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"docId": "d1", "rowVersion": 4, "homeCity": "Oslo", "skillSet": [], "stats": {"visits": 1}})
    );
    let back = CamelDoc::decode_json("camel:d1", "d1", json.to_string().as_bytes()).unwrap();
    assert_eq!((back.id.as_str(), back.row_version), ("d1", 4));

    let hash = CamelHash::meta();
    assert_eq!(hash.fields[0].name, "home_city");
    let (written, _) = encode(
        &CamelHash {
            id: String::new(),
            home_city: "Oslo".into(),
        },
        "h1",
        None,
    );
    let names: Vec<&str> = written.pairs().iter().map(|(k, _)| *k).collect();
    assert_eq!(names, ["id", "home_city"]);
}

/// A type of the user's already has the handles' default name.
#[allow(dead_code)]
pub struct WidgetFields;

#[derive(Debug, PartialEq, RedisModel)]
#[redis(prefix = "widget", fields = "WidgetHandles")]
pub struct Widget {
    #[redis(id)]
    id: String,
    #[redis(numeric, sortable)]
    size: u32,
}

#[test]
fn handles_struct_can_be_renamed() {
    let f: WidgetHandles = Widget::fields();
    assert_eq!(f.size.name(), "size");
}
