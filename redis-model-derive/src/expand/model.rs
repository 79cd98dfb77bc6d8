//! The `RedisModel` impl: associated types, `meta`, `fields`, `id`, `version`, `validate`, and
//! the codec.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{codec, fields, private, schema};
use crate::internals::ast::{self, Container, GeoShape};
use crate::internals::attr::{Kind, Storage};

pub fn expand(cont: &Container) -> TokenStream {
    let private = private();
    let ident = cont.ident;
    let id = cont.id_field().expect("checked");
    let id_member = id.ident;
    // Spanned at the id's type: a type that is no `ModelId` is reported there.
    let id_ty = {
        let ty = id.ty;
        quote_spanned!(ty.span()=> #ty)
    };
    let fields_def = fields::definition(cont);
    let fields_ident = fields::ident(cont);
    let fields_ctor = fields::constructor(cont);
    let meta = schema::meta(cont);
    let version = cont.version_field().map(|f| {
        let member = f.ident;
        quote! {
            fn version(&self) -> ::core::option::Option<u64> {
                ::core::option::Option::Some(self.#member)
            }
        }
    });
    let checks = cont.indexed().filter_map(|f| {
        let name = ast::unraw(&f.index_ident());
        let member = f.ident;
        match f.kind()? {
            Kind::Vector(v) if ast::vector_type(f.ty).is_some() => {
                let dim = v.dim.as_ref().map_or(0, |d| d.value);
                Some(quote!(#private::check_dim(#name, #dim, self.#member.len())?;))
            }
            // A hash's tag field is a `HashValue` whatever its type, so it is always checked. A
            // JSON tag is checked where the derive sees the text the index gets: the field
            // itself (no `path` into it), of a type that holds it plainly; what serde makes of
            // other types (an enum, a nested struct) is not known here.
            Kind::Tag
                if cont.storage() == Storage::Hash
                    || (f.attrs.path.is_none() && ast::is_tag_text(f.ty)) =>
            {
                let separator = schema::option(schema::tag_separator(cont, f));
                let ty = f.ty;
                // The same bound at the same span as the hash codec's: one error, not two.
                let codec = quote_spanned!(ty.span()=> #private::field_codec::<#ty>());
                Some(quote!(#codec.check_tags(#name, &self.#member, #separator)?;))
            }
            Kind::Geo => match ast::geo_shape(f.ty)? {
                GeoShape::Point => Some(quote!(#private::check_geo(#name, &self.#member)?;)),
                GeoShape::OptionalPoint => Some(quote! {
                    if let ::core::option::Option::Some(point) = &self.#member {
                        #private::check_geo(#name, point)?;
                    }
                }),
            },
            _ => None,
        }
    });
    let codec = codec::expand(cont);
    quote! {
        #fields_def

        const _: () = {
            #[automatically_derived]
            impl #private::RedisModel for #ident {
                type Fields = #fields_ident;
                type Id = #id_ty;

                fn meta() -> &'static #private::ModelMeta {
                    #meta
                }

                fn fields() -> Self::Fields {
                    #fields_ctor
                }

                fn id(&self) -> &Self::Id {
                    &self.#id_member
                }

                #version

                fn validate(&self) -> #private::Result<()> {
                    #(#checks)*
                    ::core::result::Result::Ok(())
                }

                #codec
            }
        };
    }
}
