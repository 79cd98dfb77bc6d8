//! Query expressions and their rendering to the RediSearch query language (dialect 2).
//!
//! Every sub-expression is parenthesised, so the structure the caller built is the structure the
//! server parses, and user strings are never parsed as query syntax:
//! - tag values are sent as query parameters (`@city:{$t0}` with `PARAMS`), so every character
//!   matches literally: punctuation, non-ASCII and control characters alike (the query syntax
//!   has no escape that keeps a control character, and wants non-ASCII characters bare);
//! - text is split into terms at punctuation, as the indexer split it when it stored the
//!   document (an escaped `grace@navy.mil` would be one token the index never made).
//!
//! A condition no document can meet (an empty tag, a text of stop words only, an empty list of
//! values) is [`Expr::nothing`], not an error: it drops out of `|`, empties `&`, and its
//! negation is every document. A query that matches nothing as a whole is answered without
//! asking the server.

use std::fmt::Write;
use std::marker::PhantomData;
use std::ops::{BitAnd, BitOr, Not};

use crate::commands::Cmd;
use crate::error::{Error, Result};

/// A condition on a model's documents, built from its field handles and combined with `&`, `|`
/// and `!`.
///
/// Any user string makes a valid condition, so filters can be built straight from request
/// parameters: input no stored document can match (an empty or blank tag, an empty `any_of`
/// list, a text that is empty, punctuation or stop words only) is [`Expr::nothing`], which
/// drops out of `|`, empties `&` and whose negation is every document. Only programming
/// errors (a NaN bound, a fuzzy distance outside 1 to 3, a point off the globe) are
/// [`Error::InvalidValue`], reported when the query runs and before anything is sent.
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
    /// No document: a condition nothing stored can meet. Combining simplifies it away, so it
    /// is only ever the whole expression.
    Nothing,
    /// A rendered leaf condition; `ranked` when it matches text, whose hits the server scores.
    Leaf {
        query: String,
        ranked: bool,
    },
    /// Documents with any of these tags (at least one), each as the index holds it.
    Tags {
        field: &'static str,
        values: Vec<String>,
    },
    /// A programming error (a NaN bound, a fuzzy distance out of range, a latitude beyond
    /// the poles); reported when the query runs.
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
                Node::All
                | Node::Nothing
                | Node::Tags { .. }
                | Node::Invalid { .. }
                | Node::Not(_) => false,
            }
        }
        ranked(&self.node)
    }

    /// Documents having at least one of `values` (none may be empty) in tag field `field`.
    pub(crate) fn tags(field: &'static str, values: Vec<String>) -> Self {
        if values.is_empty() {
            return Expr::nothing();
        }
        Expr::from_node(Node::Tags { field, values })
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

    /// No document: what a condition made of degenerate input (an empty tag, stop words only,
    /// an empty list) matches.
    pub fn nothing() -> Self {
        Expr::from_node(Node::Nothing)
    }

    fn from_node(node: Node) -> Self {
        Expr {
            node,
            _model: PhantomData,
        }
    }

    /// The query as the server takes it; `None` when the expression matches no document, so
    /// there is nothing to ask the server. An error names a condition built from a programming
    /// error.
    pub fn to_query(&self) -> Result<Option<SearchText>> {
        if self.node == Node::Nothing {
            return Ok(None);
        }
        let mut out = SearchText {
            query: String::new(),
            params: Vec::new(),
        };
        render(&self.node, &mut out)?;
        Ok(Some(out))
    }
}

/// An expression as the server takes it: the query string, and the values it names as `$t0`,
/// `$t1`, … (sent with `PARAMS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchText {
    /// The query string (dialect 2).
    pub query: String,
    /// The parameters the query names, in order: name, value.
    pub params: Vec<(String, String)>,
}

impl SearchText {
    /// Adds the query's `PARAMS`, with `extra` ones (a KNN vector), to a search command.
    pub(crate) fn params_to(&self, c: Cmd, extra: &[(&str, &[u8])]) -> Cmd {
        let count = self.params.len() + extra.len();
        if count == 0 {
            return c;
        }
        c.arg("PARAMS")
            .arg(count * 2)
            .arg(&self.params[..])
            .arg(extra)
    }
}

