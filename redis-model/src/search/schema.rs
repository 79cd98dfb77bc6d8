//! The search index schema a model's attributes declare, and the `FT.CREATE` it becomes.

use crate::commands::{cmd, Cmd};
use crate::model::{ModelMeta, Storage};

/// The tag separator of hash-stored tag lists unless a field declares its own: a control
/// character no user value contains, so no value is split by accident (`,`, the server's
/// default, splits any value that has a comma in it).
pub const DEFAULT_TAG_SEPARATOR: char = '\u{1f}';

/// One indexed field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FieldSchema {
    /// The attribute name queries use: the Rust field's name (hash field, or JSON alias).
    pub name: &'static str,
    /// For JSON storage, the JSON path indexed (`$.address.city`, `$.skills[*]`).
    pub path: Option<&'static str>,
    /// What kind of field, with its options.
    pub kind: FieldKind,
    /// `SORTABLE`.
    pub sortable: bool,
}

/// The kind of an indexed field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldKind {
    /// Full-text.
    Text {
        /// Relevance weight (1.0 by default).
        weight: f64,
        /// No stemming.
        nostem: bool,
    },
    /// Exact-match tags.
    Tag {
        /// The separator between tags; `None` declares none (JSON arrays need none).
        separator: Option<char>,
        /// Match case exactly.
        case_sensitive: bool,
    },
    /// Numbers, for ranges and sorting.
    Numeric,
    /// Longitude/latitude points.
    Geo,
    /// Vectors for KNN and range search.
    Vector(VectorSpec),
}

/// The settings of a vector field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VectorSpec {
    /// `FLAT` or `HNSW`.
    pub algorithm: VectorAlgorithm,
    /// `FLOAT32` or `FLOAT64`.
    pub element: VectorElement,
    /// The dimension.
    pub dim: usize,
    /// The distance metric.
    pub distance: Distance,
    /// HNSW `M`.
    pub m: Option<u32>,
    /// HNSW `EF_CONSTRUCTION`.
    pub ef_construction: Option<u32>,
}

/// A vector index algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VectorAlgorithm {
    /// Brute force: exact.
    Flat,
    /// Hierarchical navigable small worlds: approximate, fast.
    Hnsw,
}

/// A vector element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VectorElement {
    /// `f32`.
    Float32,
    /// `f64`.
    Float64,
}

/// A vector distance metric. L2 distances are squared Euclidean distances, as the server
/// reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distance {
    /// Squared Euclidean.
    L2,
    /// Inner product.
    Ip,
    /// Cosine distance (1 − cosine similarity).
    Cosine,
}

/// `FT.CREATE {index} ON HASH|JSON PREFIX 1 {prefix}: SCHEMA …`.
pub(crate) fn create_index(index: &str, key_prefix: &str, meta: &ModelMeta) -> Cmd {
    let on = match meta.storage {
        Storage::Hash => "HASH",
        Storage::Json => "JSON",
    };
    let mut c = cmd("FT.CREATE")
        .key(index)
        .arg("ON")
        .arg(on)
        .arg("PREFIX")
        .arg(1)
        .arg(key_prefix)
        .arg("SCHEMA");
    for f in meta.fields {
        match f.path {
            Some(path) => c = c.arg(path).arg("AS").arg(f.name),
            None => c = c.arg(f.name),
        }
        match f.kind {
            FieldKind::Text { weight, nostem } => {
                c = c.arg("TEXT");
                if weight != 1.0 {
                    c = c.arg("WEIGHT").arg(weight);
                }
                if nostem {
                    c = c.arg("NOSTEM");
                }
            }
            FieldKind::Tag {
                separator,
                case_sensitive,
            } => {
                c = c.arg("TAG");
                if let Some(sep) = separator {
                    c = c.arg("SEPARATOR").arg(sep.to_string());
                }
                if case_sensitive {
                    c = c.arg("CASESENSITIVE");
                }
            }
            FieldKind::Numeric => c = c.arg("NUMERIC"),
            FieldKind::Geo => c = c.arg("GEO"),
            FieldKind::Vector(v) => {
                let algorithm = match v.algorithm {
                    VectorAlgorithm::Flat => "FLAT",
                    VectorAlgorithm::Hnsw => "HNSW",
                };
                let element = match v.element {
                    VectorElement::Float32 => "FLOAT32",
                    VectorElement::Float64 => "FLOAT64",
                };
                let distance = match v.distance {
                    Distance::L2 => "L2",
                    Distance::Ip => "IP",
                    Distance::Cosine => "COSINE",
                };
                let mut params = vec![
                    ("TYPE", element.to_owned()),
                    ("DIM", v.dim.to_string()),
                    ("DISTANCE_METRIC", distance.to_owned()),
                ];
                if let Some(m) = v.m {
                    params.push(("M", m.to_string()));
                }
                if let Some(ef) = v.ef_construction {
                    params.push(("EF_CONSTRUCTION", ef.to_string()));
                }
                c = c
                    .arg("VECTOR")
                    .arg(algorithm)
                    .arg(params.len() * 2)
                    .arg(params);
            }
        }
        if f.sortable {
            c = c.arg("SORTABLE");
        }
    }
    c
}

/// A short, stable digest of everything that defines the index (storage, prefix, fields and
/// their options): two schemas have the same fingerprint exactly when they build the same
/// index. FNV-1a, 64 bits, over the `FT.CREATE` arguments.
pub(crate) fn fingerprint(key_prefix: &str, meta: &ModelMeta) -> String {
    let create = create_index("", key_prefix, meta);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in create.encoded_args() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    static FIELDS: [FieldSchema; 2] = [
        FieldSchema {
            name: "city",
            path: None,
            kind: FieldKind::Tag {
                separator: Some(DEFAULT_TAG_SEPARATOR),
                case_sensitive: false,
            },
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
                m: Some(16),
                ef_construction: None,
            }),
            sortable: false,
        },
    ];

    fn meta(fields: &'static [FieldSchema]) -> ModelMeta {
        ModelMeta {
            name: "User",
            prefix: "user",
            index: "user-idx",
            storage: Storage::Hash,
            ttl: None,
            id_field: "id",
            version_field: None,
            fields,
        }
    }

    #[test]
    fn create_args() {
        let c = create_index("user-idx-v1", "user:", &meta(&FIELDS));
        let text = String::from_utf8_lossy(c.encoded_args()).replace("\r\n", " ");
        assert!(
            text.contains("city $3 TAG $9 SEPARATOR $1 \u{1f}"),
            "{text}"
        );
        assert!(
            text.contains("VECTOR $4 HNSW $1 8 $4 TYPE $7 FLOAT32 $3 DIM $1 4"),
            "{text}"
        );
    }

    #[test]
    fn fingerprints_follow_the_schema() {
        let a = fingerprint("user:", &meta(&FIELDS));
        assert_eq!(a, fingerprint("user:", &meta(&FIELDS)));
        assert_ne!(a, fingerprint("user:", &meta(&FIELDS[..1])));
        assert_ne!(a, fingerprint("member:", &meta(&FIELDS)));
    }
}
