//! The provider's signing keys: loaded from the store into a snapshot that requests read without
//! locking, created on first start, rotated by `mitsprache keys rotate`. Retired public keys stay
//! in the JWKS until every token they signed has expired.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mitsprache_oidc::jose::{Alg, Jwk, SigningKey};
use mitsprache_oidc::random::{Random, id};
use mitsprache_store::{Store, StoreError, StoredKey};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
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
    /// The default key (ES256), or RS256 when asked for.
    pub fn signer(&self, alg: Alg) -> Option<&SigningKey> {
        match alg {
            Alg::ES256 => self.es256.as_deref(),
            Alg::RS256 => self.rs256.as_deref(),
        }
    }
}

/// Reads the keys; those retired more than `keep_retired` seconds ago are left out.
pub async fn load(store: &Store, now: i64, keep_retired: i64) -> Result<KeySet, KeyError> {
    let stored = store.identity().keys().await?;
    let mut set = KeySet { kids: stored.iter().map(|k| k.kid.clone()).collect(), ..KeySet::default() };
    // Newest last in the store's order; iterate newest first so the active key wins.
    for k in stored.iter().rev() {
        let alg = Alg::parse(&k.alg).ok_or_else(|| KeyError::Corrupt(k.kid.clone()))?;
        if k.retired_at.is_some_and(|r| r < now - keep_retired) {
            continue;
        }
        let jwk: Jwk = serde_json::from_str(&k.public_jwk).map_err(|_| KeyError::Corrupt(k.kid.clone()))?;
        if k.retired_at.is_none() {
            let slot = match alg {
                Alg::ES256 => &mut set.es256,
                Alg::RS256 => &mut set.rs256,
            };
            if slot.is_none() {
                let der = STANDARD.decode(&k.private_key).map_err(|_| KeyError::Corrupt(k.kid.clone()))?;
                let key =
                    SigningKey::from_pkcs8(alg, k.kid.clone(), &der).map_err(|_| KeyError::Corrupt(k.kid.clone()))?;
                *slot = Some(Arc::new(key));
            }
            set.published.insert(0, jwk);
        } else {
            set.published.push(jwk);
        }
    }
    Ok(set)
}

/// Generates a new ES256 and RS256 key and retires the previous ones.
pub async fn rotate(store: &Store, now: i64, random: &dyn Random) -> Result<Vec<String>, KeyError> {
    let mut new = Vec::new();
    for alg in [Alg::ES256, Alg::RS256] {
        let kid = format!("{}-{}", alg.as_str().to_ascii_lowercase(), &id(random)[..12]);
        let key = SigningKey::generate(alg, kid.clone()).map_err(|_| KeyError::Generate)?;
        let der = key.pkcs8().map_err(|_| KeyError::Generate)?;
        new.push(StoredKey {
            kid,
            alg: alg.as_str().into(),
            private_key: STANDARD.encode(der),
            public_jwk: serde_json::to_string(&key.public_jwk()).map_err(|_| KeyError::Generate)?,
            created_at: now,
            retired_at: None,
        });
    }
    store.identity().rotate_keys(&new, now).await?;
    Ok(new.into_iter().map(|k| k.kid).collect())
}

/// Creates the first keys when the store has none.
pub async fn ensure(store: &Store, now: i64, random: &dyn Random) -> Result<bool, KeyError> {
    let keys = store.identity().keys().await?;
    let has = |alg: &str| keys.iter().any(|k| k.alg == alg && k.retired_at.is_none());
    if has("ES256") && has("RS256") {
        return Ok(false);
    }
    rotate(store, now, random).await?;
    Ok(true)
}
