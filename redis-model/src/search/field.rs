//! Typed field handles: one type per field kind, so an operator that makes no sense for a kind
//! does not exist on it (`gt` on a tag field does not compile), and sorting needs a field the
//! schema made sortable.

use std::marker::PhantomData;

use super::expr::{indexed_tag, numeric_range, search_terms, End, Expr, NumericBound, Side};
use crate::model::RedisModel;

/// Marks a field declared `sortable`.
#[derive(Clone, Copy, Debug)]
pub struct Sortable;

/// Marks a field not declared `sortable`.
#[derive(Clone, Copy, Debug)]
pub struct Unsortable;

/// A field `sort_by` accepts: one declared `sortable`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not sortable",
    label = "this field was not declared sortable",
    note = "add `sortable` to the field's `#[redis(...)]` attribute to sort by it"
)]
pub trait SortField<M> {
    /// The field's name.
    fn sort_name(&self) -> &'static str;
}

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name<M, S = Unsortable> {
            name: &'static str,
            _marker: PhantomData<fn() -> (M, S)>,
        }

        impl<M, S> $name<M, S> {
            #[doc(hidden)]
            pub const fn new(name: &'static str) -> Self {
                $name {
                    name,
                    _marker: PhantomData,
                }
            }

            /// The field's name in the index.
            pub fn name(&self) -> &'static str {
                self.name
            }
        }

        impl<M, S> Clone for $name<M, S> {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<M, S> Copy for $name<M, S> {}

        impl<M, S> std::fmt::Debug for $name<M, S> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.name).finish()
            }
        }

        impl<M> SortField<M> for $name<M, Sortable> {
            fn sort_name(&self) -> &'static str {
                self.name
            }
        }
    };
}

/// `gt` and `lt` on a field that is not numeric would otherwise resolve to `Iterator::gt` or
/// `PartialOrd::lt` and fail with an unrelated message; these guards make the compiler say what
/// is wrong instead. No type implements this trait.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no numeric comparisons",
    label = "not a numeric field",
    note = "`gt`, `gte`, `lt`, `lte`, `between` and `eq` on numbers exist on fields declared `#[redis(numeric)]`"
)]
pub trait NumericComparisons {}

macro_rules! not_numeric {
    ($($handle:ident<$($p:ident),*>),*) => {$(
        impl<$($p),*> $handle<$($p),*> {
            /// Not available: see [`NumericComparisons`].
            pub fn gt<B>(self, _: B) -> Expr<M>
            where
                Self: NumericComparisons,
            {
                unreachable!("no type implements NumericComparisons")
            }

            /// Not available: see [`NumericComparisons`].
            pub fn lt<B>(self, _: B) -> Expr<M>
            where
                Self: NumericComparisons,
            {
                unreachable!("no type implements NumericComparisons")
            }
        }
    )*};
}

handle!(
    /// A full-text field.
    TextField
);
handle!(
    /// A tag field: exact values, case-insensitive unless declared `case_sensitive`.
    TagField
);
handle!(
    /// A numeric field.
    NumericField
);

/// What the text and tag conditions do with degenerate input: a text with no searchable term
/// (empty, punctuation, stop words only) or a tag value no document can hold (empty; on hashes,
/// only whitespace, which the indexer trims away) matches no document, like
/// [`Expr::nothing`]. Queries built from request parameters are therefore always valid.
impl<M, S> TextField<M, S> {
    /// Documents whose field contains every term of `text` (stemmed, as indexed; stop words,
    /// which the index leaves out, are left out).
    pub fn matches(self, text: &str) -> Expr<M> {
        match search_terms(text).as_slice() {
            [] => Expr::nothing(),
            terms => Expr::text_leaf(format!("@{}:({})", self.name, terms.join(" "))),
        }
    }

    /// Documents with a word starting with the last word of `text`, and the words before it
    /// whole, as a search box completes what is typed (`"new yo"` finds "New York"). The
    /// server's minimum prefix length (two characters unless configured) applies: a shorter
    /// prefix matches nothing.
    pub fn prefix(self, text: &str) -> Expr<M> {
        let terms = crate::search::expr::text_terms(text);
        let Some((last, whole)) = terms.split_last() else {
            return Expr::nothing();
        };
        let mut q = format!("@{}:(", self.name);
        for word in whole
            .iter()
            .filter(|w| !crate::search::expr::is_stop_word(w))
        {
            q.push_str(word);
            q.push(' ');
        }
        q.push_str(last);
        q.push_str("*)");
        Expr::text_leaf(q)
    }

