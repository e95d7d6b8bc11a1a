//! Mail transports: SMTP through lettre, or a folder of .eml files for a first start without a
//! mail server (the log says where mail went).

use crate::config::{MailConfig, SmtpSecurity};
use anyhow::Context;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use mitsprache_hub::ports::{BoxFuture, Mail, Mailer};
use std::path::PathBuf;
use std::sync::Arc;

fn build(from: &Mailbox, mail: &Mail) -> Result<Message, String> {
    let to: Mailbox = mail.to.parse().map_err(|e| format!("recipient: {e}"))?;
    let mut builder = Message::builder().from(from.clone()).to(to);
    if let Some(reply_to) = &mail.reply_to {
        builder = builder.reply_to(reply_to.parse().map_err(|e| format!("reply-to: {e}"))?);
    }
    if let Some(url) = &mail.list_unsubscribe {
        // RFC 8058 one-click: mail clients POST `List-Unsubscribe=One-Click` to the URL.
        builder = builder.header(ListUnsubscribe(format!("<{url}>"))).header(ListUnsubscribePost);
    }
    builder
        .subject(mail.subject.clone())
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(|e| e.to_string())
}

#[derive(Clone)]
struct ListUnsubscribe(String);

impl lettre::message::header::Header for ListUnsubscribe {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_owned()))
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl lettre::message::header::Header for ListUnsubscribePost {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

pub struct SmtpMailer {
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl Mailer for SmtpMailer {
    fn send(&self, mail: Mail) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let message = build(&self.from, &mail)?;
            self.transport.send(message).await.map(|_| ()).map_err(|e| e.to_string())
        })
    }
}

pub struct FolderMailer {
    from: Mailbox,
    folder: PathBuf,
}

impl Mailer for FolderMailer {
    fn send(&self, mail: Mail) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let message = build(&self.from, &mail)?;
            let bytes = message.formatted();
            let folder = self.folder.clone();
            tokio::task::spawn_blocking(move || {
                std::fs::create_dir_all(&folder)?;
                let name = format!(
                    "{}-{}.eml",
                    time::OffsetDateTime::now_utc().unix_timestamp_nanos(),
                    mitsprache_oidc::random::id(&mitsprache_oidc::random::OsRandom)
                );
                // Written aside and renamed, so a reader never sees half a mail.
                let tmp = folder.join(format!(".{name}.tmp"));
                std::fs::write(&tmp, &bytes)?;
                std::fs::rename(&tmp, folder.join(name))
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
        })
    }
}

pub fn mailer(config: &MailConfig) -> anyhow::Result<Arc<dyn Mailer>> {
    let from: Mailbox = config.from.parse().with_context(|| format!("key `mail.from`: `{}`", config.from))?;
    let Some(host) = &config.smtp_host else {
        tracing::warn!(
            folder = %config.outbox.display(),
            "no SMTP server configured (mail.smtp_host): outgoing mail is written to this folder"
        );
        return Ok(Arc::new(FolderMailer { from, folder: config.outbox.clone() }));
    };
    let builder = match config.smtp_security {
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
    };
    let mut builder = builder.port(config.smtp_port).timeout(Some(std::time::Duration::from_secs(15)));
    if let (Some(user), Some(password)) = (&config.smtp_user, &config.smtp_password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    tracing::info!(host, port = config.smtp_port, "mail goes out through SMTP");
    Ok(Arc::new(SmtpMailer { from, transport: builder.build() }))
}
