//! The provider's key set: the stored keys (private keys as PKCS#8, public keys as JWK), the
//! snapshot an instance signs and verifies with, and new keys for a rotation. Retired public keys
//! stay published until every token they signed has expired.

use crate::jose::{Alg, Jwk, SigningKey};
use crate::random::{Random, id};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::sync::Arc;
use time::OffsetDateTime;

/// A key as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    pub alg: Alg,
    /// PKCS#8 DER, base64.
    pub private_key: String,
    /// The public JWK as JSON.
    pub public_jwk: String,
    pub created_at: OffsetDateTime,
    pub retired_at: Option<OffsetDateTime>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("stored signing key {0} cannot be read")]
    Corrupt(String),
    #[error("a signing key cannot be generated")]
    Generate,
}

/// The keys one instance signs and verifies with.
#[derive(Debug, Default)]
pub struct KeySet {
    es256: Option<Arc<SigningKey>>,
    rs256: Option<Arc<SigningKey>>,
    /// Every key that may have signed a live token, active ones first.
    pub published: Vec<Jwk>,
    /// The kids this set was built from, to notice a rotation made by another instance.
    pub kids: Vec<String>,
}

impl KeySet {
    /// The set of `stored` (oldest first, as the store lists them); keys retired more than
    /// `keep_retired` before `now` are left out.
    pub fn build(stored: &[StoredKey], now: OffsetDateTime, keep_retired: time::Duration) -> Result<KeySet, KeyError> {
        let mut set = KeySet { kids: stored.iter().map(|k| k.kid.clone()).collect(), ..KeySet::default() };
        // Newest first, so the newest active key of each algorithm wins.
        for k in stored.iter().rev() {
            if k.retired_at.is_some_and(|r| r < now - keep_retired) {
                continue;
            }
            let corrupt = || KeyError::Corrupt(k.kid.clone());
            let jwk: Jwk = serde_json::from_str(&k.public_jwk).map_err(|_| corrupt())?;
            if k.retired_at.is_some() {
                set.published.push(jwk);
                continue;
            }
            let slot = match k.alg {
                Alg::ES256 => &mut set.es256,
                Alg::RS256 => &mut set.rs256,
            };
            if slot.is_none() {
                let der = STANDARD.decode(&k.private_key).map_err(|_| corrupt())?;
                *slot = Some(Arc::new(SigningKey::from_pkcs8(k.alg, k.kid.clone(), &der).map_err(|_| corrupt())?));
            }
            set.published.insert(0, jwk);
        }
        Ok(set)
    }

    /// The active key of an algorithm.
    pub fn signer(&self, alg: Alg) -> Option<&SigningKey> {
        match alg {
            Alg::ES256 => self.es256.as_deref(),
            Alg::RS256 => self.rs256.as_deref(),
        }
    }

    /// Whether both algorithms have an active key.
    pub fn is_complete(stored: &[StoredKey]) -> bool {
        let active = |alg| stored.iter().any(|k| k.alg == alg && k.retired_at.is_none());
        active(Alg::ES256) && active(Alg::RS256)
    }
}

/// A new ES256 and RS256 key, to be stored while the previous ones are retired.
pub fn generate(random: &dyn Random, now: OffsetDateTime) -> Result<Vec<StoredKey>, KeyError> {
    [Alg::ES256, Alg::RS256]
        .into_iter()
        .map(|alg| {
            let kid = format!("{}-{}", alg.as_str().to_ascii_lowercase(), &id(random)[..12]);
            let key = SigningKey::generate(alg, kid.clone()).map_err(|_| KeyError::Generate)?;
            let der = key.pkcs8().map_err(|_| KeyError::Generate)?;
            Ok(StoredKey {
                kid,
                alg,
                private_key: STANDARD.encode(der),
                public_jwk: serde_json::to_string(&key.public_jwk()).map_err(|_| KeyError::Generate)?,
                created_at: now,
                retired_at: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    #[test]
    fn the_newest_active_key_signs_and_retired_ones_stay_published_for_a_while() {
        let t0 = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let mut stored = generate(&SeededRandom::new(1), t0).unwrap();
        for k in &mut stored {
            k.retired_at = Some(t0 + time::Duration::seconds(10));
        }
        let newer = generate(&SeededRandom::new(2), t0 + time::Duration::seconds(10)).unwrap();
        stored.extend(newer.clone());
        assert!(KeySet::is_complete(&stored));
        let keep = time::Duration::seconds(900);
        let set = KeySet::build(&stored, t0 + time::Duration::seconds(20), keep).unwrap();
        assert_eq!(set.signer(Alg::ES256).unwrap().kid(), newer[0].kid);
        assert_eq!(set.published.len(), 4);
        assert_eq!(set.published[0].kid.as_deref(), Some(newer[0].kid.as_str()), "active keys first");
        let later = KeySet::build(&stored, t0 + time::Duration::seconds(2000), keep).unwrap();
        assert_eq!(later.published.len(), 2, "retired keys leave once their tokens have expired");
    }
}
