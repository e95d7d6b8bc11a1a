//! What each instance keeps for itself: the key and catalogue snapshots, the client cache, the
//! password-hashing threads and the refresh-token writer. Everything else lives in the store.

pub mod catalogue;
pub mod clients;
pub mod hashing;
pub mod keys;
pub mod rotation;
