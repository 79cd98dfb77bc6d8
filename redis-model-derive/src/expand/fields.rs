//! The typed field handles: `pub struct UserFields { pub age: NumericField<User, Sortable>, … }`,
//! one handle per indexed field, named by its alias, whose type says which operators exist.

use std::collections::HashSet;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::{private, schema};
use crate::internals::ast::{self, Container, Field};
use crate::internals::attr::Kind;

/// `{Struct}Fields`, or the name `#[redis(fields = "...")]` gives.
pub fn ident(cont: &Container) -> Ident {
    match &cont.attrs.fields {
        Some(name) => name.value.clone(),
        None => format_ident!("{}Fields", cont.ident),
    }
}

/// The indexed fields, one per handle name (a clash is reported by the checks; the stub must
/// still compile).
fn handles<'c, 'a>(cont: &'c Container<'a>) -> Vec<&'c Field<'a>> {
    let mut seen = HashSet::new();
    cont.indexed()
        .filter(|f| seen.insert(f.index_ident().to_string()))
        .collect()
}

/// The handle type of a field: `TextField<User, Sortable>`.
fn handle_type(cont: &Container, field: &Field) -> TokenStream {
    let private = private();
    let model = cont.ident;
    let sort = if field.sortable() {
        quote!(#private::Sortable)
    } else {
        quote!(#private::Unsortable)
    };
    match field.kind().expect("indexed") {
        Kind::Text => quote!(#private::TextField<#model, #sort>),
        Kind::Tag => quote!(#private::TagField<#model, #sort>),
        Kind::Numeric => quote!(#private::NumericField<#model, #sort>),
        Kind::Geo => quote!(#private::GeoField<#model>),
        Kind::Vector(_) => quote!(#private::VectorField<#model>),
    }
}

fn describe(field: &Field) -> String {
    let name = ast::unraw(&field.index_ident());
    let kind = field.kind().expect("indexed").symbol().0;
    let sortable = if field.sortable() { ", sortable" } else { "" };
    let from = if field.attrs.alias.is_some() {
        format!(" (from field `{}`)", field.ident)
    } else {
        String::new()
    };
    match field.kind() {
        Some(Kind::Vector(v)) => format!(
            "`{name}`: vector of dimension {}{from}.",
            v.dim.as_ref().map_or(0, |d| d.value)
        ),
        _ => format!("`{name}`: {kind}{sortable}{from}."),
    }
}

/// The struct definition.
pub fn definition(cont: &Container) -> TokenStream {
    let vis = cont.vis;
    let ident = ident(cont);
    let model = cont.ident;
    let doc = format!(
        " The typed handles of [`{model}`]'s indexed fields, for queries: `{model}::fields()` \
         (from `RedisModel`). Each handle's type allows exactly the operators its kind supports."
    );
    let members = handles(cont).into_iter().map(|f| {
        let name = f.index_ident();
        let ty = handle_type(cont, f);
        let doc = format!(" {}", describe(f));
        quote! {
            #[doc = #doc]
            pub #name: #ty
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug)]
        #vis struct #ident {
            #(#members,)*
        }
    }
}

/// The expression building the handles.
pub fn constructor(cont: &Container) -> TokenStream {
    let ident = ident(cont);
    let members = handles(cont).into_iter().map(|f| {
        let member = f.index_ident();
        let name = ast::unraw(&member);
        let ty = handle_type(cont, f);
        let value = match f.kind().expect("indexed") {
            Kind::Vector(v) => {
                let dim = v.dim.as_ref().map_or(0, |d| d.value);
                let element = schema::element(f.vector_element());
                quote!(<#ty>::new(#name, #dim, #element))
            }
            _ => quote!(<#ty>::new(#name)),
        };
        quote!(#member: #value)
    });
    quote!(#ident { #(#members,)* })
}
