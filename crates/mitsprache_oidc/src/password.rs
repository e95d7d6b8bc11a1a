//! Password hashing with Argon2id at OWASP's parameters (m = 19 MiB, t = 2, p = 1). Stored as
//! PHC strings, so a hash made with older parameters is recognised and rehashed at the next
//! successful login.
//!
//! Each thread reuses one Argon2 memory buffer: allocating 19 MiB per hash leaves freed blocks
//! in every allocator arena that ever ran a hash, and a login burst grew the process by
//! hundreds of megabytes. Callers run hashes on a small fixed set of threads.

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use std::cell::RefCell;

use crate::random::Random;

/// The minimum length the hub accepts; NIST SP 800-63B asks for at least 8 and no composition rules.
pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Cost {
    fn default() -> Self {
        Cost { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("the password must have at least {MIN_LENGTH} characters")]
    TooShort,
    #[error("the password must have at most {MAX_LENGTH} characters")]
    TooLong,
    #[error("the password must not contain control characters")]
    Control,
    #[error(
        "the password is too easy to guess (a common password, a repetition or sequence, or a word of this hub or of the address)"
    )]
    Guessable,
    #[error("the stored hash cannot be read")]
    Corrupt,
}

/// Words of this service a person might build a password from (NIST SP 800-63B §3.1.1.2:
/// "context-specific words"), in German and English.
const CONTEXT_WORDS: [&str; 8] =
    ["mitsprache", "beteiligung", "buergerbeteiligung", "passwort", "kennwort", "participation", "password", "hub"];

/// zxcvbn's matching is quadratic in the length; a prefix this long already tells a guessable
/// password from a good one.
const CHECKED_PREFIX: usize = 100;

/// NIST SP 800-63B §3.1.1.2: at least [`MIN_LENGTH`] characters, no composition rules, and not
/// a password that is commonly used, repetitive or sequential, or built from words of the
/// service or of the person (`context`: the address, the name). Guessability is zxcvbn's
/// estimate (Dropbox's algorithm, with its frequency lists of breached passwords and common
/// words); below 10^6 guesses is refused, which is where zxcvbn stops calling a password
/// "very guessable".
pub fn check_policy(password: &str, context: &[&str]) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        return Err(PasswordError::TooShort);
    }
    if n > MAX_LENGTH {
        return Err(PasswordError::TooLong);
    }
    if password.chars().any(char::is_control) {
        return Err(PasswordError::Control);
    }
    let prefix: String = password.chars().take(CHECKED_PREFIX).collect();
    let mut words: Vec<&str> = CONTEXT_WORDS.to_vec();
    words.extend(context.iter().copied().filter(|w| w.chars().count() >= 3));
    if zxcvbn::zxcvbn(&prefix, &words).score() < zxcvbn::Score::Two {
        return Err(PasswordError::Guessable);
    }
    Ok(())
}

fn argon(cost: Cost) -> Result<Argon2<'static>, PasswordError> {
    let params =
        Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None).map_err(|_| PasswordError::Corrupt)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

thread_local! {
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// The raw Argon2id output for `password` and `salt`, computed in this thread's buffer.
fn raw(password: &str, salt: &[u8], cost: Cost, out: &mut [u8]) -> Result<(), PasswordError> {
    let argon = argon(cost)?;
    let blocks = argon.params().block_count();
    BLOCKS.with(|cell| {
        let mut buffer = cell.borrow_mut();
        if buffer.len() != blocks {
            buffer.clear();
            buffer.resize(blocks, Block::default());
            buffer.shrink_to_fit();
        }
        argon
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut buffer[..])
            .map_err(|_| PasswordError::Corrupt)
    })
}

pub fn hash(password: &str, cost: Cost, random: &dyn Random) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    random.fill(&mut salt);
    let mut out = [0u8; 32];
    raw(password, &salt, cost, &mut out)?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        cost.memory_kib,
        cost.iterations,
        cost.parallelism,
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    ))
}

