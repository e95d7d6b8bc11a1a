//! People's accounts: the one rule for e-mail addresses, and the account record every
//! capability reads (single sign-on now, the portal's "my participation" next).

use crate::{Locale, Role};
use std::fmt;
use time::OffsetDateTime;

/// An e-mail address as the hub stores and compares it: trimmed, lower-cased, and acceptable to
/// the mail transport (RFC 5321 local part and domain, as `email_address` and lettre read them),
/// so every accepted address can also be written to. This is the only place that decides what
/// an address is: registration, login, password reset, upstream login and the CLI all parse here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an e-mail address")]
pub struct EmailError;

impl Email {
    /// RFC 5321 §4.5.3.1.3: a path holds at most 256 octets, so an address at most 254.
    pub const MAX_LEN: usize = 254;

    pub fn parse(text: &str) -> Result<Email, EmailError> {
        let email = text.trim().to_lowercase();
        let (local, domain) = email.rsplit_once('@').ok_or(EmailError)?;
        let plain = !email.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"');
        // A bare host name (`user@localhost`) cannot receive mail from outside.
        let dotted = domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.');
        let valid = plain
            && dotted
            && email.len() <= Self::MAX_LEN
            && email_address::EmailAddress::is_valid_local_part(local)
            && email_address::EmailAddress::is_valid_domain(domain);
        if valid { Ok(Email(email)) } else { Err(EmailError) }
    }

    /// The key a typed address is looked up under (login, password reset, the CLI): the parsed
    /// form, or, for an address an older and looser rule accepted, the trimmed, lower-cased text,
    /// so the owner of such an account can still log in and reset the password.
    pub fn lookup(text: &str) -> Email {
        Email::parse(text).unwrap_or_else(|_| Email(text.trim().to_lowercase()))
    }

    /// An address read back from the store. It was parsed when it was written, possibly under
    /// an older and looser rule; refusing to read it now would lock its owner out.
    pub fn stored(text: String) -> Email {
        Email(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`: a word a person might put into their password.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(local, _)| local)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's hub account. The password is an Argon2id PHC string (none for accounts that only
/// log in through an upstream provider).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub email: Email,
    pub email_verified: bool,
    pub password_hash: Option<String>,
    pub name: Option<String>,
    pub locale: Locale,
    pub role: Role,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(Email::parse("  Erika@Example.ORG ").unwrap().as_str(), "erika@example.org");
        assert_eq!(Email::parse("a.b+tag@sub.example.de").unwrap().local_part(), "a.b+tag");
    }

    #[test]
    fn what_a_mail_server_would_refuse_is_no_address() {
        for bad in [
            "",
            "nobody",
            "@example.org",
            "x@",
            "x@localhost",
            "x@.example.org",
            "x@example.org.",
            "x y@example.org",
            "<script>@x.org",
            "\"quoted\"@example.org",
            "a..b@example.org",
            "x@exa mple.org",
            "x\u{7}@example.org",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError), "{bad:?}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }
}
