//! Outgoing mail as the web layer sends it. The binary supplies the transport (SMTP, or a folder
//! for a first start without SMTP), so this crate never opens a mail connection itself.

use std::future::Future;
use std::pin::Pin;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

pub type MailFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

pub trait Mailer: Send + Sync + 'static {
    fn send(&self, mail: Mail) -> MailFuture<'_>;
}

/// Drops every mail; for tests that do not read mail.
#[derive(Debug, Default)]
pub struct NoMail;

impl Mailer for NoMail {
    fn send(&self, _mail: Mail) -> MailFuture<'_> {
        Box::pin(async { Ok(()) })
    }
}