    /// Documents with, for every term of `text`, a word within Levenshtein distance `distance`
    /// (1 to 3) of it.
    pub fn fuzzy(self, text: &str, distance: u8) -> Expr<M> {
        if !(1..=3).contains(&distance) {
            return Expr::invalid(self.name, "fuzzy distance must be 1 to 3");
        }
        let pad = "%".repeat(distance as usize);
        match search_terms(text).as_slice() {
            [] => Expr::nothing(),
            terms => {
                let terms: Vec<String> = terms.iter().map(|t| format!("{pad}{t}{pad}")).collect();
                Expr::text_leaf(format!("@{}:({})", self.name, terms.join(" ")))
            }
        }
    }

    /// Documents containing the words of `phrase` next to each other, in order. Stop words are
    /// left out, as the indexer left them out.
    pub fn phrase(self, phrase: &str) -> Expr<M> {
        match search_terms(phrase).as_slice() {
            [] => Expr::nothing(),
            terms => Expr::text_leaf(format!("@{}:\"{}\"", self.name, terms.join(" "))),
        }
    }
}

impl<M: RedisModel, S> TagField<M, S> {
    /// Documents having the tag `value` exactly (ASCII letters in either case, unless the
    /// field is `case_sensitive`).
    pub fn eq(self, value: impl AsRef<str>) -> Expr<M> {
        self.any_of([value])
    }

    /// Documents having at least one of `values`; none for an empty list.
    pub fn any_of<V: AsRef<str>>(self, values: impl IntoIterator<Item = V>) -> Expr<M> {
        let storage = M::meta().storage;
        let values = values
            .into_iter()
            .filter_map(|v| indexed_tag(v.as_ref(), storage).map(str::to_owned))
            .collect();
        Expr::tags(self.name, values)
    }
}

impl<M, S> NumericField<M, S> {
    fn range<B: NumericBound>(self, lo: Option<Side<B>>, hi: Option<Side<B>>) -> Expr<M> {
        match numeric_range(self.name, lo, hi) {
            Ok(q) => Expr::leaf(q),
            Err(reason) => Expr::invalid(self.name, reason),
        }
    }

    /// `field == v`: every document whose field holds `v`, read as the field's type (see
    /// [`NumericBound`]).
    pub fn eq<B: NumericBound>(self, v: B) -> Expr<M> {
        self.range(Some((v, End::Low, true)), Some((v, End::High, true)))
    }

    /// `field > v`.
    pub fn gt<B: NumericBound>(self, v: B) -> Expr<M> {
        self.range(Some((v, End::High, false)), None)
    }

    /// `field >= v`.
    pub fn gte<B: NumericBound>(self, v: B) -> Expr<M> {
        self.range(Some((v, End::Low, true)), None)
    }

    /// `field < v`.
    pub fn lt<B: NumericBound>(self, v: B) -> Expr<M> {
        self.range(None, Some((v, End::Low, false)))
    }

    /// `field <= v`.
    pub fn lte<B: NumericBound>(self, v: B) -> Expr<M> {
        self.range(None, Some((v, End::High, true)))
    }

    /// `lo <= field <= hi`; none when `lo > hi`.
    pub fn between<B: NumericBound>(self, lo: B, hi: B) -> Expr<M> {
        self.range(Some((lo, End::Low, true)), Some((hi, End::High, true)))
    }
}

/// A geo field.
pub struct GeoField<M> {
    name: &'static str,
    _marker: PhantomData<fn() -> M>,
}

impl<M> GeoField<M> {
    #[doc(hidden)]
    pub const fn new(name: &'static str) -> Self {
        GeoField {
            name,
            _marker: PhantomData,
        }
    }

    /// The field's name in the index.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Documents within `radius_m` metres of `center`.
    pub fn within_radius(self, center: crate::model::GeoPoint, radius_m: f64) -> Expr<M> {
        if let Err(reason) = center.check() {
            return Expr::invalid(self.name, reason);
        }
        if !(radius_m.is_finite() && radius_m >= 0.0) {
            return Expr::invalid(
                self.name,
                "the radius must be a finite, non-negative distance",
            );
        }
        Expr::leaf(format!(
            "@{}:[{:?} {:?} {:?} m]",
            self.name, center.lon, center.lat, radius_m
        ))
    }
}

