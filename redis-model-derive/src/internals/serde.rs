//! What `#[serde(...)]` says about the names of a JSON document's properties.
//!
//! A JSON-stored model is written and read by serde, so a field's property is the name serde
//! gives it, and the index must point there. Only the settings that move a property are read
//! (`rename`, `rename_all`, `flatten`, `skip*`); the rest are skipped unread, and a malformed
//! `#[serde]` is left for serde's own derive to report.

use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{LitStr, Token};

use super::attr::{skip_value, Spanned};

/// The names a setting gives for serialising and for deserialising; usually the same.
#[derive(Clone)]
pub struct BothWays<T> {
    pub serialize: Option<T>,
    pub deserialize: Option<T>,
}

impl<T> Default for BothWays<T> {
    fn default() -> Self {
        BothWays {
            serialize: None,
            deserialize: None,
        }
    }
}

/// serde's `rename_all` rules, applied to a field name written in snake case.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RenameRule {
    Unchanged,
    Upper,
    Pascal,
    Camel,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    fn from_str(rule: &str) -> Option<Self> {
        Some(match rule {
            "lowercase" | "snake_case" => RenameRule::Unchanged,
            "UPPERCASE" | "SCREAMING_SNAKE_CASE" => RenameRule::Upper,
            "PascalCase" => RenameRule::Pascal,
            "camelCase" => RenameRule::Camel,
            "kebab-case" => RenameRule::Kebab,
            "SCREAMING-KEBAB-CASE" => RenameRule::ScreamingKebab,
            _ => return None,
        })
    }

    pub fn apply(self, field: &str) -> String {
        match self {
            RenameRule::Unchanged => field.to_owned(),
            RenameRule::Upper => field.to_ascii_uppercase(),
            RenameRule::Pascal => field
                .split('_')
                .map(|word| {
                    let mut chars = word.chars();
                    chars.next().map_or(String::new(), |first| {
                        first.to_ascii_uppercase().to_string() + chars.as_str()
                    })
                })
                .collect(),
            RenameRule::Camel => {
                let pascal = RenameRule::Pascal.apply(field);
                let mut chars = pascal.chars();
                chars.next().map_or(String::new(), |first| {
                    first.to_ascii_lowercase().to_string() + chars.as_str()
                })
            }
            RenameRule::Kebab => field.replace('_', "-"),
            RenameRule::ScreamingKebab => RenameRule::Upper.apply(field).replace('_', "-"),
        }
    }
}

/// The container's `rename_all`.
pub fn rename_all(attrs: &[syn::Attribute]) -> BothWays<RenameRule> {
    let mut out = BothWays::default();
    for_each_setting(attrs, |meta| {
        if meta.path.is_ident("rename_all") {
            let names = both_ways(meta)?;
            out.serialize = names
                .serialize
                .and_then(|s| RenameRule::from_str(&s.value()));
            out.deserialize = names
                .deserialize
                .and_then(|s| RenameRule::from_str(&s.value()));
            return Ok(true);
        }
        Ok(false)
    });
    out
}

/// What a field's `#[serde]` settings say.
#[derive(Default)]
pub struct Field {
    pub rename: BothWays<LitStr>,
    /// `flatten` or a `skip*`, with its tokens: the field is not a property of its own.
    pub not_a_property: Option<Spanned<&'static str>>,
}

pub fn field(attrs: &[syn::Attribute]) -> Field {
    let mut out = Field::default();
    for_each_setting(attrs, |meta| {
        if meta.path.is_ident("rename") {
            out.rename = both_ways(meta)?;
            return Ok(true);
        }
        for word in ["flatten", "skip", "skip_serializing", "skip_deserializing"] {
            if meta.path.is_ident(word) {
                out.not_a_property.get_or_insert(Spanned {
                    value: word,
                    tokens: meta.path.to_token_stream(),
                });
                return Ok(false);
            }
        }
        Ok(false)
    });
    out
}

/// Calls `f` on every setting of every `#[serde(...)]`; `f` returns whether it consumed the
/// setting's value. Settings it leaves are skipped, whatever form they have.
fn for_each_setting(
    attrs: &[syn::Attribute],
    mut f: impl FnMut(&ParseNestedMeta) -> syn::Result<bool>,
) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        // serde's derive reports a malformed attribute; nothing to add here.
        let _ = attr.parse_nested_meta(|meta| {
            if !f(&meta)? {
                skip_value(&meta)?;
            }
            Ok(())
        });
    }
}

/// `= "name"` (both ways) or `(serialize = "a", deserialize = "b")`.
fn both_ways(meta: &ParseNestedMeta) -> syn::Result<BothWays<LitStr>> {
    if meta.input.peek(Token![=]) {
        let name: LitStr = meta.value()?.parse()?;
        return Ok(BothWays {
            serialize: Some(name.clone()),
            deserialize: Some(name),
        });
    }
    let mut out = BothWays::default();
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("serialize") {
            out.serialize = Some(inner.value()?.parse()?);
        } else if inner.path.is_ident("deserialize") {
            out.deserialize = Some(inner.value()?.parse()?);
        } else {
            skip_value(&inner)?;
        }
        Ok(())
    })?;
    Ok(out)
}

/// A field's property, as written and as read.
pub struct Property {
    pub serialize: String,
    pub deserialize: String,
}

impl Property {
    /// The property of a field named `rust_name` (raw prefix removed), each way: its own
    /// `rename`, else the container's rule, else its name.
    pub fn resolve(rust_name: &str, field: &Field, rename_all: &BothWays<RenameRule>) -> Self {
        let one_way = |rename: Option<&LitStr>, rule: Option<RenameRule>| match (rename, rule) {
            (Some(r), _) => r.value(),
            (None, Some(rule)) => rule.apply(rust_name),
            (None, None) => rust_name.to_owned(),
        };
        Property {
            serialize: one_way(field.rename.serialize.as_ref(), rename_all.serialize),
            deserialize: one_way(field.rename.deserialize.as_ref(), rename_all.deserialize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_serde() {
        let cases = [
            (RenameRule::Unchanged, "home_city"),
            (RenameRule::Upper, "HOME_CITY"),
            (RenameRule::Pascal, "HomeCity"),
            (RenameRule::Camel, "homeCity"),
            (RenameRule::Kebab, "home-city"),
            (RenameRule::ScreamingKebab, "HOME-CITY"),
        ];
        for (rule, want) in cases {
            assert_eq!(rule.apply("home_city"), want);
        }
        assert_eq!(RenameRule::Camel.apply("id"), "id");
    }

    #[test]
    fn reads_only_what_moves_a_property() {
        let input: syn::DeriveInput = syn::parse_quote! {
            #[serde(deny_unknown_fields, rename_all = "camelCase", bound(serialize = "T: X"))]
            struct S {
                #[serde(default, rename(serialize = "a", deserialize = "b"), with = "m")]
                x: u32,
                #[serde(skip_serializing_if = "Option::is_none", flatten)]
                y: u32,
            }
        };
        assert!(rename_all(&input.attrs).serialize == Some(RenameRule::Camel));
        let syn::Data::Struct(s) = &input.data else {
            unreachable!()
        };
        let fields: Vec<Field> = s.fields.iter().map(|f| field(&f.attrs)).collect();
        assert_eq!(fields[0].rename.serialize.as_ref().unwrap().value(), "a");
        assert_eq!(fields[0].rename.deserialize.as_ref().unwrap().value(), "b");
        assert!(fields[0].not_a_property.is_none());
        assert_eq!(fields[1].not_a_property.as_ref().unwrap().value, "flatten");
    }
}
