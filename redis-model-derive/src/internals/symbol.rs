//! The names the `#[redis(...)]` attribute understands, as constants, so a typo in the derive
//! is a compile error rather than an attribute silently never matched.

use std::fmt::{self, Display};

use syn::{Ident, Path};

/// One attribute name.
#[derive(Copy, Clone)]
pub struct Symbol(pub &'static str);

/// The attribute itself: `#[redis(...)]`.
pub const REDIS: Symbol = Symbol("redis");

// Container keys.
pub const PREFIX: Symbol = Symbol("prefix");
pub const STORAGE: Symbol = Symbol("storage");
pub const INDEX: Symbol = Symbol("index");
pub const TTL: Symbol = Symbol("ttl");
pub const FIELDS: Symbol = Symbol("fields");

// Field roles.
pub const ID: Symbol = Symbol("id");
pub const VERSION: Symbol = Symbol("version");

// Field index kinds.
pub const TEXT: Symbol = Symbol("text");
pub const TAG: Symbol = Symbol("tag");
pub const NUMERIC: Symbol = Symbol("numeric");
pub const GEO: Symbol = Symbol("geo");
pub const VECTOR: Symbol = Symbol("vector");

// Field options.
pub const WEIGHT: Symbol = Symbol("weight");
pub const NOSTEM: Symbol = Symbol("nostem");
pub const SORTABLE: Symbol = Symbol("sortable");
pub const SEPARATOR: Symbol = Symbol("separator");
pub const CASE_SENSITIVE: Symbol = Symbol("case_sensitive");
pub const PATH: Symbol = Symbol("path");
pub const ALIAS: Symbol = Symbol("alias");

// Vector options, inside `vector(...)`.
pub const DIM: Symbol = Symbol("dim");
pub const DISTANCE: Symbol = Symbol("distance");
pub const ALGORITHM: Symbol = Symbol("algorithm");
pub const TYPE: Symbol = Symbol("type");
pub const M: Symbol = Symbol("m");
pub const EF_CONSTRUCTION: Symbol = Symbol("ef_construction");

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
