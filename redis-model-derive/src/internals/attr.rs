//! Parsing `#[redis(...)]` into typed settings.
//!
//! Every mistake is reported into the [`Ctxt`] and parsing goes on with the next key, so one
//! build shows all of them. A key given twice is reported at its second occurrence, the one
//! to delete.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::{Ident, Lit, LitStr, Token};

use super::ctxt::Ctxt;
use super::symbol::*;

/// A setting with the tokens it was written with, to point errors at it later.
pub struct Spanned<T> {
    pub value: T,
    pub tokens: TokenStream,
}

/// One setting being parsed: set once, reported at the second occurrence if set again.
struct Attr<'c, T> {
    cx: &'c Ctxt,
    name: Symbol,
    value: Option<Spanned<T>>,
}

impl<'c, T> Attr<'c, T> {
    fn none(cx: &'c Ctxt, name: Symbol) -> Self {
        Attr {
            cx,
            name,
            value: None,
        }
    }

    fn set<A: ToTokens>(&mut self, obj: A, value: T) {
        let tokens = obj.into_token_stream();
        if self.value.is_some() {
            self.cx
                .error_spanned_by(tokens, format!("duplicate redis attribute `{}`", self.name));
        } else {
            self.value = Some(Spanned { value, tokens });
        }
    }

    fn get(self) -> Option<Spanned<T>> {
        self.value
    }
}

/// How documents are stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    Hash,
    Json,
}

/// The container attributes: `#[redis(prefix = "user", storage = "hash", index = "user-idx",
/// ttl = 3600, fields = "UserFields")]`.
pub struct Container {
    pub prefix: Option<Spanned<String>>,
    pub storage: Storage,
    pub index: Option<Spanned<String>>,
    pub ttl: Option<Spanned<u64>>,
    pub fields: Option<Spanned<Ident>>,
}

impl Container {
    pub fn from_ast(cx: &Ctxt, input: &syn::DeriveInput) -> Self {
        let mut prefix = Attr::none(cx, PREFIX);
        let mut storage = Attr::none(cx, STORAGE);
        let mut index = Attr::none(cx, INDEX);
        let mut ttl = Attr::none(cx, TTL);
        let mut fields = Attr::none(cx, FIELDS);

        for attr in input.attrs.iter().filter(|a| a.path() == REDIS) {
            if let syn::Meta::Path(_) = attr.meta {
                cx.error_spanned_by(attr, "expected settings: `#[redis(prefix = \"...\")]`");
                continue;
            }
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path == PREFIX {
                    if let Some(s) = lit_str(cx, &meta, PREFIX, "\"user\"")? {
                        if check_name(cx, &s, "prefix") {
                            prefix.set(&meta.path, s.value());
                        }
                    }
                } else if meta.path == INDEX {
                    if let Some(s) = lit_str(cx, &meta, INDEX, "\"user-idx\"")? {
                        if check_name(cx, &s, "index") {
                            index.set(&meta.path, s.value());
                        }
                    }
                } else if meta.path == STORAGE {
                    if let Some(s) = lit_str(cx, &meta, STORAGE, "\"hash\"")? {
                        match s.value().as_str() {
                            "hash" => storage.set(&meta.path, Storage::Hash),
                            "json" => storage.set(&meta.path, Storage::Json),
                            other => cx.error_spanned_by(
                                &s,
                                format!(
                                    "unknown storage \"{other}\": expected \"hash\" or \"json\""
                                ),
                            ),
                        }
                    }
                } else if meta.path == TTL {
                    if let Some((n, lit)) = lit_int::<u64>(cx, &meta, TTL, "3600")? {
                        if n == 0 {
                            cx.error_spanned_by(
                                lit,
                                "`ttl` is in seconds and must be at least 1; leave it out for documents that do not expire",
                            );
                        } else {
                            ttl.set(&meta.path, n);
                        }
                    }
                } else if meta.path == FIELDS {
                    if let Some(ident) = lit_ident(
                        cx,
                        &meta,
                        FIELDS,
                        "\"UserHandles\"",
                        "`fields` names the generated handles struct, so it must be a Rust identifier",
                    )? {
                        fields.set(&meta.path, ident);
                    }
                } else {
                    unknown(
                        cx,
                        &meta,
                        "container",
                        &[PREFIX, STORAGE, INDEX, TTL, FIELDS],
                    )?;
                }
                Ok(())
            });
            if let Err(err) = parsed {
                cx.syn_error(err);
            }
        }

        Container {
            prefix: prefix.get(),
            storage: storage.get().map_or(Storage::Hash, |s| s.value),
            index: index.get(),
            ttl: ttl.get(),
            fields: fields.get(),
        }
    }
}