fn render(node: &Node, out: &mut SearchText) -> Result<()> {
    match node {
        Node::All => out.query.push('*'),
        Node::Nothing => unreachable!("combining leaves no nested Nothing"),
        Node::Leaf { query, .. } => out.query.push_str(query),
        Node::Tags { field, values } => {
            let _ = write!(out.query, "@{field}:{{");
            for (i, value) in values.iter().enumerate() {
                let name = format!("t{}", out.params.len());
                if i > 0 {
                    out.query.push_str(" | ");
                }
                let _ = write!(out.query, "${name}");
                // The server unescapes a tag parameter as it would the query's own text:
                // a backslash must be doubled to stay one.
                out.params.push((name, value.replace('\\', "\\\\")));
            }
            out.query.push('}');
        }
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
            out.query.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.query.push_str(sep);
                }
                render(item, out)?;
            }
            out.query.push(')');
        }
        Node::Not(inner) => {
            out.query.push_str("-(");
            render(inner, out)?;
            out.query.push(')');
        }
    }
    Ok(())
}

impl<M> BitAnd for Expr<M> {
    type Output = Expr<M>;

    fn bitand(self, rhs: Self) -> Self {
        let node = match (self.node, rhs.node) {
            // A programming error is reported whatever it is combined with.
            (invalid @ Node::Invalid { .. }, _) | (_, invalid @ Node::Invalid { .. }) => invalid,
            (Node::Nothing, _) | (_, Node::Nothing) => Node::Nothing,
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
            (invalid @ Node::Invalid { .. }, _) | (_, invalid @ Node::Invalid { .. }) => invalid,
            (Node::Nothing, other) | (other, Node::Nothing) => other,
            (Node::All, _) | (_, Node::All) => Node::All,
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
        Expr::from_node(match self.node {
            Node::All => Node::Nothing,
            Node::Nothing => Node::All,
            Node::Not(inner) => *inner,
            node => Node::Not(Box::new(node)),
        })
    }
}

/// What the indexer trims from both ends of a hash tag value (C's `isspace`); JSON values are
/// indexed as they are.
const HASH_TAG_TRIMMED: &[char] = &[' ', '\t', '\n', '\u{b}', '\u{c}', '\r'];

/// A tag value as the index holds it for a document that stored `value`, or `None` when no
/// stored value can be it: hash tags are trimmed and empty ones not indexed; the indexer cuts
/// a value at NUL, so a value with one was never stored whole.
pub(crate) fn indexed_tag(value: &str, storage: crate::model::Storage) -> Option<&str> {
    let value = match storage {
        crate::model::Storage::Hash => value.trim_matches(HASH_TAG_TRIMMED),
        crate::model::Storage::Json => value,
    };
    (!value.is_empty() && !value.contains('\0')).then_some(value)
}

/// Splits user text into the terms the indexer made of it: the indexer splits at ASCII
/// punctuation and whitespace only (`_` aside), so `grace@navy.mil` is three terms while
/// `rocket🚀`, `«quoted»` and `東京タワー` are one each. Every character left in a term is
/// plain text to the query language, which is all ASCII.
pub fn text_terms(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
        .collect()
}

/// The terms of `text` a search can use: [`text_terms`] without stop words, which the indexer
/// left out of the index (a stop word in a query matches nothing).
pub(crate) fn search_terms(text: &str) -> Vec<&str> {
    let mut terms = text_terms(text);
    terms.retain(|t| !is_stop_word(t));
    terms
}

/// RediSearch's default English stop words.
const STOP_WORDS: &[&str] = &[
    "a", "is", "the", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into",
    "it", "no", "not", "of", "on", "or", "such", "that", "their", "then", "there", "these", "they",
    "this", "to", "was", "will", "with",
];

pub(crate) fn is_stop_word(term: &str) -> bool {
    STOP_WORDS.iter().any(|s| s.eq_ignore_ascii_case(term))
}

/// Which end of the interval of indexed numbers that stand for one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The lowest.
    Low,
    /// The highest.
    High,
}

/// A number a numeric condition compares with. The index holds every number as an `f64`; a
/// value stands for the interval of those that are it in the field's own type, so a bound hits
/// exactly what was saved: an `f32` is every `f64` that rounds to it (`0.1f32` is saved as
/// `0.1`, which is not `f64::from(0.1f32)`), integers and `f64`s are themselves.
pub trait NumericBound: Copy {
    /// Writes the `end` of the value's interval as the query language reads it; an error for a
    /// value no document can hold (NaN).
    fn write_bound(self, end: End, out: &mut String) -> std::result::Result<(), &'static str>;
}

macro_rules! numeric_bound {
    ($($t:ty),*) => {$(
        impl NumericBound for $t {
            fn write_bound(self, _: End, out: &mut String) -> std::result::Result<(), &'static str> {
                let _ = write!(out, "{self}");
                Ok(())
            }
        }
    )*};
}