/// Whether `password` matches `stored` (the parameters are read from the PHC string).
pub fn verify(password: &str, stored: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(stored).map_err(|_| PasswordError::Corrupt)?;
    if parsed.algorithm.as_str() != "argon2id" || parsed.version.is_some_and(|v| v != 0x13) {
        return Err(PasswordError::Corrupt);
    }
    let params = Params::try_from(&parsed).map_err(|_| PasswordError::Corrupt)?;
    let cost = Cost { memory_kib: params.m_cost(), iterations: params.t_cost(), parallelism: params.p_cost() };
    let mut salt = [0u8; 64];
    let salt = parsed.salt.ok_or(PasswordError::Corrupt)?.decode_b64(&mut salt).map_err(|_| PasswordError::Corrupt)?;
    let expected = parsed.hash.ok_or(PasswordError::Corrupt)?;
    let mut out = vec![0u8; expected.len()];
    raw(password, salt, cost, &mut out)?;
    Ok(aws_lc_rs::constant_time::verify_slices_are_equal(&out, expected.as_bytes()).is_ok())
}

/// Whether `stored` was made with other parameters than `cost` (or another algorithm).
pub fn needs_rehash(stored: &str, cost: Cost) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return true };
    let Ok(params) = Params::try_from(&parsed) else { return true };
    parsed.algorithm.as_str() != "argon2id"
        || params.m_cost() != cost.memory_kib
        || params.t_cost() != cost.iterations
        || params.p_cost() != cost.parallelism
}

/// A hash of a random password at the given cost, verified against when an e-mail address is
/// unknown so that the answer takes as long as for a known one (no account enumeration).
pub fn decoy(cost: Cost, random: &dyn Random) -> Result<String, PasswordError> {
    hash(&crate::random::secret(random), cost, random)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    const CHEAP: Cost = Cost { memory_kib: 64, iterations: 1, parallelism: 1 };

    #[test]
    fn hashes_verify_and_record_their_parameters() {
        let rng = SeededRandom::new(1);
        let stored = hash("correct horse battery", CHEAP, &rng).unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{stored}");
        assert!(verify("correct horse battery", &stored).unwrap());
        assert!(!verify("wrong horse battery", &stored).unwrap());
        assert!(!needs_rehash(&stored, CHEAP));
        assert!(needs_rehash(&stored, Cost::default()));
        assert_eq!(verify("x", "not a hash"), Err(PasswordError::Corrupt));
    }

    #[test]
    fn default_cost_is_owasp() {
        let stored = hash("correct horse battery", Cost::default(), &SeededRandom::new(2)).unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    }

    #[test]
    fn hashes_are_standard_phc_strings() {
        // A hash made by the argon2 crate's own PHC encoder verifies here, and ours there.
        use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
        let argon = argon(CHEAP).unwrap();
        let theirs = argon
            .hash_password(b"correct horse battery", &SaltString::encode_b64(&[7u8; 16]).unwrap())
            .unwrap()
            .to_string();
        assert!(verify("correct horse battery", &theirs).unwrap());
        let ours = hash("correct horse battery", CHEAP, &SeededRandom::new(3)).unwrap();
        assert!(argon.verify_password(b"correct horse battery", &PasswordHash::new(&ours).unwrap()).is_ok());
    }

    #[test]
    fn policy_counts_characters() {
        assert_eq!(check_policy("kurz", &[]), Err(PasswordError::TooShort));
        assert!(check_policy("äöü Grüße aus Köln", &[]).is_ok());
        assert_eq!(check_policy(&"x".repeat(257), &[]), Err(PasswordError::TooLong));
    }

    #[test]
    fn common_repetitive_sequential_and_context_passwords_are_refused() {
        // What the December 2026 probe saw accepted, and the usual suspects.
        for weak in [
            "aaaaaaaaaa",
            "1234567890",
            "passwort12",
            "password123",
            "          ",
            "qwertzuiop",
            "abcdefghijk",
            "mitsprache123",
            "erika.mustermann",
        ] {
            assert_eq!(
                check_policy(weak, &["erika.mustermann", "Erika Mustermann"]),
                Err(PasswordError::Guessable),
                "{weak:?}"
            );
        }
        assert_eq!(check_policy(&"\0".repeat(10), &[]), Err(PasswordError::Control));
        assert_eq!(check_policy("ein langes\npasswort", &[]), Err(PasswordError::Control));
    }

    #[test]
    fn passphrases_pass() {
        for good in [
            "ein langer geheimer Satz",
            "ein Satz als Passwort für node",
            "EditorPass-12345!",
            "Brücke über die Trave 1143",
            "correct horse battery staple",
        ] {
            assert_eq!(check_policy(good, &["erika@example.org"]), Ok(()), "{good:?}");
        }
    }
}
