//! The wire protocol: RESP2 and RESP3 frames, their decoding and encoding, and conversions.
//!
//! Bytes flow `decode` → [`Value`] → [`FromRedis`] on the way in, and
//! [`Cmd`](crate::Cmd) → `encode` on the way out.

mod decode;
mod encode;
mod from;
mod value;

pub use decode::{DecodeLimits, Decoder};
pub use encode::encode_value;
pub(crate) use encode::{decimal, put_bulk, put_header};
pub use from::FromRedis;
pub(crate) use from::{mismatch, pairs};
pub use value::{ServerError, Value};

#[cfg(test)]
mod proptests;
