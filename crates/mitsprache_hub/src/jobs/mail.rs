//! Mail that must not be lost with the request that caused it: the vendor's notice of an
//! editor's decision, an enquiry to a vendor. Queued in the transaction of the change, sent
//! by the worker, retried with backoff while the mail server refuses.

use super::{Job, JobError};
use crate::Hub;
use crate::ports::Mail;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMail {
    pub to: String,
    pub subject: String,
    pub body: String,
    #[serde(default)]
    pub reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_unsubscribe: Option<String>,
}

impl Job for SendMail {
    const KIND: &'static str = "mail.send";

    async fn run(self, hub: &Hub) -> Result<(), JobError> {
        let mail = Mail {
            to: self.to,
            subject: self.subject,
            body: self.body,
            reply_to: self.reply_to,
            list_unsubscribe: self.list_unsubscribe,
        };
        // The error text names the transport's refusal, never the address (personal data).
        hub.mailer().send(mail).await.map_err(JobError::Retry)
    }
}
