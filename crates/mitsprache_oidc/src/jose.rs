//! Signing keys, JWKs and compact JWS (RFC 7515/7517/7518) for the two algorithms the provider
//! uses: ES256 (the default, fast) and RS256 (mandatory for OpenID providers, OIDC Core §15.1).
//! The cryptography is aws-lc's; this module only frames it.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Alg {
    ES256,
    RS256,
}

impl Alg {
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::ES256 => "ES256",
            Alg::RS256 => "RS256",
        }
    }

    pub fn parse(s: &str) -> Option<Alg> {
        match s {
            "ES256" => Some(Alg::ES256),
            "RS256" => Some(Alg::RS256),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JoseError {
    #[error("the key cannot be created or read")]
    Key,
    #[error("the token is not a compact JWS")]
    Malformed,
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    #[error("no key matches the token")]
    UnknownKey,
    #[error("the signature is invalid")]
    Signature,
}

enum Inner {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// A private signing key with its key id.
pub struct SigningKey {
    kid: String,
    alg: Alg,
    inner: Inner,
}

impl std::fmt::Debug for SigningKey {
    // Never prints key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new key from the operating system's randomness (P-256 or RSA-2048).
    pub fn generate(alg: Alg, kid: String) -> Result<SigningKey, JoseError> {
        let inner = match alg {
            Alg::ES256 => {
                Inner::Ec(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(|_| JoseError::Key)?)
            }
            Alg::RS256 => Inner::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| JoseError::Key)?),
        };
        Ok(SigningKey { kid, alg, inner })
    }

    /// A key from its PKCS#8 DER encoding, as [`SigningKey::pkcs8`] wrote it.
    pub fn from_pkcs8(alg: Alg, kid: String, der: &[u8]) -> Result<SigningKey, JoseError> {
        let inner = match alg {
            Alg::ES256 => {
                Inner::Ec(EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(|_| JoseError::Key)?)
            }
            Alg::RS256 => Inner::Rsa(RsaKeyPair::from_pkcs8(der).map_err(|_| JoseError::Key)?),
        };
        Ok(SigningKey { kid, alg, inner })
    }

    pub fn pkcs8(&self) -> Result<Vec<u8>, JoseError> {
        match &self.inner {
            Inner::Ec(k) => Ok(k.to_pkcs8v1().map_err(|_| JoseError::Key)?.as_ref().to_vec()),
            Inner::Rsa(k) => {
                let der: aws_lc_rs::encoding::Pkcs8V1Der<'static> = k.as_der().map_err(|_| JoseError::Key)?;
                Ok(der.as_ref().to_vec())
            }
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    pub fn public_jwk(&self) -> Jwk {
        match &self.inner {
            Inner::Ec(k) => {
                // Uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
                let point = k.public_key().as_ref();
                Jwk {
                    kty: "EC".into(),
                    kid: Some(self.kid.clone()),
                    alg: Some("ES256".into()),
                    use_: Some("sig".into()),
                    crv: Some("P-256".into()),
                    x: Some(URL_SAFE_NO_PAD.encode(&point[1..33])),
                    y: Some(URL_SAFE_NO_PAD.encode(&point[33..65])),
                    n: None,
                    e: None,
                }
            }
            Inner::Rsa(k) => {
                let public = k.public_key();
                Jwk {
                    kty: "RSA".into(),
                    kid: Some(self.kid.clone()),
                    alg: Some("RS256".into()),
                    use_: Some("sig".into()),
                    crv: None,
                    x: None,
                    y: None,
                    n: Some(URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero())),
                    e: Some(URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero())),
                }
            }
        }
    }

    /// Signs `claims` as a compact JWS with `typ` in the header (e.g. `at+jwt`, RFC 9068).
    pub fn sign(&self, typ: &str, claims: &impl Serialize) -> Result<String, JoseError> {
        let header = serde_json::json!({ "alg": self.alg.as_str(), "kid": self.kid, "typ": typ });
        let mut token = String::with_capacity(512);
        URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(&header).map_err(|_| JoseError::Malformed)?, &mut token);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(claims).map_err(|_| JoseError::Malformed)?, &mut token);
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let signature = match &self.inner {
            Inner::Ec(k) => k.sign(&rng, token.as_bytes()).map_err(|_| JoseError::Key)?.as_ref().to_vec(),
            Inner::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, token.as_bytes(), &mut sig).map_err(|_| JoseError::Key)?;
                sig
            }
        };
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }
}

/// A public JSON Web Key (RFC 7517) for EC P-256 or RSA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwk {
    /// Whether this key can check a signature of `alg`.
    fn fits(&self, alg: Alg) -> bool {
        let kty_ok = match alg {
            Alg::ES256 => self.kty == "EC" && self.crv.as_deref() == Some("P-256"),
            Alg::RS256 => self.kty == "RSA",
        };
        kty_ok
            && self.alg.as_deref().is_none_or(|a| a == alg.as_str())
            && self.use_.as_deref().is_none_or(|u| u == "sig")
    }

    fn verify(&self, alg: Alg, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        let b64 = |v: &Option<String>| -> Result<Vec<u8>, JoseError> {
            URL_SAFE_NO_PAD.decode(v.as_deref().ok_or(JoseError::Key)?).map_err(|_| JoseError::Key)
        };
        match alg {
            Alg::ES256 => {
                let (x, y) = (b64(&self.x)?, b64(&self.y)?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(JoseError::Key);
                }
                let mut point = Vec::with_capacity(65);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .map_err(|_| JoseError::Signature)
            }
            Alg::RS256 => {
                let key = RsaPublicKeyComponents { n: b64(&self.n)?, e: b64(&self.e)? };
                key.verify(&RSA_PKCS1_2048_8192_SHA256, message, signature).map_err(|_| JoseError::Signature)
            }
        }
    }
}

