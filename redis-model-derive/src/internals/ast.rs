//! The derive input as a typed model: the struct, its settings, its fields with theirs, and
//! the defaults the attributes leave out, resolved in one place.

use syn::{Ident, Type, Visibility};

use super::attr::{self, Element, Kind, Storage};
use super::ctxt::Ctxt;
use super::serde::{self, Property};

/// The struct a model is derived for.
pub struct Container<'a> {
    pub ident: &'a Ident,
    pub vis: &'a Visibility,
    pub attrs: attr::Container,
    pub fields: Vec<Field<'a>>,
}

/// One named field.
pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub attrs: attr::Field,
    pub serde: serde::Field,
    /// The property serde writes the field as, and reads it from: its `rename`, else the
    /// container's `rename_all`, else its name.
    pub property: Property,
}

impl<'a> Container<'a> {
    /// `None` when the input is no struct with named fields (reported).
    pub fn from_ast(cx: &Ctxt, input: &'a syn::DeriveInput) -> Option<Self> {
        let attrs = attr::Container::from_ast(cx, input);
        if !input.generics.params.is_empty() {
            cx.error_spanned_by(
                &input.generics,
                "RedisModel cannot be derived for a generic struct: a model's schema is fixed at compile time",
            );
        }
        let named = match &input.data {
            syn::Data::Struct(syn::DataStruct {
                fields: syn::Fields::Named(named),
                ..
            }) => named,
            syn::Data::Struct(s) => {
                cx.error_spanned_by(
                    &s.fields,
                    "RedisModel can only be derived for a struct with named fields: each field is a hash field or a JSON property",
                );
                if let syn::Fields::Unit = s.fields {
                    cx.error_spanned_by(
                        &input.ident,
                        "RedisModel needs a struct with named fields, not a unit struct",
                    );
                }
                return None;
            }
            syn::Data::Enum(e) => {
                cx.error_spanned_by(
                    e.enum_token,
                    "RedisModel can only be derived for a struct with named fields, not an enum",
                );
                return None;
            }
            syn::Data::Union(u) => {
                cx.error_spanned_by(
                    u.union_token,
                    "RedisModel can only be derived for a struct with named fields, not a union",
                );
                return None;
            }
        };
        let rename_all = serde::rename_all(&input.attrs);
        let fields = named
            .named
            .iter()
            .map(|f| {
                let ident = f.ident.as_ref().expect("named field");
                let serde = serde::field(&f.attrs);
                Field {
                    ident,
                    ty: &f.ty,
                    attrs: attr::Field::from_ast(cx, f),
                    property: Property::resolve(&unraw(ident), &serde, &rename_all),
                    serde,
                }
            })
            .collect();
        Some(Container {
            ident: &input.ident,
            vis: &input.vis,
            attrs,
            fields,
        })
    }

    pub fn storage(&self) -> Storage {
        self.attrs.storage
    }

    /// The key prefix: given, or the struct's name in snake case.
    pub fn prefix(&self) -> String {
        match &self.attrs.prefix {
            Some(p) => p.value.clone(),
            None => snake_case(&self.ident.to_string()),
        }
    }

    /// The index name: given, or `{prefix}-idx`.
    pub fn index(&self) -> String {
        match &self.attrs.index {
            Some(i) => i.value.clone(),
            None => format!("{}-idx", self.prefix()),
        }
    }

    /// The name `field` has in the stored hash (its own: the hash codec is generated, serde
    /// plays no part) or document (the property serde writes).
    pub fn stored_name(&self, field: &Field) -> String {
        match self.storage() {
            Storage::Hash => unraw(field.ident),
            Storage::Json => field.property.serialize.clone(),
        }
    }

    /// The `#[redis(id)]` field (the first, if there are several: that is an error).
    pub fn id_field(&self) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.attrs.id.is_some())
    }

    /// The `#[redis(version)]` field.
    pub fn version_field(&self) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.attrs.version.is_some())
    }

    /// The fields the index covers, in declaration order.
    pub fn indexed(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| f.attrs.kind.is_some())
    }
}

