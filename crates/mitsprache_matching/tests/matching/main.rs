//! The matching engine against data-driven cases and properties.

// Helpers return plain values; a failed unwrap is the failure message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cases;
mod properties;
