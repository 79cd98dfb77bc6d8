//! Query expressions and their rendering to the RediSearch query language (dialect 2).
//!
//! Every sub-expression is parenthesised, so the structure the caller built is the structure the
//! server parses, and user strings never reach the query unescaped:
//! - tag values are backslash-escaped inside `{…}`, so spaces, punctuation, `@`, `|`, `-`,
//!   braces and quotes match literally;
//! - text is split into terms at punctuation, as the indexer split it when it stored the
//!   document (an escaped `grace@navy.mil` would be one token the index never made).

use std::fmt::Write;
use std::marker::PhantomData;
use std::ops::{BitAnd, BitOr, Not};

use crate::error::{Error, Result};

/// A condition on a model's documents, built from its field handles and combined with `&`, `|`
/// and `!`.
pub struct Expr<M> {
    node: Node,
    _model: PhantomData<fn() -> M>,
}

// Manual impls: derives would demand `M: Clone` etc. of the model type, which only tags.
impl<M> Clone for Expr<M> {
    fn clone(&self) -> Self {
        Expr::from_node(self.node.clone())
    }
}

impl<M> std::fmt::Debug for Expr<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expr").field(&self.node).finish()
    }
}

impl<M> PartialEq for Expr<M> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    All,
    /// A rendered leaf condition; `ranked` when it matches text, whose hits the server scores.
    Leaf {
        query: String,
        ranked: bool,
    },
    /// A condition that cannot be expressed (no search terms, a too-short prefix); reported
    /// when the query runs.
    Invalid {
        field: &'static str,
        reason: String,
    },
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

impl<M> Expr<M> {
    pub(crate) fn leaf(query: String) -> Self {
        Expr::from_node(Node::Leaf {
            query,
            ranked: false,
        })
    }

    /// A text condition: its hits are scored, so unsorted results come back best first.
    pub(crate) fn text_leaf(query: String) -> Self {
        Expr::from_node(Node::Leaf {
            query,
            ranked: true,
        })
    }

    /// Whether the server ranks the hits: a text condition that is not negated.
    pub(crate) fn is_ranked(&self) -> bool {
        fn ranked(node: &Node) -> bool {
            match node {
                Node::Leaf { ranked, .. } => *ranked,
                Node::And(items) | Node::Or(items) => items.iter().any(ranked),
                Node::All | Node::Invalid { .. } | Node::Not(_) => false,
            }
        }
        ranked(&self.node)
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Expr::from_node(Node::Invalid {
            field,
            reason: reason.into(),
        })
    }

    /// Every document.
    pub fn all() -> Self {
        Expr::from_node(Node::All)
    }

    fn from_node(node: Node) -> Self {
        Expr {
            node,
            _model: PhantomData,
        }
    }

    /// The query string, or the reason it cannot be built.
    pub fn to_query(&self) -> Result<String> {
        let mut out = String::new();
        render(&self.node, &mut out)?;
        Ok(out)
    }
}

fn render(node: &Node, out: &mut String) -> Result<()> {
    match node {
        Node::All => out.push('*'),
        Node::Leaf { query, .. } => out.push_str(query),
        Node::Invalid { field, reason } => {
            return Err(Error::InvalidValue {
                field: (*field).to_owned(),
                reason: reason.clone(),
            })
        }
        Node::And(items) | Node::Or(items) => {
            let sep = if matches!(node, Node::And(_)) {
                " "
            } else {
                " | "
            };
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                render(item, out)?;
            }
            out.push(')');
        }
        Node::Not(inner) => {
            out.push_str("-(");
            render(inner, out)?;
            out.push(')');
        }
    }
    Ok(())
}

impl<M> BitAnd for Expr<M> {
    type Output = Expr<M>;

    fn bitand(self, rhs: Self) -> Self {
        let node = match (self.node, rhs.node) {
            (Node::All, other) | (other, Node::All) => other,
            (Node::And(mut a), Node::And(b)) => {
                a.extend(b);
                Node::And(a)
            }
            (Node::And(mut a), b) => {
                a.push(b);
                Node::And(a)
            }
            (a, b) => Node::And(vec![a, b]),
        };
        Expr::from_node(node)
    }
}

impl<M> BitOr for Expr<M> {
    type Output = Expr<M>;

    fn bitor(self, rhs: Self) -> Self {
        let node = match (self.node, rhs.node) {
            (Node::Or(mut a), Node::Or(b)) => {
                a.extend(b);
                Node::Or(a)
            }
            (Node::Or(mut a), b) => {
                a.push(b);
                Node::Or(a)
            }
            (a, b) => Node::Or(vec![a, b]),
        };
        Expr::from_node(node)
    }
}

impl<M> Not for Expr<M> {
    type Output = Expr<M>;