numeric_bound!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl NumericBound for f64 {
    fn write_bound(self, _: End, out: &mut String) -> std::result::Result<(), &'static str> {
        if self.is_nan() {
            return Err("NaN is no bound: no document holds it");
        }
        if self.is_infinite() {
            out.push_str(if self > 0.0 { "+inf" } else { "-inf" });
        } else {
            // The shortest form that reads back as this number.
            let _ = write!(out, "{self:?}");
        }
        Ok(())
    }
}

impl NumericBound for f32 {
    fn write_bound(self, end: End, out: &mut String) -> std::result::Result<(), &'static str> {
        if !self.is_finite() {
            return f64::from(self).write_bound(end, out);
        }
        // Halfway to the neighbouring f32 on that side (or, at f32::MAX and f32::MIN, where
        // that neighbour is infinite, on the other): every f64 in between rounds to `self`.
        // Exact in f64, whose 53 bits hold an f32 and its half-gaps.
        let v = f64::from(self);
        let (down, up) = (next_f32(self, -1), next_f32(self, 1));
        let below = if down.is_finite() {
            v - f64::from(down)
        } else {
            f64::from(up) - v
        };
        let above = if up.is_finite() {
            f64::from(up) - v
        } else {
            below
        };
        let edge = match end {
            End::Low => v - below / 2.0,
            End::High => v + above / 2.0,
        };
        edge.write_bound(end, out)
    }
}

/// The f32 next to finite `x` upwards (`dir` 1) or downwards (-1).
fn next_f32(x: f32, dir: i8) -> f32 {
    if x == 0.0 {
        let tiny = f32::from_bits(1);
        return if dir > 0 { tiny } else { -tiny };
    }
    let bits = x.to_bits();
    // Away from zero is one more in the bit pattern, towards zero one less.
    let away = (x > 0.0) == (dir > 0);
    f32::from_bits(if away { bits + 1 } else { bits - 1 })
}

/// One side of a numeric range: the value, which end of its interval, whether inclusive.
pub(crate) type Side<B> = (B, End, bool);

/// `@field:[lo hi]` with `(` for exclusive sides; `None` is unbounded.
pub(crate) fn numeric_range<B: NumericBound>(
    field: &str,
    lo: Option<Side<B>>,
    hi: Option<Side<B>>,
) -> std::result::Result<String, &'static str> {
    let mut q = format!("@{field}:[");
    write_side(lo, "-inf", &mut q)?;
    q.push(' ');
    write_side(hi, "+inf", &mut q)?;
    q.push(']');
    Ok(q)
}

