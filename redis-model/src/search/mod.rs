//! Search: the index schema generated from a model's attributes, typed query expressions,
//! queries, vector search and index migrations.
//!
//! | file | what it holds |
//! |---|---|
//! | `schema.rs` | [`FieldSchema`](schema::FieldSchema) and the `FT.CREATE` it becomes, schema fingerprints |
//! | `field.rs` | typed field handles: [`TextField`], [`TagField`], [`NumericField`], [`GeoField`], [`VectorField`] |
//! | `expr.rs` | [`Expr`]: conditions combined with `&`, `|`, `!`, rendered with escaping |

pub(crate) mod expr;
pub(crate) mod field;
pub mod schema;

pub use expr::{escape_tag, text_terms, Expr, NumericBound};
pub use field::{
    GeoField, NumericField, SortField, Sortable, TagField, TextField, Unsortable, VectorField,
};
