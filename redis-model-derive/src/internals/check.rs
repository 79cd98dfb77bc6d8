//! The rules no single attribute can check alone: one id, at most one version, options that
//! belong to another kind, vector types, storage-specific settings, clashing index names.

use std::collections::HashMap;

use quote::ToTokens;

use super::ast::{self, Container, Field};
use super::attr::{Algorithm, Element, Kind, Storage};
use super::ctxt::Ctxt;

pub fn check(cx: &Ctxt, cont: &Container) {
    check_id(cx, cont);
    check_version(cx, cont);
    for field in &cont.fields {
        check_options(cx, field);
        check_storage_options(cx, cont, field);
        if cont.storage() == Storage::Json && field.is_addressed() {
            check_property(cx, field);
        }
        if let Some(Kind::Vector(_)) = field.kind() {
            check_vector(cx, field);
        }
    }
    check_index_names(cx, cont);
}

fn check_id(cx: &Ctxt, cont: &Container) {
    let mut ids = cont.fields.iter().filter(|f| f.attrs.id.is_some());
    let Some(first) = ids.next() else {
        cx.error_spanned_by(
            cont.ident,
            format!(
                "the model `{}` has no id field: mark the field that holds the key's id with `#[redis(id)]`",
                cont.ident
            ),
        );
        return;
    };
    for other in ids {
        let at = &other.attrs.id.as_ref().expect("filtered").tokens;
        cx.error_spanned_by(
            at,
            format!(
                "a model has exactly one id field, and `{}` is already marked `#[redis(id)]`",
                first.ident
            ),
        );
    }
}

fn check_version(cx: &Ctxt, cont: &Container) {
    let mut versions = cont.fields.iter().filter(|f| f.attrs.version.is_some());
    let first = versions.next();
    for other in versions {
        let at = &other.attrs.version.as_ref().expect("filtered").tokens;
        cx.error_spanned_by(
            at,
            format!(
                "a model has at most one version field, and `{}` is already marked `#[redis(version)]`",
                first.expect("first").ident
            ),
        );
    }
    for field in cont.fields.iter().filter(|f| f.attrs.version.is_some()) {
        if let (Some(_), Some(version)) = (&field.attrs.id, &field.attrs.version) {
            cx.error_spanned_by(
                &version.tokens,
                "a field cannot be both the id and the version",
            );
        } else if !ast::is_u64(field.ty) {
            cx.error_spanned_by(
                field.ty,
                format!(
                    "the version field must be a `u64`, not `{}`",
                    ast::type_string(field.ty)
                ),
            );
        }
    }
}

/// Options that only make sense for one kind of field.
fn check_options(cx: &Ctxt, field: &Field) {
    let kind = field.kind();
    let kind_name = kind.map(|k| k.symbol().0);
    let a = &field.attrs;

    if let Some(sortable) = &a.sortable {
        match kind {
            None => cx.error_spanned_by(
                &sortable.tokens,
                "`sortable` needs an index kind: `#[redis(text, sortable)]`, `tag` or `numeric`",
            ),
            Some(Kind::Geo) | Some(Kind::Vector(_)) => cx.error_spanned_by(
                &sortable.tokens,
                format!(
                    "a {} field cannot be sortable; only text, tag and numeric fields can",
                    kind_name.expect("kind")
                ),
            ),
            _ => {}
        }
    }

    let only = |tokens: &proc_macro2::TokenStream, option: &str, owner: &str, matches: bool| {
        if !matches {
            let here = match kind_name {
                Some(k) => format!("this is a {k} field"),
                None => "this field is not indexed".to_owned(),
            };
            cx.error_spanned_by(
                tokens,
                format!("`{option}` applies to {owner} fields only, and {here}"),
            );
        }
    };
    let text = matches!(kind, Some(Kind::Text));
    let tag = matches!(kind, Some(Kind::Tag));
    if let Some(w) = &a.weight {
        only(&w.tokens, "weight", "text", text);
    }
    if let Some(n) = &a.nostem {
        only(&n.tokens, "nostem", "text", text);
    }
    if let Some(s) = &a.separator {
        only(&s.tokens, "separator", "tag", tag);
    }
    if let Some(c) = &a.case_sensitive {
        only(&c.tokens, "case_sensitive", "tag", tag);
    }
}

/// `path` and `alias` exist for JSON documents, and only on indexed fields.
fn check_storage_options(cx: &Ctxt, cont: &Container, field: &Field) {
    let a = &field.attrs;
    for (option, tokens) in [
        ("path", a.path.as_ref().map(|p| &p.tokens)),
        ("alias", a.alias.as_ref().map(|p| &p.tokens)),
    ] {
        let Some(tokens) = tokens else { continue };
        if cont.storage() == Storage::Hash {
            cx.error_spanned_by(
                tokens,
                format!(
                    "`{option}` applies to JSON storage (`#[redis(storage = \"json\")]`); a hash field is indexed under its own name"
                ),
            );
        } else if field.kind().is_none() {
            cx.error_spanned_by(
                tokens,
                format!("`{option}` needs an index kind on the field, e.g. `#[redis(tag, {option} = ...)]`"),
            );
        }
    }
}

