//! TradeCaptain's Rust kernels, loaded by the Deno core through `Deno.dlopen`.
//!
//! - [`record`]: the 64-byte command and event records (the wire between
//!   Deno and the engine, later the journal).
//! - [`book`] and [`matcher`]: the pure matching core, `(state, command) -> events`.
//! - [`engine`]: the engine layer: the matcher on a pinned thread behind
//!   shared-memory rings, with risk ([`risk`]), the journal ([`journal`]),
//!   snapshots ([`snapshot`]) and recovery around it, one part per job.
//! - [`cursor`]: the little-endian field reader that decoders share; it
//!   depends on nothing, so no decoder imports the format around it.
//! - [`ffi`]: every exported C function. [`sys`]: every OS call.
//!
//! This crate does no network I/O and never calls into JavaScript.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod book;
pub mod cursor;
pub mod engine;
pub mod ffi;
pub mod ids;
pub mod journal;
pub mod matcher;
pub mod record;
pub mod risk;
pub mod snapshot;
pub mod sys;
pub mod timing;
