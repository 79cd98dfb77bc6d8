//! The wire protocol: RESP2 and RESP3 frames, their decoding and encoding, and conversions.
//!
//! Bytes flow `decode` → [`Frame`] → [`Value`] → [`FromRedis`] on the way in (typed decoders
//! read a frame in place instead), and
//! [`Cmd`](crate::Cmd) → `encode` on the way out.

mod decode;
mod encode;
mod frame;
mod from;
mod value;

pub use decode::{DecodeLimits, Decoder};
pub use encode::encode_value;
pub(crate) use encode::{decimal, put_bulk, put_header};
pub use frame::Frame;
pub(crate) use frame::{FrameReader, Token};
pub use from::FromRedis;
pub(crate) use from::{mismatch, pairs, take_field};
pub use value::{ServerError, Value};

#[cfg(test)]
mod proptests;