/// A JSON field the model reads or indexes at its property must have one property, both ways.
fn check_property(cx: &Ctxt, field: &Field) {
    let role = if field.attrs.id.is_some() {
        "the id field"
    } else if field.attrs.version.is_some() {
        "the version field"
    } else {
        "an indexed field"
    };
    if let Some(word) = &field.serde.not_a_property {
        let why = if word.value == "flatten" {
            "`flatten` spreads this field's contents into the document around it"
        } else {
            "`skip` leaves this field out of the document, or never reads it back"
        };
        cx.error_spanned_by(
            &word.tokens,
            format!("{why}, but {role} needs a property of its own"),
        );
    }
    let p = &field.property;
    if p.serialize != p.deserialize {
        let at = field
            .serde
            .rename
            .serialize
            .as_ref()
            .or(field.serde.rename.deserialize.as_ref())
            .map_or_else(|| field.ident.to_token_stream(), |l| l.to_token_stream());
        cx.error_spanned_by(
            at,
            format!(
                "serde writes this field as `{}` and reads it as `{}`; {role} needs one name both ways",
                p.serialize, p.deserialize
            ),
        );
    }
}

fn check_vector(cx: &Ctxt, field: &Field) {
    let Some(kind) = &field.attrs.kind else {
        return;
    };
    let Kind::Vector(v) = &kind.value else { return };

    if !v.dim_written {
        cx.error_spanned_by(
            &kind.tokens,
            "a vector field needs its dimension: `vector(dim = 4, ...)`",
        );
    }
    if !v.distance_written {
        cx.error_spanned_by(
            &kind.tokens,
            "a vector field needs its distance metric: `vector(distance = \"cosine\", ...)` (or \"l2\", \"ip\")",
        );
    }
    let hnsw = v
        .algorithm
        .as_ref()
        .is_some_and(|a| a.value == Algorithm::Hnsw);
    for (option, tokens) in [
        ("m", v.m.as_ref().map(|s| &s.tokens)),
        (
            "ef_construction",
            v.ef_construction.as_ref().map(|s| &s.tokens),
        ),
    ] {
        if let (Some(tokens), false) = (tokens, hnsw) {
            cx.error_spanned_by(
                tokens,
                format!("`{option}` is an HNSW setting: add `algorithm = \"hnsw\"`"),
            );
        }
    }

    match ast::vector_type(field.ty) {
        Some((element, len)) => {
            if let Some(declared) = &v.element {
                if declared.value != element {
                    let (written, matching) = match declared.value {
                        Element::Float32 => ("float32", "float64"),
                        Element::Float64 => ("float64", "float32"),
                    };
                    cx.error_spanned_by(
                        &declared.tokens,
                        format!(
                            "`type = \"{written}\"` conflicts with the field's `{}` elements: write \"{matching}\" or leave `type` out",
                            element.rust_name()
                        ),
                    );
                }
            }
            if let (Some(len), Some(dim)) = (len, &v.dim) {
                let literal = match len {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(i),
                        ..
                    }) => i.base10_parse::<usize>().ok(),
                    _ => None,
                };
                if let Some(n) = literal.filter(|n| *n != dim.value) {
                    cx.error_spanned_by(
                        len,
                        format!(
                            "the array holds {n} elements but the vector is declared `dim = {}`",
                            dim.value
                        ),
                    );
                }
            }
        }
        // With a JSON path, the vector is somewhere inside the field: its type is not
        // the field's, so it must be declared.
        None if field.attrs.path.is_some() => {
            if v.element.is_none() {
                cx.error_spanned_by(
                    &kind.tokens,
                    "a vector indexed at a `path` needs its element type: `vector(type = \"float32\", ...)`",
                );
            }
        }
        None => cx.error_spanned_by(
            field.ty,
            format!(
                "a vector field must be `Vec<f32>`, `Vec<f64>`, `[f32; N]` or `[f64; N]`, not `{}`",
                ast::type_string(field.ty)
            ),
        ),
    }
}

/// Two indexed fields under one name would build one index attribute and two handles.
fn check_index_names(cx: &Ctxt, cont: &Container) {
    let mut seen: HashMap<String, &Field> = HashMap::new();
    for field in cont.indexed() {
        let name = ast::unraw(&field.index_ident());
        if let Some(first) = seen.get(&name) {
            let at = match &field.attrs.alias {
                Some(a) => a.tokens.clone(),
                None => field.ident.to_token_stream(),
            };
            cx.error_spanned_by(
                at,
                format!(
                    "the index already has a field named `{name}` (from `{}`); give this one another `alias`",
                    first.ident
                ),
            );
        } else {
            seen.insert(name, field);
        }
    }
}
