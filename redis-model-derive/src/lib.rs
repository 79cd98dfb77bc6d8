//! `#[derive(RedisModel)]`. Being written.
use proc_macro::TokenStream;

#[proc_macro_derive(RedisModel, attributes(redis))]
pub fn derive_redis_model(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
