//! Typed field handles: one type per field kind, so an operator that makes no sense for a kind
//! does not exist on it (`gt` on a tag field does not compile), and sorting needs a field the
//! schema made sortable.

use std::marker::PhantomData;

use super::expr::{escape_tag, is_stop_word, numeric_range, text_terms, Expr, NumericBound};

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

impl<M, S> TextField<M, S> {
    /// Documents whose field contains every term of `text` (stemmed, as indexed).
    pub fn matches(self, text: &str) -> Expr<M> {
        let terms = text_terms(text);
        if terms.is_empty() {
            return Expr::invalid(self.name, "the text has no searchable term");
        }
        Expr::text_leaf(format!("@{}:({})", self.name, terms.join(" ")))
    }

    /// Documents with a word starting with `prefix` (at least two characters, one word).
    pub fn prefix(self, prefix: &str) -> Expr<M> {
        match text_terms(prefix).as_slice() {
            [word] if word.chars().count() >= 2 && word.len() == prefix.len() => {
                Expr::text_leaf(format!("@{}:{word}*", self.name))
            }
            [word] if word.chars().count() < 2 => {
                Expr::invalid(self.name, "a prefix needs at least two characters")
            }
            _ => Expr::invalid(self.name, "a prefix must be a single word"),
        }
    }

    /// Documents with a word within Levenshtein distance `distance` (1 to 3) of `term`.
    pub fn fuzzy(self, term: &str, distance: u8) -> Expr<M> {
        if !(1..=3).contains(&distance) {
            return Expr::invalid(self.name, "fuzzy distance must be 1 to 3");
        }
        match text_terms(term).as_slice() {
            [word] if word.len() == term.len() => {
                let pad = "%".repeat(distance as usize);
                Expr::text_leaf(format!("@{}:{pad}{word}{pad}", self.name))
            }
            _ => Expr::invalid(self.name, "a fuzzy term must be a single word"),
        }
    }

    /// Documents containing the words of `phrase` next to each other, in order. Stop words are
    /// left out, as the indexer left them out.
    pub fn phrase(self, phrase: &str) -> Expr<M> {
        let terms: Vec<&str> = text_terms(phrase)
            .into_iter()
            .filter(|t| !is_stop_word(t))
            .collect();
        if terms.is_empty() {
            return Expr::invalid(self.name, "the phrase has no searchable term");
        }
        Expr::text_leaf(format!("@{}:\"{}\"", self.name, terms.join(" ")))
    }
}

impl<M, S> TagField<M, S> {
    /// Documents having the tag `value` exactly.
    pub fn eq(self, value: impl AsRef<str>) -> Expr<M> {
        self.any_of([value])
    }

    /// Documents having at least one of `values`.
    pub fn any_of<V: AsRef<str>>(self, values: impl IntoIterator<Item = V>) -> Expr<M> {
        let escaped: Vec<String> = values
            .into_iter()
            .map(|v| v.as_ref().trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(|v| escape_tag(&v))
            .collect();
        if escaped.is_empty() {
            return Expr::invalid(self.name, "no tag value to match");
        }
        Expr::leaf(format!("@{}:{{{}}}", self.name, escaped.join(" | ")))
    }
}

impl<M, S> NumericField<M, S> {
    /// `field == v`.
    pub fn eq<B: NumericBound>(self, v: B) -> Expr<M> {
        Expr::leaf(numeric_range(self.name, Some((v, true)), Some((v, true))))
    }

    /// `field > v`.
    pub fn gt<B: NumericBound>(self, v: B) -> Expr<M> {
        Expr::leaf(numeric_range(self.name, Some((v, false)), None))
    }

    /// `field >= v`.
    pub fn gte<B: NumericBound>(self, v: B) -> Expr<M> {
        Expr::leaf(numeric_range(self.name, Some((v, true)), None))
    }

    /// `field < v`.
    pub fn lt<B: NumericBound>(self, v: B) -> Expr<M> {
        Expr::leaf(numeric_range(self.name, None, Some((v, false))))
    }

    /// `field <= v`.
    pub fn lte<B: NumericBound>(self, v: B) -> Expr<M> {
        Expr::leaf(numeric_range(self.name, None, Some((v, true))))
    }

    /// `lo <= field <= hi`.
    pub fn between<B: NumericBound>(self, lo: B, hi: B) -> Expr<M> {
        Expr::leaf(numeric_range(self.name, Some((lo, true)), Some((hi, true))))
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

    #[test]
    fn leaves() {
        let name = TextField::<M>::new("name");
        assert_eq!(
            name.matches("Grace@navy.mil").to_query().unwrap(),
            "@name:(Grace navy mil)"
        );
        assert_eq!(name.prefix("gr").to_query().unwrap(), "@name:gr*");
        assert!(name.prefix("g").to_query().is_err());
        assert!(name.prefix("a b").to_query().is_err());
        assert_eq!(name.fuzzy("grace", 1).to_query().unwrap(), "@name:%grace%");
        assert!(name.fuzzy("grace", 4).to_query().is_err());
        assert_eq!(
            name.phrase("the art of war").to_query().unwrap(),
            "@name:\"art war\""
        );
        let city = TagField::<M>::new("city");
        assert_eq!(
            city.eq("New York").to_query().unwrap(),
            "@city:{New\\ York}"
        );
        assert_eq!(
            city.any_of(["a", "b-c"]).to_query().unwrap(),
            "@city:{a | b\\-c}"
        );
        assert!(city.any_of(Vec::<String>::new()).to_query().is_err());
        let age = NumericField::<M>::new("age");
        assert_eq!(age.between(18, 65).to_query().unwrap(), "@age:[18 65]");
        assert_eq!(age.gt(1.5).to_query().unwrap(), "@age:[(1.5 +inf]");
        let geo = GeoField::<M>::new("home");
        assert_eq!(
            geo.within_radius(crate::model::GeoPoint::new(2.35, 48.85), 1000.0)
                .to_query()
                .unwrap(),
            "@home:[2.35 48.85 1000.0 m]"
        );
    }
}
