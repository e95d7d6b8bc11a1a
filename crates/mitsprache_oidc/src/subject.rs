//! Subject identifiers (OIDC Core §8). Pairwise by default: each sector (the host of a tool's
//! redirect URIs, or of its sector identifier URI) sees its own `sub` for a person, so two tools
//! cannot link a citizen by comparing identifiers. The hub keeps the mapping implicitly: the
//! value is derived from a hub secret, the sector and the account id, and cannot be reversed.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectType {
    #[default]
    Pairwise,
    Public,
}

/// The `sub` a client sees for an account.
pub fn subject(secret: &[u8], subject_type: SubjectType, sector: &str, account_id: &str) -> String {
    match subject_type {
        SubjectType::Public => account_id.to_owned(),
        SubjectType::Pairwise => {
            let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
            let mut ctx = hmac::Context::with_key(&key);
            // The separator keeps ("ab", "c") and ("a", "bc") apart.
            ctx.update(sector.as_bytes());
            ctx.update(&[0]);
            ctx.update(account_id.as_bytes());
            URL_SAFE_NO_PAD.encode(ctx.sign().as_ref())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_subjects_differ_per_sector_and_are_stable() {
        let secret = [7u8; 32];
        let a = subject(&secret, SubjectType::Pairwise, "decidim.example", "u1");
        let b = subject(&secret, SubjectType::Pairwise, "consul.example", "u1");
        assert_ne!(a, b);
        assert_eq!(a, subject(&secret, SubjectType::Pairwise, "decidim.example", "u1"));
        assert_ne!(a, subject(&[8u8; 32], SubjectType::Pairwise, "decidim.example", "u1"));
        assert!(!a.contains("u1"));
        assert_eq!(subject(&secret, SubjectType::Public, "x", "u1"), "u1");
    }
}
