//! `#[derive(RedisModel)]`: see `redis_model::RedisModel` for the attributes.
//!
//! The derive is a small compiler:
//!
//! | module | what it does |
//! |---|---|
//! | `internals::attr` | parses `#[redis(...)]` into typed settings |
//! | `internals::ast` | the struct as a typed model, defaults resolved |
//! | `internals::serde` | the property names `#[serde(...)]` gives JSON documents |
//! | `internals::check` | the rules across attributes and fields |
//! | `internals::ctxt` | collects every error with its span, so one build shows them all |
//! | `expand::model` | the `RedisModel` impl: `meta`, `id`, `version`, `validate` |
//! | `expand::schema` | the static index schema |
//! | `expand::codec` | hash encode/decode per field, or the JSON codec |
//! | `expand::fields` | the typed field handles struct |
//!
//! Generated code names library items only through `::redis_model::__private`.

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

mod expand;
mod internals;

/// Implements `RedisModel` for a struct with named fields.
///
/// ```text
/// #[derive(RedisModel)]
/// #[redis(prefix = "user", storage = "hash", index = "user-idx", ttl = 3600)]
/// pub struct User {
///     #[redis(id)]                 id: String,
///     #[redis(version)]            version: u64,
///     #[redis(text, sortable)]     name: String,
///     #[redis(tag)]                city: String,
///     #[redis(numeric, sortable)]  age: u32,
///     #[redis(geo)]                home: GeoPoint,
///     #[redis(vector(dim = 4, distance = "cosine", algorithm = "hnsw"))]
///                                  embedding: Vec<f32>,
///                                  bio: Option<String>, // stored, not indexed
/// }
/// ```
///
/// | where | setting | meaning |
/// |---|---|---|
/// | struct | `prefix = "user"` | keys are `{prefix}:{id}`; default: the struct's name in snake case |
/// | struct | `storage = "hash"` / `"json"` | one hash per document (default), or a RedisJSON document (derive serde too) |
/// | struct | `index = "user-idx"` | the index name; default `{prefix}-idx` |
/// | struct | `ttl = 3600` | default time to live, in seconds |
/// | struct | `fields = "UserHandles"` | the name of the generated handles struct; default `{Struct}Fields` |
/// | field | `id` | the key's id: exactly one field |
/// | field | `version` | optimistic concurrency counter, a `u64`; at most one |
/// | field | `text` (`weight = 2.0`, `nostem`, `sortable`) | full-text |
/// | field | `tag` (`separator = ","`, `case_sensitive`, `sortable`) | exact values; a `Vec<String>` is a tag list |
/// | field | `numeric` (`sortable`) | numbers |
/// | field | `geo` | a `GeoPoint` |
/// | field | `vector(dim, distance = "cosine"/"l2"/"ip", algorithm = "flat"/"hnsw", type = "float32"/"float64", m, ef_construction)` | on `Vec<f32>`, `Vec<f64>`, `[f32; N]`, `[f64; N]` |
/// | field (JSON) | `path = "$.address.city"`, `alias = "city"` | index a nested value, under another name |
///
/// A JSON document is what serde makes of the struct, so a field's property is the name serde
/// gives it: `#[serde(rename = "...")]` and `#[serde(rename_all = "...")]` move the index path
/// and the id and version properties with it. The id, the version and every field indexed at its
/// own path need one property, the same both ways: `flatten`, `skip` and a rename that differs
/// between serialising and deserialising are compile errors there. Hash fields are written by
/// generated code and keep their Rust names whatever serde says.
///
/// Besides the impl it generates `{Struct}Fields`, the typed handles of the indexed fields
/// (`User::fields().age` is a `NumericField<User, Sortable>`), beside the struct; `fields = "..."`
/// renames it where that name is taken.
#[proc_macro_derive(RedisModel, attributes(redis))]
pub fn derive_redis_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}
