//! Randomness (injected), secret values and their digests.
//!
//! Codes, refresh tokens, session ids and client secrets are 256-bit random values. They are
//! stored only as SHA-256 digests: a slow password hash is for low-entropy secrets, and on the
//! token endpoint it would cap throughput at a few dozen requests per second (ADR 0006).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::sync::Mutex;

pub trait Random: Send + Sync + 'static {
    fn fill(&self, dest: &mut [u8]);
}

/// The operating system's CSPRNG (through aws-lc).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, dest: &mut [u8]) {
        // Failure means the kernel cannot supply randomness; continuing would hand out guessable
        // secrets, so stopping is the only safe answer.
        #[allow(clippy::expect_used)]
        aws_lc_rs::rand::fill(dest).expect("the operating system's random source failed");
    }
}

/// Reproducible bytes for tests (splitmix64); never for production secrets.
#[derive(Debug)]
pub struct SeededRandom(Mutex<u64>);

impl SeededRandom {
    pub fn new(seed: u64) -> SeededRandom {
        SeededRandom(Mutex::new(seed))
    }
}

impl Random for SeededRandom {
    fn fill(&self, dest: &mut [u8]) {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for chunk in dest.chunks_mut(8) {
            *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

/// A new 256-bit secret, base64url without padding (43 characters).
pub fn secret(random: &dyn Random) -> String {
    let mut bytes = [0u8; 32];
    random.fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new 128-bit identifier in lowercase hex (for records that are not secrets).
pub fn id(random: &dyn Random) -> String {
    let mut bytes = [0u8; 16];
    random.fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 digest of a secret, base64url: what the store keeps instead of the secret.
pub fn digest(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes()))
}

/// Compares secrets without leaking through timing where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_256_bit_and_distinct() {
        let a = secret(&OsRandom);
        let b = secret(&OsRandom);
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(id(&OsRandom).len(), 32);
    }

    #[test]
    fn seeded_random_is_reproducible() {
        assert_eq!(secret(&SeededRandom::new(7)), secret(&SeededRandom::new(7)));
        assert_ne!(secret(&SeededRandom::new(7)), secret(&SeededRandom::new(8)));
    }

    #[test]
    fn digest_is_sha256_base64url() {
        // SHA-256("abc") from FIPS 180-2, base64url.
        assert_eq!(digest("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
        assert!(constant_time_eq("x", "x"));
        assert!(!constant_time_eq("x", "y"));
        assert!(!constant_time_eq("x", "xx"));
    }
}
