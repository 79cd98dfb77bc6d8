//! The codec methods: hash fields written and read one by one through `HashValue`, or the JSON
//! document through serde.
//!
//! Each field goes through `field_codec::<Type>()`, spanned at the field's type: a type that is
//! not a flat value (a nested struct) gets `HashValue`'s diagnostic pointing at that field, and
//! only once, since encoding and decoding name the same bound at the same span (the compiler
//! reports identical diagnostics once).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::private;
use crate::internals::ast::{Container, Field};
use crate::internals::attr::Storage;

pub fn expand(cont: &Container) -> TokenStream {
    match cont.storage() {
        Storage::Hash => hash(cont),
        Storage::Json => json(cont),
    }
}

/// `FieldOpts` of a hash field: its tag separator (declared, or the default).
fn opts(cont: &Container, field: &Field) -> TokenStream {
    let private = private();
    let separator = super::schema::tag_separator(cont, field);
    quote!(#private::FieldOpts { separator: #separator })
}

fn hash(cont: &Container) -> TokenStream {
    let private = private();
    let writes = cont.fields.iter().map(|f| {
        let name = cont.stored_name(f);
        let member = f.ident;
        let ty = f.ty;
        let opts = opts(cont, f);
        let codec = quote_spanned!(ty.span()=> #private::field_codec::<#ty>());
        if f.attrs.id.is_some() {
            quote!(out.id(#name, id);)
        } else if f.attrs.version.is_some() {
            quote!(#codec.write(out, #name, &version.unwrap_or(self.#member), #opts)?;)
        } else {
            quote!(#codec.write(out, #name, &self.#member, #opts)?;)
        }
    });
    let reads = cont.fields.iter().map(|f| {
        let name = cont.stored_name(f);
        let member = f.ident;
        if f.attrs.id.is_some() {
            // The key's id part, not the stored field: the key is the document's identity.
            return quote!(#member: reader.id::<<Self as #private::RedisModel>::Id>(#name)?);
        }
        let ty = f.ty;
        let opts = opts(cont, f);
        let codec = quote_spanned!(ty.span()=> #private::field_codec::<#ty>());
        quote!(#member: #codec.read(reader, #name, #opts)?)
    });
    quote! {
        fn encode_hash(
            &self,
            id: &str,
            version: ::core::option::Option<u64>,
            out: &mut #private::HashWriter,
        ) -> #private::Result<()> {
            let _ = version;
            #(#writes)*
            ::core::result::Result::Ok(())
        }

        fn decode_hash(reader: &mut #private::HashReader<'_>) -> #private::Result<Self> {
            ::core::result::Result::Ok(Self {
                #(#reads,)*
            })
        }
    }
}

fn json(cont: &Container) -> TokenStream {
    let private = private();
    let id = cont.id_field().expect("checked");
    let id_field = cont.stored_name(id);
    let id_member = id.ident;
    let version = match cont.version_field() {
        Some(f) => {
            let name = cont.stored_name(f);
            quote!(version.map(|v| (#name, v)))
        }
        None => quote!({
            let _ = version;
            ::core::option::Option::None
        }),
    };
    // The called functions are spanned at the struct name, so a missing `Serialize` or
    // `Deserialize` derive is reported there; their arguments keep the call site's hygiene, as
    // the name may come from a `macro_rules!` whose hygiene would hide `self`, `id`, `key`,
    // `json` and `doc` from them.
    let span = cont.ident.span();
    let encode_fn = quote_spanned!(span=>
        #private::encode_json::<Self, <Self as #private::RedisModel>::Id>
    );
    let encode = quote!(#encode_fn(self, (#id_field, id), #version));
    let decode_fn = quote_spanned!(span=>
        #private::decode_json::<Self, <Self as #private::RedisModel>::Id>
    );
    // The id is the key's, whatever the document holds.
    let decode = quote! {
        let (mut doc, id) = #decode_fn(key, (#id_field, id), json)?;
        doc.#id_member = id;
        ::core::result::Result::Ok(doc)
    };
    quote! {
        fn encode_json(
            &self,
            id: &str,
            version: ::core::option::Option<u64>,
        ) -> #private::Result<::std::vec::Vec<u8>> {
            #encode
        }

        fn decode_json(key: &str, id: &str, json: &[u8]) -> #private::Result<Self> {
            #decode
        }
    }
}