not_numeric!(TextField<M, S>, TagField<M, S>, GeoField<M>);

impl<M> Clone for GeoField<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for GeoField<M> {}

impl<M> std::fmt::Debug for GeoField<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("GeoField").field(&self.name).finish()
    }
}

/// A vector field, for [`Repository::knn`](crate::Repository::knn) and
/// [`Repository::vector_range`](crate::Repository::vector_range).
pub struct VectorField<M> {
    pub(crate) name: &'static str,
    pub(crate) dim: usize,
    pub(crate) element: super::schema::VectorElement,
    _marker: PhantomData<fn() -> M>,
}

impl<M> VectorField<M> {
    #[doc(hidden)]
    pub const fn new(
        name: &'static str,
        dim: usize,
        element: super::schema::VectorElement,
    ) -> Self {
        VectorField {
            name,
            dim,
            element,
            _marker: PhantomData,
        }
    }

    /// The field's name in the index.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The dimension the schema declares.
    pub fn dim(&self) -> usize {
        self.dim
    }
}

impl<M> Clone for VectorField<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for VectorField<M> {}

impl<M> std::fmt::Debug for VectorField<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorField")
            .field("name", &self.name)
            .field("dim", &self.dim)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct M;

    fn q(e: Expr<M>) -> String {
        e.to_query().unwrap().expect("matches something").query
    }

    fn nothing(e: Expr<M>) -> bool {
        e.to_query().unwrap().is_none()
    }

    #[test]
    fn text() {
        let name = TextField::<M>::new("name");
        assert_eq!(q(name.matches("Grace@navy.mil")), "@name:(Grace navy mil)");
        assert_eq!(q(name.matches("the art of war")), "@name:(art war)");
        assert_eq!(q(name.prefix("gr")), "@name:(gr*)");
        assert_eq!(q(name.prefix("g")), "@name:(g*)");
        assert_eq!(q(name.prefix("the new yo")), "@name:(new yo*)");
        assert_eq!(q(name.fuzzy("grace", 1)), "@name:(%grace%)");
        assert_eq!(q(name.fuzzy("new york", 2)), "@name:(%%new%% %%york%%)");
        assert!(name.fuzzy("grace", 4).to_query().is_err());
        assert_eq!(q(name.phrase("the art of war")), "@name:\"art war\"");
        // Degenerate input matches nothing; it is not an error.
        for text in ["", "  ", "--!", "to be or not to be"] {
            assert!(nothing(name.matches(text)), "{text:?}");
            assert!(nothing(name.phrase(text)), "{text:?}");
            assert!(nothing(name.fuzzy(text, 1)), "{text:?}");
        }
        assert!(nothing(name.prefix("")));
        assert!(nothing(name.prefix("@@")));
    }

    #[test]
    fn numbers() {
        let age = NumericField::<M>::new("age");
        assert_eq!(q(age.between(18, 65)), "@age:[18 65]");
        assert_eq!(q(age.gt(1.5)), "@age:[(1.5 +inf]");
        assert_eq!(q(age.lte(u64::MAX)), "@age:[-inf 18446744073709551615]");
        assert!(age.eq(f64::NAN).to_query().is_err());
        assert!(age.gt(f32::NAN).to_query().is_err());
        // 0.1f32 is saved as "0.1", which the bounds take in; f64::from(0.1f32) would not.
        let price = NumericField::<M>::new("price");
        assert_eq!(
            q(price.eq(0.1f32)),
            "@price:[0.09999999776482582 0.10000000521540642]"
        );
    }

    #[test]
    fn geo() {
        let geo = GeoField::<M>::new("home");
        assert_eq!(
            q(geo.within_radius(crate::model::GeoPoint::new(2.35, 48.85), 1000.0)),
            "@home:[2.35 48.85 1000.0 m]"
        );
        assert!(geo
            .within_radius(crate::model::GeoPoint::new(2.35, 91.0), 1.0)
            .to_query()
            .is_err());
    }
}
