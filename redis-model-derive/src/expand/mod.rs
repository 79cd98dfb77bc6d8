//! The back end: code generation from the checked model.
//!
//! Everything is emitted inside `const _: () = { ... };` except the handles struct, which users
//! name. On errors the output is the errors plus a stub impl (and the handles struct, as far as
//! it could be read), so the rest of the crate still type-checks and users see the derive's
//! errors, not a cascade of "`RedisModel` is not implemented".

use proc_macro2::TokenStream;
use quote::quote;

use crate::internals::{ast, check, Ctxt};

mod codec;
mod fields;
mod model;
mod schema;

/// The path generated code reaches the library through.
fn private() -> TokenStream {
    quote!(::redis_model::__private)
}

pub fn derive(input: &syn::DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let cont = ast::Container::from_ast(&cx, input);
    if let Some(cont) = &cont {
        check::check(&cx, cont);
    }
    match (cx.check(), cont) {
        (Ok(()), Some(cont)) => model::expand(&cont),
        (Ok(()), None) => unreachable!("an unreadable input reports an error"),
        (Err(errors), cont) => {
            let mut out = errors.to_compile_error();
            out.extend(stub(input, cont.as_ref()));
            out
        }
    }
}

/// An impl with the right associated types and bodies that never run.
fn stub(input: &syn::DeriveInput, cont: Option<&ast::Container>) -> TokenStream {
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let private = private();
    let ident = &input.ident;
    let (fields_def, fields_ty) = match cont {
        Some(cont) => (fields::definition(cont), {
            let f = fields::ident(cont);
            quote!(#f)
        }),
        None => (TokenStream::new(), quote!(())),
    };
    let id_ty = match cont.and_then(|c| c.id_field()) {
        Some(f) => {
            let ty = f.ty;
            quote!(#ty)
        }
        None => quote!(::std::string::String),
    };
    let unreachable = quote!(::core::unreachable!("RedisModel derive failed"));
    quote! {
        #fields_def

        const _: () = {
            #[automatically_derived]
            impl #private::RedisModel for #ident {
                type Fields = #fields_ty;
                type Id = #id_ty;
                fn meta() -> &'static #private::ModelMeta { #unreachable }
                fn fields() -> Self::Fields { #unreachable }
                fn id(&self) -> &Self::Id { #unreachable }
                fn validate(&self) -> #private::Result<()> { #unreachable }
            }
        };
    }
}