impl Field<'_> {
    pub fn kind(&self) -> Option<&Kind> {
        self.attrs.kind.as_ref().map(|k| &k.value)
    }

    /// The index attribute's name, which is also the handle's: the alias, or the field's name.
    pub fn index_ident(&self) -> Ident {
        match &self.attrs.alias {
            Some(a) => a.value.clone(),
            None => self.ident.clone(),
        }
    }

    /// Whether the model depends on where the field is stored: its id, its version, or an
    /// index entry at its default path.
    pub fn is_addressed(&self) -> bool {
        self.attrs.id.is_some()
            || self.attrs.version.is_some()
            || (self.attrs.kind.is_some() && self.attrs.path.is_none())
    }

    /// The JSON path indexed (JSON storage): given, or `$.{field}`, `$.{field}[*]` for a tag
    /// list.
    pub fn json_path(&self) -> String {
        match &self.attrs.path {
            Some(p) => p.value.clone(),
            None if matches!(self.kind(), Some(Kind::Tag)) && is_vec(self.ty) => {
                format!("$.{}[*]", self.property.serialize)
            }
            None => format!("$.{}", self.property.serialize),
        }
    }

    pub fn sortable(&self) -> bool {
        self.attrs.sortable.is_some()
    }

    /// A vector field's element type: declared, or read from the field's type.
    pub fn vector_element(&self) -> Element {
        let declared = match self.kind() {
            Some(Kind::Vector(v)) => v.element.as_ref().map(|e| e.value),
            _ => None,
        };
        declared
            .or_else(|| vector_type(self.ty).map(|(e, _)| e))
            .unwrap_or(Element::Float32)
    }
}

/// `r#type` is stored as `type`.
pub fn unraw(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map_or(s.clone(), str::to_owned)
}

/// A type as users write it: `Vec<u8>`, not the token stream's `Vec < u8 >`.
pub fn type_string(ty: &Type) -> String {
    let mut s = quote::ToTokens::to_token_stream(ty).to_string();
    for (from, to) in [
        (" < ", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" :: ", "::"),
        (":: ", "::"),
        (" ,", ","),
        ("& ", "&"),
        ("[ ", "["),
        (" ]", "]"),
        (" ;", ";"),
        ("( ", "("),
        (" )", ")"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// `UserProfile` → `user_profile`, `HTTPLog` → `http_log`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = match prev {
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(|n| n.is_lowercase()),
                _ => false,
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The last segment of a path type with no qualified self: `Vec` in `std::vec::Vec<T>`.
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// The one type argument of `Name<T>`.
fn single_arg<'t>(ty: &'t Type, name: &str) -> Option<&'t Type> {
    let seg = last_segment(ty)?;
    if seg.ident != name {
        return None;
    }
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

fn is_ident(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == name && s.arguments.is_none())
}

/// `Vec<..>` (syntactically).
pub fn is_vec(ty: &Type) -> bool {
    single_arg(ty, "Vec").is_some()
}

/// `u64` (syntactically).
pub fn is_u64(ty: &Type) -> bool {
    is_ident(ty, "u64")
}

/// `String`, `Vec<String>`, or an `Option` of either: the types a tag field holds its text in
/// that the derive can tell without serde (syntactically).
pub fn is_tag_text(ty: &Type) -> bool {
    let text = |t: &Type| {
        is_ident(t, "String") || single_arg(t, "Vec").is_some_and(|e| is_ident(e, "String"))
    };
    text(ty) || single_arg(ty, "Option").is_some_and(text)
}

/// How a geo field holds its point, when the derive can tell: `GeoPoint` or
/// `Option<GeoPoint>`.
pub enum GeoShape {
    Point,
    OptionalPoint,
}

pub fn geo_shape(ty: &Type) -> Option<GeoShape> {
    if is_ident(ty, "GeoPoint") {
        Some(GeoShape::Point)
    } else if single_arg(ty, "Option").is_some_and(|t| is_ident(t, "GeoPoint")) {
        Some(GeoShape::OptionalPoint)
    } else {
        None
    }
}

/// `Vec<f32>`, `Vec<f64>`, `[f32; N]`, `[f64; N]`: the element, and `N` for an array.
pub fn vector_type(ty: &Type) -> Option<(Element, Option<&syn::Expr>)> {
    let element = |t: &Type| {
        if is_ident(t, "f32") {
            Some(Element::Float32)
        } else if is_ident(t, "f64") {
            Some(Element::Float64)
        } else {
            None
        }
    };
    match ty {
        Type::Array(a) => element(&a.elem).map(|e| (e, Some(&a.len))),
        Type::Group(g) => vector_type(&g.elem),
        Type::Paren(p) => vector_type(&p.elem),
        _ => single_arg(ty, "Vec").and_then(element).map(|e| (e, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake() {
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("UserProfile"), "user_profile");
        assert_eq!(snake_case("HTTPLog"), "http_log");
        assert_eq!(snake_case("Doc2Vec"), "doc2_vec");
    }
}
