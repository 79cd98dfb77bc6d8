//! Search: the index schema generated from a model's attributes, typed query expressions,
//! queries, vector search and index migrations.
//!
//! | file | what it holds |
//! |---|---|
//! | `schema.rs` | [`FieldSchema`](schema::FieldSchema) and the `FT.CREATE` it becomes, schema fingerprints |
//! | `field.rs` | typed field handles: [`TextField`], [`TagField`], [`NumericField`], [`GeoField`], [`VectorField`] |
//! | `expr.rs` | [`Expr`]: conditions combined with `&`, `|`, `!`, rendered with escaping |
//! | `query.rs` | [`Query`]: `FT.SEARCH` with sorting and paging, cursor streams |
//! | `vector.rs` | [`VectorQuery`]: KNN and vector range search |
//! | `migrate.rs` | [`Migration`]: versioned indexes behind an alias, rebuilt without downtime |

pub(crate) mod expr;
pub(crate) mod field;
pub(crate) mod migrate;
pub(crate) mod query;
pub mod schema;
pub(crate) mod vector;

pub use migrate::Migration;
pub use query::{Order, Page, Query};
pub use vector::VectorQuery;

pub use expr::{text_terms, End, Expr, NumericBound, SearchText};
pub use field::{
    GeoField, NumericComparisons, NumericField, SortField, Sortable, TagField, TextField,
    Unsortable, VectorField,
};