fn write_side<B: NumericBound>(
    side: Option<Side<B>>,
    unbounded: &str,
    out: &mut String,
) -> std::result::Result<(), &'static str> {
    match side {
        Some((v, end, inclusive)) => {
            if !inclusive {
                out.push('(');
            }
            v.write_bound(end, out)
        }
        None => {
            out.push_str(unbounded);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Storage;

    struct M;

    fn q(e: Expr<M>) -> String {
        e.to_query().unwrap().expect("matches something").query
    }

    #[test]
    fn structure_is_explicit() {
        let a = Expr::<M>::leaf("@a:{x}".into());
        let b = Expr::<M>::leaf("@b:{y}".into());
        let c = Expr::<M>::leaf("@c:[1 2]".into());
        assert_eq!(q(!a.clone() & b.clone()), "(-(@a:{x}) @b:{y})");
        assert_eq!(
            q(a.clone() | b.clone() & c.clone()),
            "(@a:{x} | (@b:{y} @c:[1 2]))"
        );
        assert_eq!(q(a.clone() & b.clone() & c), "(@a:{x} @b:{y} @c:[1 2])");
        assert_eq!(q(Expr::all() & a.clone()), "@a:{x}");
        assert_eq!(q(!!a), "@a:{x}");
        assert!(Expr::<M>::invalid("f", "NaN").to_query().is_err());
    }

    #[test]
    fn nothing_simplifies_away() {
        let a = || Expr::<M>::leaf("@a:{x}".into());
        let none = Expr::<M>::nothing;
        assert!(none().to_query().unwrap().is_none());
        assert!((a() & none()).to_query().unwrap().is_none());
        assert!((none() & a()).to_query().unwrap().is_none());
        assert_eq!(q(a() | none()), "@a:{x}");
        assert_eq!(q(none() | a()), "@a:{x}");
        assert_eq!(q(!none()), "*");
        assert_eq!(q(!none() & a()), "@a:{x}");
        assert!((!Expr::<M>::all()).to_query().unwrap().is_none());
        assert_eq!(q(Expr::all() | a()), "*");
        assert_eq!(q(!(a() & none())), "*");
        // A programming error is not hidden by what it is combined with.
        let bad = || Expr::<M>::invalid("f", "NaN");
        assert!((bad() & none()).to_query().is_err());
        assert!((none() | bad()).to_query().is_err());
        assert!((Expr::all() | bad()).to_query().is_err());
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
    fn tag_values_are_parameters() {
        let e = Expr::<M>::tags("city", vec!["New York".into(), "a|b}\\".into()])
            & !Expr::tags("skills", vec!["émoji 🚀\u{6}".into()]);
        let text = e.to_query().unwrap().unwrap();
        assert_eq!(text.query, "(@city:{$t0 | $t1} -(@skills:{$t2}))");
        let params: Vec<(&str, &str)> = text
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            params,
            [
                ("t0", "New York"),
                ("t1", "a|b}\\\\"),
                ("t2", "émoji 🚀\u{6}")
            ]
        );
        assert!(Expr::<M>::tags("city", Vec::new())
            .to_query()
            .unwrap()
            .is_none());
    }

    #[test]
    fn terms() {
        assert_eq!(text_terms("grace@navy.mil"), ["grace", "navy", "mil"]);
        assert_eq!(
            text_terms("state-of-the-art!"),
            ["state", "of", "the", "art"]
        );
        assert_eq!(search_terms("state-of-the-art!"), ["state", "art"]);
        assert!(text_terms(" -- ").is_empty());
        assert_eq!(
            text_terms("rocket🚀 «quoted», e\u{301}t\t東京タワー"),
            ["rocket🚀", "«quoted»", "e\u{301}t", "東京タワー"]
        );
        assert!(search_terms("To be, or NOT to be").is_empty());
        assert!(is_stop_word("The"));
    }

    #[test]
    fn indexed_tags() {
        assert_eq!(indexed_tag(" \tx \r\n", Storage::Hash), Some("x"));
        assert_eq!(indexed_tag(" \tx ", Storage::Json), Some(" \tx "));
        assert_eq!(indexed_tag("\u{a0}x", Storage::Hash), Some("\u{a0}x"));
        assert_eq!(indexed_tag(" \u{b}\u{c}", Storage::Hash), None);
        assert_eq!(indexed_tag("", Storage::Json), None);
        assert_eq!(indexed_tag("x\0y", Storage::Json), None);
    }

    #[test]
    fn ranges() {
        let r = |lo, hi| numeric_range("age", lo, hi).unwrap();
        assert_eq!(
            r(Some((18, End::Low, true)), Some((65, End::High, false))),
            "@age:[18 (65]"
        );
        assert_eq!(
            numeric_range::<f64>("x", None, Some((0.5, End::High, true))).unwrap(),
            "@x:[-inf 0.5]"
        );
        assert!(numeric_range::<f64>("x", Some((f64::NAN, End::Low, true)), None).is_err());
        assert_eq!(
            numeric_range::<f64>("x", Some((f64::NEG_INFINITY, End::Low, true)), None).unwrap(),
            "@x:[-inf +inf]"
        );
    }

    /// Every f32's interval holds the f64 its shortest text reads as, and neither neighbour.
    fn check_f32(x: f32) {
        let bound = |end| {
            let mut s = String::new();
            x.write_bound(end, &mut s).unwrap();
            s.parse::<f64>().unwrap()
        };
        let (lo, hi) = (bound(End::Low), bound(End::High));
        let saved: f64 = format!("{x:?}").parse().unwrap();
        assert!(lo <= saved && saved <= hi, "{x:?}: {lo} {saved} {hi}");
        assert!(lo < f64::from(x) && f64::from(x) < hi);
        for neighbour in [next_f32(x, -1), next_f32(x, 1)] {
            let n = f64::from(neighbour);
            assert!(n < lo || n > hi, "{x:?} takes in {neighbour:?}");
        }
    }

    #[test]
    fn f32_bounds_take_in_what_was_saved() {
        for x in [
            0.1f32,
            -0.1,
            0.0,
            1.0,
            16_777_217.0,
            f32::MIN,
            f32::MAX,
            f32::MIN_POSITIVE,
            f32::from_bits(1),
            -f32::from_bits(1),
            f32::EPSILON,
            1e-45,
            3.4e38,
        ] {
            check_f32(x);
        }
        let mut s = String::new();
        assert!(f32::NAN.write_bound(End::Low, &mut s).is_err());
        f32::INFINITY.write_bound(End::Low, &mut s).unwrap();
        assert_eq!(s, "+inf");
    }

    proptest::proptest! {
        #[test]
        fn any_f32_bounds(bits in proptest::num::u32::ANY) {
            let x = f32::from_bits(bits);
            if x.is_finite() {
                check_f32(x);
            }
        }
    }
}
