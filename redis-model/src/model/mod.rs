//! Models: Rust structs stored as Redis hashes or JSON documents.
//!
//! `#[derive(RedisModel)]` implements [`RedisModel`] for a struct: its key layout, its codec
//! (generated field by field for hashes, serde for JSON), its search schema and its typed field
//! handles. A [`Repository`] runs the operations.
//!
//! | file | what it holds |
//! |---|---|
//! | `key.rs` | `{namespace}{prefix}:{id}` keys, id types, ULIDs |
//! | `codec.rs` | [`HashValue`]: how each field type is written to and read from a hash field; JSON documents |
//! | `repository.rs` | [`Repository`]: save, get, delete, TTLs, partial updates, versions |
//!

pub(crate) mod codec;
pub(crate) mod key;
mod repository;

pub use codec::{GeoPoint, HashReader, HashValue, HashWriter};
pub use key::{ModelId, Ulid};
pub use repository::{FieldName, Repository};

use crate::error::Result;
use crate::search::schema::FieldSchema;

/// How a model's documents are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// One hash per document, flat fields.
    Hash,
    /// One RedisJSON document per model, any serde shape.
    Json,
}

/// What the derive knows about a model, fixed at compile time.
#[derive(Debug)]
pub struct ModelMeta {
    /// The Rust type's name, for errors.
    pub name: &'static str,
    /// Key prefix; keys are `{prefix}:{id}`.
    pub prefix: &'static str,
    /// The index name (an alias, pointing at a versioned index).
    pub index: &'static str,
    /// Hash or JSON.
    pub storage: Storage,
    /// Default time to live of saved documents, in seconds.
    pub ttl: Option<u64>,
    /// The id field's name.
    pub id_field: &'static str,
    /// The `#[redis(version)]` field's name, if any.
    pub version_field: Option<&'static str>,
    /// The indexed fields.
    pub fields: &'static [FieldSchema],
}

/// A struct stored in Redis. Implement it with `#[derive(RedisModel)]`.
pub trait RedisModel: Sized + Send + Sync + 'static {
    /// The typed handles of the indexed fields, one per field.
    type Fields;
    /// The id's type.
    type Id: ModelId;

    /// The model's layout and schema.
    fn meta() -> &'static ModelMeta;

    /// The typed field handles, for queries: `User::fields().age.gt(18)`.
    fn fields() -> Self::Fields;

    /// The document's id.
    fn id(&self) -> &Self::Id;

    /// The document's version (`#[redis(version)]`), if the model has one.
    fn version(&self) -> Option<u64> {
        None
    }

    /// Checks what the index would silently skip or misread: vectors of the wrong dimension,
    /// latitudes out of range, tags holding their field's tag separator (the index would split
    /// them).
    fn validate(&self) -> Result<()>;

    /// Writes the document's fields (hash storage), with `id` as its id (it may have just been
    /// generated) and `version`, when given, as its version.
    fn encode_hash(&self, id: &str, version: Option<u64>, out: &mut HashWriter) -> Result<()> {
        let _ = (id, version);
        Err(wrong_storage(out.key(), "JSON"))
    }

    /// Decodes a hash (hash storage); its id is the key's id part, which `reader` holds.
    fn decode_hash(reader: &mut HashReader<'_>) -> Result<Self> {
        Err(reader.error(
            Self::meta().id_field,
            "the model is stored as JSON, not as a hash",
        ))
    }

    /// Serialises the document (JSON storage), with `id` and `version` as above.
    fn encode_json(&self, id: &str, version: Option<u64>) -> Result<Vec<u8>> {
        let _ = version;
        Err(wrong_storage(id, "a hash"))
    }

    /// Decodes a JSON document read from `key`, whose id part is `id` (JSON storage): the
    /// document's id is that part, whatever the document holds.
    fn decode_json(key: &str, id: &str, json: &[u8]) -> Result<Self> {
        let _ = (id, json);
        Err(wrong_storage(key, "a hash"))
    }
}

fn wrong_storage(key: &str, stored_as: &str) -> crate::Error {
    crate::Error::Decode {
        key: key.to_owned(),
        field: None,
        reason: format!("the model is stored as {stored_as}"),
    }
}

/// Refuses a vector of the wrong dimension (called by derived `validate`).
pub fn check_dim(field: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(crate::Error::VectorDimension {
            field: field.to_owned(),
            expected,
            got,
        })
    }
}

/// Refuses a point the geo index would skip (called by derived `validate`).
pub fn check_geo(field: &'static str, point: &GeoPoint) -> Result<()> {
    point.check().map_err(|reason| crate::Error::InvalidValue {
        field: field.to_owned(),
        reason,
    })
}
