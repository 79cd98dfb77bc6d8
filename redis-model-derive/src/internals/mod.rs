//! The front end: the derive input parsed into a typed model ([`ast`], [`attr`], and the
//! property names [`serde`] gives JSON documents), checked
//! ([`check`]), every error collected with its span ([`ctxt`]).

pub mod ast;
pub mod attr;
pub mod check;
pub mod ctxt;
pub mod serde;
pub mod symbol;

pub use ctxt::Ctxt;