/// The index kind a field declares.
pub enum Kind {
    Text,
    Tag,
    Numeric,
    Geo,
    Vector(Box<Vector>),
}

impl Kind {
    pub fn symbol(&self) -> Symbol {
        match self {
            Kind::Text => TEXT,
            Kind::Tag => TAG,
            Kind::Numeric => NUMERIC,
            Kind::Geo => GEO,
            Kind::Vector(_) => VECTOR,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Distance {
    L2,
    Ip,
    Cosine,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Flat,
    Hnsw,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Element {
    Float32,
    Float64,
}

impl Element {
    pub fn rust_name(self) -> &'static str {
        match self {
            Element::Float32 => "f32",
            Element::Float64 => "f64",
        }
    }
}

/// `vector(dim = 4, distance = "cosine", algorithm = "hnsw", type = "float32", m = 16,
/// ef_construction = 200)`.
pub struct Vector {
    /// Whether `dim` / `distance` were written at all (a bad value is reported once, not again
    /// as missing).
    pub dim_written: bool,
    pub distance_written: bool,
    pub dim: Option<Spanned<usize>>,
    pub distance: Option<Spanned<Distance>>,
    pub algorithm: Option<Spanned<Algorithm>>,
    pub element: Option<Spanned<Element>>,
    pub m: Option<Spanned<u32>>,
    pub ef_construction: Option<Spanned<u32>>,
}

/// The field attributes.
pub struct Field {
    pub id: Option<Spanned<()>>,
    pub version: Option<Spanned<()>>,
    pub kind: Option<Spanned<Kind>>,
    pub sortable: Option<Spanned<()>>,
    pub weight: Option<Spanned<f64>>,
    pub nostem: Option<Spanned<()>>,
    pub separator: Option<Spanned<char>>,
    pub case_sensitive: Option<Spanned<()>>,
    pub path: Option<Spanned<String>>,
    pub alias: Option<Spanned<Ident>>,
}

const FIELD_KEYS: &[Symbol] = &[
    ID,
    VERSION,
    TEXT,
    TAG,
    NUMERIC,
    GEO,
    VECTOR,
    WEIGHT,
    NOSTEM,
    SORTABLE,
    SEPARATOR,
    CASE_SENSITIVE,
    PATH,
    ALIAS,
];

impl Field {
    pub fn from_ast(cx: &Ctxt, field: &syn::Field) -> Self {
        let mut id = Attr::none(cx, ID);
        let mut version = Attr::none(cx, VERSION);
        let mut kind: Option<Spanned<Kind>> = None;
        let mut sortable = Attr::none(cx, SORTABLE);
        let mut weight = Attr::none(cx, WEIGHT);
        let mut nostem = Attr::none(cx, NOSTEM);
        let mut separator = Attr::none(cx, SEPARATOR);
        let mut case_sensitive = Attr::none(cx, CASE_SENSITIVE);
        let mut path = Attr::none(cx, PATH);
        let mut alias = Attr::none(cx, ALIAS);

        let mut set_kind = |word: &syn::Path, k: Kind| match &kind {
            Some(first) if first.value.symbol().0 == k.symbol().0 => {
                cx.error_spanned_by(word, format!("duplicate redis attribute `{}`", k.symbol()));
            }
            Some(first) => cx.error_spanned_by(
                word,
                format!(
                    "a field has one index kind: `{}` conflicts with `{}` declared before it",
                    k.symbol(),
                    first.value.symbol()
                ),
            ),
            None => {
                kind = Some(Spanned {
                    value: k,
                    tokens: word.to_token_stream(),
                })
            }
        };

        for attr in field.attrs.iter().filter(|a| a.path() == REDIS) {
            if let syn::Meta::Path(_) = attr.meta {
                cx.error_spanned_by(
                    attr,
                    "expected settings: `#[redis(...)]`, e.g. `#[redis(tag)]`",
                );
                continue;
            }
            let parsed = attr.parse_nested_meta(|meta| {
                let p = &meta.path;
                if p == ID {
                    if flag(cx, &meta, ID)? {
                        id.set(p, ());
                    }
                } else if p == VERSION {
                    if flag(cx, &meta, VERSION)? {
                        version.set(p, ());
                    }
                } else if p == TEXT {
                    if flag(cx, &meta, TEXT)? {
                        set_kind(p, Kind::Text);
                    }
                } else if p == TAG {
                    if flag(cx, &meta, TAG)? {
                        set_kind(p, Kind::Tag);
                    }
                } else if p == NUMERIC {
                    if flag(cx, &meta, NUMERIC)? {
                        set_kind(p, Kind::Numeric);
                    }
                } else if p == GEO {
                    if flag(cx, &meta, GEO)? {
                        set_kind(p, Kind::Geo);
                    }
                } else if p == VECTOR {
                    if let Some(v) = vector(cx, &meta)? {
                        set_kind(p, Kind::Vector(Box::new(v)));
                    }
                } else if p == SORTABLE {
                    if flag(cx, &meta, SORTABLE)? {
                        sortable.set(p, ());
                    }
                } else if p == NOSTEM {
                    if flag(cx, &meta, NOSTEM)? {
                        nostem.set(p, ());
                    }
                } else if p == CASE_SENSITIVE {
                    if flag(cx, &meta, CASE_SENSITIVE)? {
                        case_sensitive.set(p, ());
                    }
                } else if p == WEIGHT {
                    if let Some((w, lit)) = lit_float(cx, &meta, WEIGHT, "2.0")? {
                        if w.is_finite() && w > 0.0 {
                            weight.set(p, w);
                        } else {
                            cx.error_spanned_by(lit, "`weight` must be a positive number");
                        }
                    }
                } else if p == SEPARATOR {
                    if let Some(s) = lit_str(cx, &meta, SEPARATOR, "\",\"")? {
                        let value = s.value();
                        let mut chars = value.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) if !c.is_whitespace() => separator.set(p, c),
                            _ => cx.error_spanned_by(
                                &s,
                                "the tag separator is one character, not whitespace: `separator = \",\"`",
                            ),
                        }
                    }
                } else if p == PATH {
                    if let Some(s) = lit_str(cx, &meta, PATH, "\"$.address.city\"")? {
                        let value = s.value();
                        if value.starts_with('$') && !value.chars().any(char::is_whitespace) {
                            path.set(p, value);
                        } else {
                            cx.error_spanned_by(
                                &s,
                                "a JSON path starts at the document root `$`: `path = \"$.address.city\"`",
                            );
                        }
                    }
                } else if p == ALIAS {
                    if let Some(ident) = lit_ident(
                        cx,
                        &meta,
                        ALIAS,
                        "\"city\"",
                        "an alias names a field of the generated handles struct, so it must be a Rust identifier",
                    )? {
                        alias.set(p, ident);
                    }
                } else {
                    unknown(cx, &meta, "field", FIELD_KEYS)?;
                }
                Ok(())
            });
            if let Err(err) = parsed {
                cx.syn_error(err);
            }
        }

        Field {
            id: id.get(),
            version: version.get(),
            kind,
            sortable: sortable.get(),
            weight: weight.get(),
            nostem: nostem.get(),
            separator: separator.get(),
            case_sensitive: case_sensitive.get(),
            path: path.get(),
            alias: alias.get(),
        }
    }
}

const VECTOR_KEYS: &[Symbol] = &[DIM, DISTANCE, ALGORITHM, TYPE, M, EF_CONSTRUCTION];

/// `vector(...)`; `None` when it is too broken to use (the error is reported).
fn vector(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<Vector>> {
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(
            &meta.path,
            "`vector` needs its settings: `vector(dim = 4, distance = \"cosine\")`",
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let mut dim = Attr::none(cx, DIM);
    let mut distance = Attr::none(cx, DISTANCE);
    let mut algorithm = Attr::none(cx, ALGORITHM);
    let mut element = Attr::none(cx, TYPE);
    let mut m = Attr::none(cx, M);
    let mut ef_construction = Attr::none(cx, EF_CONSTRUCTION);
    let (mut dim_written, mut distance_written) = (false, false);
    meta.parse_nested_meta(|meta| {
        let p = &meta.path;
        if p == DIM {
            dim_written = true;
            if let Some((n, lit)) = lit_int::<usize>(cx, &meta, DIM, "4")? {
                if n == 0 {
                    cx.error_spanned_by(lit, "a vector's `dim` must be at least 1");
                } else {
                    dim.set(p, n);
                }
            }
        } else if p == DISTANCE {
            distance_written = true;
            if let Some(s) = lit_str(cx, &meta, DISTANCE, "\"cosine\"")? {
                match s.value().as_str() {
                    "cosine" => distance.set(p, Distance::Cosine),
                    "l2" => distance.set(p, Distance::L2),
                    "ip" => distance.set(p, Distance::Ip),
                    other => cx.error_spanned_by(
                        &s,
                        format!(
                            "unknown distance \"{other}\": expected \"cosine\", \"l2\" or \"ip\""
                        ),
                    ),
                }
            }
        } else if p == ALGORITHM {
            if let Some(s) = lit_str(cx, &meta, ALGORITHM, "\"hnsw\"")? {
                match s.value().as_str() {
                    "flat" => algorithm.set(p, Algorithm::Flat),
                    "hnsw" => algorithm.set(p, Algorithm::Hnsw),
                    other => cx.error_spanned_by(
                        &s,
                        format!("unknown algorithm \"{other}\": expected \"flat\" or \"hnsw\""),
                    ),
                }
            }
        } else if p == TYPE {
            if let Some(s) = lit_str(cx, &meta, TYPE, "\"float32\"")? {
                match s.value().as_str() {
                    "float32" => element.set(p, Element::Float32),
                    "float64" => element.set(p, Element::Float64),
                    other => cx.error_spanned_by(
                        &s,
                        format!(
                            "unknown vector type \"{other}\": expected \"float32\" or \"float64\""
                        ),
                    ),
                }
            }
        } else if p == M {
            if let Some((n, _)) = lit_int::<u32>(cx, &meta, M, "16")? {
                m.set(p, n);
            }
        } else if p == EF_CONSTRUCTION {
            if let Some((n, _)) = lit_int::<u32>(cx, &meta, EF_CONSTRUCTION, "200")? {
                ef_construction.set(p, n);
            }
        } else {
            unknown(cx, &meta, "vector", VECTOR_KEYS)?;
        }
        Ok(())
    })?;
    Ok(Some(Vector {
        dim_written,
        distance_written,
        dim: dim.get(),
        distance: distance.get(),
        algorithm: algorithm.get(),
        element: element.get(),
        m: m.get(),
        ef_construction: ef_construction.get(),
    }))
}

/// Checks a word-like name (prefix, index): not empty, no whitespace.
fn check_name(cx: &Ctxt, s: &LitStr, what: &str) -> bool {
    let value = s.value();
    if value.is_empty() || value.chars().any(char::is_whitespace) {
        cx.error_spanned_by(
            s,
            format!("the {what} must be non-empty and without whitespace"),
        );
        false
    } else {
        true
    }
}

/// A key that takes no value (`sortable`); `false` if one was given anyway.
fn flag(cx: &Ctxt, meta: &ParseNestedMeta, name: Symbol) -> syn::Result<bool> {
    if meta.input.is_empty() || meta.input.peek(Token![,]) {
        return Ok(true);
    }
    cx.error_spanned_by(
        &meta.path,
        format!("`{name}` takes no value: write just `{name}`"),
    );
    skip_value(meta)?;
    Ok(false)
}

/// The literal after `key = `; `None` (reported) when there is no `=` or it is no literal.
fn lit(cx: &Ctxt, meta: &ParseNestedMeta, name: Symbol, example: &str) -> syn::Result<Option<Lit>> {
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(
            &meta.path,
            format!("`{name}` takes a value: `{name} = {example}`"),
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let expr: syn::Expr = meta.value()?.parse()?;
    match expr {
        syn::Expr::Lit(syn::ExprLit { lit, .. }) => Ok(Some(lit)),
        other => {
            cx.error_spanned_by(
                other,
                format!("expected `{name} = {example}`: the value must be a literal"),
            );
            Ok(None)
        }
    }
}

fn lit_str(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    name: Symbol,
    example: &str,
) -> syn::Result<Option<LitStr>> {
    Ok(match lit(cx, meta, name, example)? {
        Some(Lit::Str(s)) => Some(s),
        Some(other) => {
            cx.error_spanned_by(other, format!("expected a string: `{name} = {example}`"));
            None
        }
        None => None,
    })
}

/// A string holding a Rust identifier, spanned at the string.
fn lit_ident(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    name: Symbol,
    example: &str,
    why: &str,
) -> syn::Result<Option<Ident>> {
    let Some(s) = lit_str(cx, meta, name, example)? else {
        return Ok(None);
    };
    Ok(match syn::parse_str::<Ident>(&s.value()) {
        Ok(mut ident) => {
            ident.set_span(s.span());
            Some(ident)
        }
        Err(_) => {
            cx.error_spanned_by(&s, why);
            None
        }
    })
}

fn lit_int<N>(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    name: Symbol,
    example: &str,
) -> syn::Result<Option<(N, syn::LitInt)>>
where
    N: std::str::FromStr,
    N::Err: std::fmt::Display,
{
    Ok(match lit(cx, meta, name, example)? {
        Some(Lit::Int(i)) => match i.base10_parse::<N>() {
            Ok(n) => Some((n, i)),
            Err(e) => {
                cx.error_spanned_by(&i, format!("`{name}`: {e}"));
                None
            }
        },
        Some(other) => {
            cx.error_spanned_by(other, format!("expected an integer: `{name} = {example}`"));
            None
        }
        None => None,
    })
}

fn lit_float(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    name: Symbol,
    example: &str,
) -> syn::Result<Option<(f64, Lit)>> {
    Ok(match lit(cx, meta, name, example)? {
        Some(Lit::Float(f)) => match f.base10_parse::<f64>() {
            Ok(n) => Some((n, Lit::Float(f))),
            Err(e) => {
                cx.error_spanned_by(&f, format!("`{name}`: {e}"));
                None
            }
        },
        Some(Lit::Int(i)) => match i.base10_parse::<f64>() {
            Ok(n) => Some((n, Lit::Int(i))),
            Err(e) => {
                cx.error_spanned_by(&i, format!("`{name}`: {e}"));
                None
            }
        },
        Some(other) => {
            cx.error_spanned_by(other, format!("expected a number: `{name} = {example}`"));
            None
        }
        None => None,
    })
}

/// Reports an unknown key (with the closest known one, if it is a likely typo) and skips its
/// value, so the keys after it are still checked.
fn unknown(cx: &Ctxt, meta: &ParseNestedMeta, place: &str, known: &[Symbol]) -> syn::Result<()> {
    let name = meta.path.to_token_stream().to_string().replace(' ', "");
    let closest = known
        .iter()
        .map(|k| (edit_distance(&name, k.0), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d);
    let msg = match closest {
        Some((_, k)) => format!("unknown redis {place} attribute `{name}`; did you mean `{k}`?"),
        None => {
            let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
            format!(
                "unknown redis {place} attribute `{name}`; expected one of {}",
                list.join(", ")
            )
        }
    };
    cx.error_spanned_by(&meta.path, msg);
    skip_value(meta)
}

/// Consumes whatever follows a key: `= expr` or `(...)`.
pub(super) fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    let input: ParseStream = meta.input;
    if input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}