    fn not(self) -> Self {
        Expr::from_node(Node::Not(Box::new(self.node)))
    }
}

/// Escapes a tag value for use inside `{…}`: every character that is not a letter, digit or
/// `_` is preceded by a backslash.
pub fn escape_tag(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if !(c.is_alphanumeric() || c == '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Splits user text into the terms the indexer would have made: runs of letters, digits and
/// `_`, everything else a separator.
pub fn text_terms(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
        .collect()
}

/// RediSearch's default English stop words: a phrase containing one matches nothing, so they
/// are dropped from phrases, as the indexer dropped them from the text.
const STOP_WORDS: &[&str] = &[
    "a", "is", "the", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into",
    "it", "no", "not", "of", "on", "or", "such", "that", "their", "then", "there", "these", "they",
    "this", "to", "was", "will", "with",
];

pub(crate) fn is_stop_word(term: &str) -> bool {
    STOP_WORDS.iter().any(|s| s.eq_ignore_ascii_case(term))
}

/// A number as the query language writes it.
pub trait NumericBound: Copy {
    /// Writes the number.
    fn write_bound(self, out: &mut String);
}

macro_rules! numeric_bound {
    ($($t:ty),*) => {$(
        impl NumericBound for $t {
            fn write_bound(self, out: &mut String) {
                let _ = write!(out, "{self}");
            }
        }
    )*};
}

numeric_bound!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl NumericBound for f64 {
    fn write_bound(self, out: &mut String) {
        if self.is_infinite() {
            out.push_str(if self > 0.0 { "+inf" } else { "-inf" });
        } else {
            let _ = write!(out, "{self:?}");
        }
    }
}

impl NumericBound for f32 {
    fn write_bound(self, out: &mut String) {
        f64::from(self).write_bound(out)
    }
}

/// `@field:[lo hi]` with `(` for exclusive bounds; `None` is unbounded.
pub(crate) fn numeric_range<B: NumericBound>(
    field: &str,
    lo: Option<(B, bool)>,
    hi: Option<(B, bool)>,
) -> String {
    let mut q = format!("@{field}:[");
    match lo {
        Some((v, inclusive)) => {
            if !inclusive {
                q.push('(');
            }
            v.write_bound(&mut q);
        }
        None => q.push_str("-inf"),
    }
    q.push(' ');
    match hi {
        Some((v, inclusive)) => {
            if !inclusive {
                q.push('(');
            }
            v.write_bound(&mut q);
        }
        None => q.push_str("+inf"),
    }
    q.push(']');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    struct M;

    #[test]
    fn structure_is_explicit() {
        let a = Expr::<M>::leaf("@a:{x}".into());
        let b = Expr::<M>::leaf("@b:{y}".into());
        let c = Expr::<M>::leaf("@c:[1 2]".into());
        assert_eq!(
            (!a.clone() & b.clone()).to_query().unwrap(),
            "(-(@a:{x}) @b:{y})"
        );
        assert_eq!(
            (a.clone() | b.clone() & c.clone()).to_query().unwrap(),
            "(@a:{x} | (@b:{y} @c:[1 2]))"
        );
        assert_eq!(
            (a.clone() & b.clone() & c).to_query().unwrap(),
            "(@a:{x} @b:{y} @c:[1 2])"
        );
        assert_eq!((Expr::all() & a).to_query().unwrap(), "@a:{x}");
        assert!(Expr::<M>::invalid("f", "no terms").to_query().is_err());
    }

    #[test]
    fn only_text_not_negated_is_ranked() {
        let tag = || Expr::<M>::leaf("@a:{x}".into());
        let text = || Expr::<M>::text_leaf("@t:(x)".into());
        assert!(!tag().is_ranked());
        assert!(!Expr::<M>::all().is_ranked());
        assert!(text().is_ranked());
        assert!((tag() & text()).is_ranked());
        assert!((tag() | text()).is_ranked());
        assert!(!(tag() & !text()).is_ranked());
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_tag("New York"), "New\\ York");
        assert_eq!(escape_tag("a|b-c{d}\"e'@"), "a\\|b\\-c\\{d\\}\\\"e\\'\\@");
        assert_eq!(escape_tag("são_paulo"), "são_paulo");
        assert_eq!(text_terms("grace@navy.mil"), ["grace", "navy", "mil"]);
        assert_eq!(
            text_terms("state-of-the-art!"),
            ["state", "of", "the", "art"]
        );
        assert!(text_terms(" -- ").is_empty());
        assert!(is_stop_word("The"));
    }

    #[test]
    fn ranges() {
        assert_eq!(
            numeric_range("age", Some((18, true)), Some((65, false))),
            "@age:[18 (65]"
        );
        assert_eq!(
            numeric_range::<f64>("x", None, Some((0.5, true))),
            "@x:[-inf 0.5]"
        );
    }
}