/// The decoded parts of a verified token.
#[derive(Debug, Clone)]
pub struct Verified {
    pub header: Value,
    pub claims: Value,
}

/// Checks a compact JWS against `keys` and returns its header and claims. Only ES256 and RS256
/// are accepted (never `none` or HMAC with a public key as secret). Claims such as `exp`, `iss`
/// and `aud` are the caller's to check.
pub fn verify(token: &str, keys: &[Jwk]) -> Result<Verified, JoseError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JoseError::Malformed);
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| JoseError::Malformed);
    let header: Value = serde_json::from_slice(&decode(h)?).map_err(|_| JoseError::Malformed)?;
    let alg = header.get("alg").and_then(Value::as_str).and_then(Alg::parse).ok_or(JoseError::Algorithm)?;
    if header.get("crit").is_some() {
        // No critical extension is understood here (RFC 7515 §4.1.11).
        return Err(JoseError::Malformed);
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let signature = decode(s)?;
    let message = &token[..h.len() + 1 + c.len()];
    let candidates: Vec<&Jwk> =
        keys.iter().filter(|k| k.fits(alg) && kid.is_none_or(|kid| k.kid.as_deref() == Some(kid))).collect();
    if candidates.is_empty() {
        return Err(JoseError::UnknownKey);
    }
    if !candidates.iter().any(|k| k.verify(alg, message.as_bytes(), &signature).is_ok()) {
        return Err(JoseError::Signature);
    }
    let claims: Value = serde_json::from_slice(&decode(c)?).map_err(|_| JoseError::Malformed)?;
    if !claims.is_object() {
        return Err(JoseError::Malformed);
    }
    Ok(Verified { header, claims })
}

/// Whether a token's `aud` claim (a string or an array, RFC 7519 §4.1.3) names `audience`.
pub fn audience_includes(claims: &Value, audience: &str) -> bool {
    match claims.get("aud") {
        Some(Value::String(a)) => a == audience,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    }
}

/// The unverified header and claims, to find out who claims to have signed a token (e.g. the
/// `iss` of a client assertion) before its keys are looked up.
pub fn peek(token: &str) -> Result<Value, JoseError> {
    let claims = token.split('.').nth(1).ok_or(JoseError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD.decode(claims).map_err(|_| JoseError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JoseError::Malformed)
}

/// `at_hash`/`c_hash` style: base64url of the left half of SHA-256 (both algorithms use SHA-256).
pub fn half_hash(value: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn es256_and_rs256_round_trip_through_pkcs8_and_jwk() {
        for alg in [Alg::ES256, Alg::RS256] {
            let key = SigningKey::generate(alg, format!("k-{}", alg.as_str())).unwrap();
            let reloaded = SigningKey::from_pkcs8(alg, key.kid().into(), &key.pkcs8().unwrap()).unwrap();
            assert_eq!(key.public_jwk(), reloaded.public_jwk());
            let token = reloaded.sign("JWT", &json!({"sub": "a", "n": 1})).unwrap();
            let verified = verify(&token, &[key.public_jwk()]).unwrap();
            assert_eq!(verified.claims["sub"], "a");
            assert_eq!(verified.header["kid"], key.kid());
        }
    }

    #[test]
    fn tampering_and_foreign_keys_are_rejected() {
        let key = SigningKey::generate(Alg::ES256, "a".into()).unwrap();
        let other = SigningKey::generate(Alg::ES256, "a".into()).unwrap();
        let token = key.sign("JWT", &json!({"sub": "alice"})).unwrap();
        assert_eq!(verify(&token, &[other.public_jwk()]).unwrap_err(), JoseError::Signature);
        let forged_claims = URL_SAFE_NO_PAD.encode(br#"{"sub":"mallory"}"#);
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = &forged_claims;
        assert_eq!(verify(&parts.join("."), &[key.public_jwk()]).unwrap_err(), JoseError::Signature);
        assert_eq!(verify("a.b", &[key.public_jwk()]).unwrap_err(), JoseError::Malformed);
    }

    #[test]
    fn alg_none_and_hmac_are_refused() {
        let key = SigningKey::generate(Alg::ES256, "a".into()).unwrap();
        for alg in ["none", "HS256"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","kid":"a"}}"#));
            let claims = URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#);
            let token = format!("{header}.{claims}.");
            assert_eq!(verify(&token, &[key.public_jwk()]).unwrap_err(), JoseError::Algorithm);
        }
    }

    #[test]
    fn half_hash_matches_oidc_example() {
        // OIDC Core A.3: at_hash of "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" is "77QmUPtjPfzWtF2AnpK9RQ".
        assert_eq!(half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
    }
}
