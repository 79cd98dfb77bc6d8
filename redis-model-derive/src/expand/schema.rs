//! The static schema: `ModelMeta` and its `FieldSchema`s, built at compile time.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::private;
use crate::internals::ast::{self, Container, Field};
use crate::internals::attr::{Algorithm, Distance, Element, Kind, Storage};

pub fn element(e: Element) -> TokenStream {
    let private = private();
    match e {
        Element::Float32 => quote!(#private::VectorElement::Float32),
        Element::Float64 => quote!(#private::VectorElement::Float64),
    }
}

pub fn option<T: quote::ToTokens>(v: Option<T>) -> TokenStream {
    match v {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

/// The separator a tag field's index splits values at: the declared one, else the default for a
/// hash (which stores a tag list joined by it), else none (a JSON array needs none).
pub fn tag_separator(cont: &Container, field: &Field) -> Option<TokenStream> {
    let private = private();
    match (
        cont.storage(),
        field.attrs.separator.as_ref().map(|s| s.value),
    ) {
        (_, Some(c)) => Some(quote!(#c)),
        (Storage::Hash, None) => Some(quote!(#private::DEFAULT_TAG_SEPARATOR)),
        (Storage::Json, None) => None,
    }
}

fn field_schema(cont: &Container, field: &Field) -> TokenStream {
    let private = private();
    let storage = cont.storage();
    let name = ast::unraw(&field.index_ident());
    let path = option((storage == Storage::Json).then(|| field.json_path()));
    let kind = match field.kind().expect("indexed") {
        Kind::Text => {
            let weight =
                Literal::f64_suffixed(field.attrs.weight.as_ref().map_or(1.0, |w| w.value));
            let nostem = field.attrs.nostem.is_some();
            quote!(#private::FieldKind::Text { weight: #weight, nostem: #nostem })
        }
        Kind::Tag => {
            let separator = option(tag_separator(cont, field));
            let case_sensitive = field.attrs.case_sensitive.is_some();
            quote!(#private::FieldKind::Tag { separator: #separator, case_sensitive: #case_sensitive })
        }
        Kind::Numeric => quote!(#private::FieldKind::Numeric),
        Kind::Geo => quote!(#private::FieldKind::Geo),
        Kind::Vector(v) => {
            let algorithm = match v.algorithm.as_ref().map_or(Algorithm::Flat, |a| a.value) {
                Algorithm::Flat => quote!(#private::VectorAlgorithm::Flat),
                Algorithm::Hnsw => quote!(#private::VectorAlgorithm::Hnsw),
            };
            let element = element(field.vector_element());
            let dim = v.dim.as_ref().map_or(0, |d| d.value);
            let distance = match v.distance.as_ref().map_or(Distance::Cosine, |d| d.value) {
                Distance::L2 => quote!(#private::Distance::L2),
                Distance::Ip => quote!(#private::Distance::Ip),
                Distance::Cosine => quote!(#private::Distance::Cosine),
            };
            let m = option(v.m.as_ref().map(|m| m.value));
            let ef = option(v.ef_construction.as_ref().map(|e| e.value));
            quote!(#private::FieldKind::Vector(#private::VectorSpec {
                algorithm: #algorithm,
                element: #element,
                dim: #dim,
                distance: #distance,
                m: #m,
                ef_construction: #ef,
            }))
        }
    };
    let sortable = field.sortable();
    quote!(#private::FieldSchema {
        name: #name,
        path: #path,
        kind: #kind,
        sortable: #sortable,
    })
}

/// The body of `meta()`: statics, so every call returns the same `&'static ModelMeta`.
pub fn meta(cont: &Container) -> TokenStream {
    let private = private();
    let fields: Vec<TokenStream> = cont.indexed().map(|f| field_schema(cont, f)).collect();
    let count = fields.len();
    let name = cont.ident.to_string();
    let prefix = cont.prefix();
    let index = cont.index();
    let storage = match cont.storage() {
        Storage::Hash => quote!(#private::Storage::Hash),
        Storage::Json => quote!(#private::Storage::Json),
    };
    let ttl = option(cont.attrs.ttl.as_ref().map(|t| t.value));
    let id_field = cont.stored_name(cont.id_field().expect("checked"));
    let version_field = option(cont.version_field().map(|f| cont.stored_name(f)));
    quote! {
        static FIELDS: [#private::FieldSchema; #count] = [#(#fields,)*];
        static META: #private::ModelMeta = #private::ModelMeta {
            name: #name,
            prefix: #prefix,
            index: #index,
            storage: #storage,
            ttl: #ttl,
            id_field: #id_field,
            version_field: #version_field,
            fields: &FIELDS,
        };
        &META
    }
}
