//! Proof Key for Code Exchange (RFC 7636), S256 only: `plain` would let anyone who sees the
//! authorization request redeem the code (RFC 9700 §2.1.1).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    #[error("code_challenge_method must be S256")]
    Method,
    #[error("code_challenge must be 43 base64url characters (a SHA-256 digest)")]
    Challenge,
    #[error("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]")]
    VerifierFormat,
    #[error("code_verifier does not match the code_challenge")]
    Mismatch,
}

/// Checks the challenge of an authorization request. A missing method means `plain` (RFC 7636
/// §4.3), which is refused.
pub fn check_challenge(challenge: &str, method: Option<&str>) -> Result<(), PkceError> {
    if method != Some("S256") {
        return Err(PkceError::Method);
    }
    let decoded = URL_SAFE_NO_PAD.decode(challenge).map_err(|_| PkceError::Challenge)?;
    if challenge.len() != 43 || decoded.len() != 32 {
        return Err(PkceError::Challenge);
    }
    Ok(())
}

/// The SHA-256 of a verifier, which base64url-encoded is its S256 challenge.
pub fn s256(verifier: &str) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref().to_vec()
}

/// Checks a token request's verifier against the stored challenge.
pub fn verify(verifier: &str, challenge: &str) -> Result<(), PkceError> {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return Err(PkceError::VerifierFormat);
    }
    let computed = URL_SAFE_NO_PAD.encode(s256(verifier));
    if crate::random::constant_time_eq(&computed, challenge) { Ok(()) } else { Err(PkceError::Mismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_example_verifies() {
        check_challenge(CHALLENGE, Some("S256")).unwrap();
        verify(VERIFIER, CHALLENGE).unwrap();
    }

    #[test]
    fn plain_and_bad_values_are_refused() {
        assert_eq!(check_challenge(CHALLENGE, None), Err(PkceError::Method));
        assert_eq!(check_challenge(CHALLENGE, Some("plain")), Err(PkceError::Method));
        assert_eq!(check_challenge("short", Some("S256")), Err(PkceError::Challenge));
        assert_eq!(verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX", CHALLENGE), Err(PkceError::Mismatch));
        assert_eq!(verify("too-short", CHALLENGE), Err(PkceError::VerifierFormat));
        assert_eq!(verify(&format!("{VERIFIER}!"), CHALLENGE), Err(PkceError::VerifierFormat));
    }
}
