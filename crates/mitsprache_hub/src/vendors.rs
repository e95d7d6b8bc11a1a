//! Vendors supply and keep their facts: an editor links a vendor's account to its tool records
//! (after checking, e.g., an address at the vendor's domain); the vendor proposes a change of
//! one fact group, with a public source or as its own statement ("Angabe des Anbieters"); an
//! editor publishes or rejects it with a reason; the vendor is told by mail. Every change lands
//! in the record's history. People ask a vendor for a fact the record lacks ("beim Anbieter
//! anfragen"): the mail goes to the linked accounts, with the asker's address for the answer.

use crate::jobs::{SendMail, new_job};
use crate::{Current, Error, Forbidden, Hub, Result};
use mitsprache_catalogue::groups::{FactGroup, stamp};
use mitsprache_catalogue::report::{Report, report};
use mitsprache_catalogue::{Sourced, Tool};
use mitsprache_domain::{Account, Email, Origin};
use mitsprache_oidc::random::id;
use mitsprache_store::{Author, Publication};
pub use mitsprache_store::{HistoryEntry, Proposal, ProposalState, VendorLink};
use serde_json::Value;
use time::Duration;

/// A vendor's open proposals at most: more waits for the editors first.
const MAX_OPEN_PER_VENDOR: usize = 30;
/// Enquiries one person may send a day.
const ENQUIRIES_PER_DAY: i64 = 10;

/// A proposal as an editor reviews it: what it changes, against the record as it is now.
#[derive(Debug, Clone)]
pub struct Review {
    pub proposal: Proposal,
    pub tool_name: String,
    pub vendor_email: Option<String>,
    /// The group as it is in the record now.
    pub current: Value,
    /// The record changed since the vendor proposed: publishing would overwrite that change.
    pub stale: bool,
}

/// Where a question about an unknown fact can go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnquiryRoute {
    /// Accounts of the vendor are linked: the hub mails them.
    Linked,
    /// The vendor's published enquiry address (a `mailto:` link, no mail through the hub).
    Email(String),
    /// The vendor's contact page, or its website.
    Page(String),
}

fn is_web_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some())
        && !s.contains(char::is_whitespace)
}

impl Hub {
    fn require_editor(&self, current: &Current) -> Result<()> {
        if current.account.role.can_edit_catalogue() { Ok(()) } else { Err(Error::Forbidden(Forbidden::NotEditor)) }
    }

    fn tool_of(&self, slug: &str) -> Result<Tool> {
        self.catalogue().tool(slug).cloned().ok_or(Error::NotFound)
    }

    /// A mail to an account, in its language, queued as a job with the change that owes it.
    fn mail_job(&self, to: &Account, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> mitsprache_store::NewJob {
        let t = mitsprache_i18n::messages(to.locale);
        let job = SendMail {
            to: to.email.as_str().to_owned(),
            subject: t.fmt(&format!("mail.{key}.subject"), args),
            body: t.fmt(&format!("mail.{key}.body"), args).replace("\\n", "\n") + &self.mail_footer(to.locale),
            reply_to: None,
            list_unsubscribe: None,
        };
        new_job(self, &job, self.now())
    }

    /// What the catalogue can answer, and per tool what is still unknown (the editors' to-do).
    pub fn catalogue_report(&self) -> Report {
        report(self.catalogue().tools())
    }

    // ------------------------------------------------------------ editors

    /// Links the account of `email` to a tool; `evidence` says how the editor checked that the
    /// account speaks for the vendor. The vendor is told by mail.
    pub async fn link_vendor(&self, editor: &Current, email: &str, slug: &str, evidence: &str) -> Result<()> {
        self.require_editor(editor)?;
        let tool = self.tool_of(slug)?;
        let evidence: String = evidence.trim().chars().take(500).collect();
        if evidence.is_empty() {
            return Err(Error::Invalid { field: "evidence".into(), message: "say how the account was checked".into() });
        }
        let account =
            self.store().accounts().by_email(&Email::lookup(email)).await?.filter(|a| a.email_verified).ok_or_else(
                || Error::Invalid { field: "email".into(), message: "no confirmed account has this address".into() },
            )?;
        let link = VendorLink {
            account_id: account.id.clone(),
            tool_slug: slug.to_owned(),
            evidence,
            linked_by: Some(editor.account.id.clone()),
            created_at: self.now(),
        };
        self.store().vendors().link(&link).await?;
        let url = format!("{}/anbieter", self.config().issuer);
        let job = self.mail_job(&account, "vendor-linked", &[("tool", &tool.name), ("link", &url)]);
        self.store().jobs().enqueue(&job).await?;
        self.jobs_queued();
        tracing::info!(tool = slug, "a vendor account was linked to a tool");
        Ok(())
    }

    pub async fn unlink_vendor(&self, editor: &Current, account_id: &str, slug: &str) -> Result<()> {
        self.require_editor(editor)?;
        Ok(self.store().vendors().unlink(account_id, slug).await?)
    }

    pub async fn vendor_links(&self, editor: &Current) -> Result<Vec<(VendorLink, Account)>> {
        self.require_editor(editor)?;
        Ok(self.store().vendors().all().await?)
    }

    /// The editors' queue, oldest first.
    pub async fn open_proposals(&self, editor: &Current) -> Result<Vec<Proposal>> {
        self.require_editor(editor)?;
        Ok(self.store().vendors().open_proposals().await?)
    }

    pub async fn review(&self, editor: &Current, id: &str) -> Result<Review> {
        self.require_editor(editor)?;
        let proposal = self.store().vendors().proposal(id).await?.ok_or(Error::NotFound)?;
        let tool = self.tool_of(&proposal.tool_slug)?;
        let group = FactGroup::from_key(&proposal.field).ok_or(Error::NotFound)?;
        let current = group.value(&tool);
        let base: Value = serde_json::from_str(&proposal.base).unwrap_or(Value::Null);
        let vendor_email = match &proposal.account_id {
            Some(a) => self.store().accounts().find(a).await?.map(|a| a.email.as_str().to_owned()),
            None => None,
        };
        Ok(Review { stale: base != current, tool_name: tool.name, vendor_email, current, proposal })
    }

    /// Publishes an open proposal: the record, its history, the decision and the vendor's mail
    /// in one transaction. `Conflict` when the record changed since the vendor proposed.
    pub async fn publish_proposal(&self, editor: &Current, id: &str) -> Result<()> {
        let review = self.review(editor, id).await?;
        let p = &review.proposal;
        if p.state != ProposalState::Open {
            return Err(Error::Conflict("the proposal was decided already".into()));
        }
        if review.stale {
            return Err(Error::Conflict("the record changed since the proposal; ask the vendor again".into()));
        }
        let group = FactGroup::from_key(&p.field).ok_or(Error::NotFound)?;
        let value: Value = serde_json::from_str(&p.value).map_err(|e| Error::Internal(e.to_string()))?;
        let tool = group.apply(&self.tool_of(&p.tool_slug)?, value).map_err(Error::Unprocessable)?;
        self.check_tool(&tool)?;
        let vendor = match &p.account_id {
            Some(a) => self.store().accounts().find(a).await?,
            None => None,
        };
        let mail = vendor.as_ref().map(|v| {
            let url = format!("{}/marktplatz/werkzeuge/{}", self.config().issuer, p.tool_slug);
            self.mail_job(v, "proposal-published", &[("tool", &review.tool_name), ("link", &url)])
        });
        let author = Author {
            actor: format!("account:{}", editor.account.id),
            origin: if p.source.is_some() { "public" } else { "vendor" },
            proposal: Some(p.id.clone()),
        };
        let publication = Publication {
            proposal_id: &p.id,
            editor_id: &editor.account.id,
            tool: &tool,
            author: &author,
            now: self.now(),
            mail,
        };
        match self.store().vendors().publish(&publication).await? {
            Some(_) => {
                self.jobs_queued();
                self.refresh_catalogue().await?;
                tracing::info!(tool = %p.tool_slug, field = %p.field, "a vendor's proposal was published");
                Ok(())
            }
            None => Err(Error::Conflict("the proposal was decided already".into())),
        }
    }

    pub async fn reject_proposal(&self, editor: &Current, id: &str, reason: &str) -> Result<()> {
        let review = self.review(editor, id).await?;
        let reason: String = reason.trim().chars().take(2000).collect();
        if reason.is_empty() {
            return Err(Error::Invalid { field: "reason".into(), message: "give the vendor a reason".into() });
        }
        let vendor = match &review.proposal.account_id {
            Some(a) => self.store().accounts().find(a).await?,
            None => None,
        };
        let mail = vendor.as_ref().map(|v| {
            let url = format!("{}/anbieter", self.config().issuer);
            self.mail_job(v, "proposal-rejected", &[("tool", &review.tool_name), ("reason", &reason), ("link", &url)])
        });
        if !self.store().vendors().reject(id, &editor.account.id, &reason, self.now(), mail).await? {
            return Err(Error::Conflict("the proposal was decided already".into()));
        }
        self.jobs_queued();
        Ok(())
    }

    /// An editor changes one fact group at once, with the public source it comes from.
    pub async fn edit_group(
        &self,
        editor: &Current,
        slug: &str,
        group: FactGroup,
        mut value: Value,
        source: Option<&str>,
    ) -> Result<()> {
        self.require_editor(editor)?;
        let source = source.map(str::trim).filter(|s| is_web_url(s)).ok_or_else(|| Error::Invalid {
            field: "source".into(),
            message: "an editor's change needs the http(s) address of its source".into(),
        })?;
        let tool = self.tool_of(slug)?;
        let base = group.value(&tool);
        stamp(&mut value, &base, &Sourced::research(source, self.now().date()));
        let changed = group.apply(&tool, value).map_err(Error::Unprocessable)?;
        self.put_tool(&changed, None, &format!("account:{}", editor.account.id)).await?;
        Ok(())
    }

    // ------------------------------------------------------------ vendors

    /// The tools the signed-in person speaks for.
    pub async fn vendor_tools(&self, current: &Current) -> Result<Vec<VendorLink>> {
        Ok(self.store().vendors().of_account(&current.account.id).await?)
    }

    pub async fn my_proposals(&self, current: &Current) -> Result<Vec<Proposal>> {
        Ok(self.store().vendors().proposals_of(&current.account.id).await?)
    }

    /// Whether the person speaks for the tool's vendor.
    pub async fn speaks_for(&self, current: &Current, slug: &str) -> Result<bool> {
        Ok(self.store().vendors().is_linked(&current.account.id, slug).await?)
    }

    /// A vendor proposes a new value for one fact group of its tool: with a public `source`, or
    /// as its own statement (then the source is the change's entry in the record's history).
    /// The value must keep the record valid. Returns the proposal's id.
    pub async fn propose(
        &self,
        vendor: &Current,
        slug: &str,
        group: FactGroup,
        mut value: Value,
        source: Option<&str>,
        note: &str,
    ) -> Result<String> {
        if !self.speaks_for(vendor, slug).await? {
            return Err(Error::Forbidden(Forbidden::NotVendor));
        }
        let source = source.map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = source
            && !is_web_url(s)
        {
            return Err(Error::Invalid { field: "source".into(), message: "must be an http(s) address".into() });
        }
        let open = self.store().vendors().proposals_of(&vendor.account.id).await?;
        if open.iter().filter(|p| p.state == ProposalState::Open).count() >= MAX_OPEN_PER_VENDOR {
            return Err(Error::Conflict("too many proposals wait for review".into()));
        }
        let tool = self.tool_of(slug)?;
        let base = group.value(&tool);
        let proposal_id = id(self.random());
        let sourced = Sourced {
            source: source.map_or_else(
                || format!("{}/marktplatz/werkzeuge/{slug}/verlauf#vorschlag-{proposal_id}", self.config().issuer),
                str::to_owned,
            ),
            as_of: self.now().date(),
            origin: if source.is_some() { Origin::Research } else { Origin::Vendor },
        };
        stamp(&mut value, &base, &sourced);
        let candidate = group.apply(&tool, value.clone()).map_err(Error::Unprocessable)?;
        self.check_tool(&candidate)?;
        if value == base {
            return Err(Error::Invalid { field: "value".into(), message: "the proposal changes nothing".into() });
        }
        let proposal = Proposal {
            id: proposal_id.clone(),
            tool_slug: slug.to_owned(),
            account_id: Some(vendor.account.id.clone()),
            field: group.key().to_owned(),
            value: value.to_string(),
            base: base.to_string(),
            source: source.map(str::to_owned),
            note: note.trim().chars().take(2000).collect(),
            state: ProposalState::Open,
            reason: None,
            reviewed_by: None,
            reviewed_at: None,
            created_at: self.now(),
        };
        self.store().vendors().propose(&proposal).await?;
        tracing::info!(tool = slug, field = group.key(), "a vendor proposed a change");
        Ok(proposal_id)
    }

    // ------------------------------------------------------------ everyone

    /// A tool's changes, newest first.
    pub async fn tool_history(&self, slug: &str) -> Result<Vec<HistoryEntry>> {
        self.tool_of(slug)?;
        Ok(self.store().catalogue().history(slug, 200).await?)
    }

    /// Where a question about a tool's unknown fact goes.
    pub async fn enquiry_route(&self, slug: &str) -> Result<EnquiryRoute> {
        let tool = self.tool_of(slug)?;
        if !self.store().vendors().of_tool(slug).await?.is_empty() {
            return Ok(EnquiryRoute::Linked);
        }
        let contact = tool.vendor.contact.as_ref();
        if let Some(email) = contact.and_then(|c| c.email.clone()) {
            return Ok(EnquiryRoute::Email(email));
        }
        let page = contact.and_then(|c| c.url.clone()).or(tool.vendor.url.clone()).unwrap_or(tool.website);
        Ok(EnquiryRoute::Page(page))
    }

    /// Mails a question about a tool's fact to the vendor's linked accounts, with the asker's
    /// address to reply to (which the asker agreed to pass on). At most ten a day per person.
    pub async fn ask_vendor(&self, asker: &Current, slug: &str, group: FactGroup, message: &str) -> Result<()> {
        let tool = self.tool_of(slug)?;
        let message: String = message.trim().chars().take(2000).collect();
        if message.is_empty() {
            return Err(Error::Invalid { field: "message".into(), message: "write the question".into() });
        }
        let vendors = self.store().vendors().of_tool(slug).await?;
        if vendors.is_empty() {
            return Err(Error::NotFound);
        }
        let hits = self
            .store()
            .rate_limits()
            .hit(&format!("enquiry:{}", asker.account.id), self.now(), Duration::days(1))
            .await?;
        if hits.count > ENQUIRIES_PER_DAY {
            return Err(Error::RateLimited { retry_after: hits.resets_at - self.now() });
        }
        let from = asker.account.name.clone().unwrap_or_else(|| asker.account.email.as_str().to_owned());
        let url = format!("{}/anbieter/werkzeuge/{slug}/vorschlag?feld={}", self.config().issuer, group.key());
        let mut jobs = Vec::new();
        for (_, vendor) in &vendors {
            let t = mitsprache_i18n::messages(vendor.locale);
            let field = t.get(&format!("group.{}", group.key())).to_owned();
            let args: [(&str, &dyn std::fmt::Display); 5] =
                [("tool", &tool.name), ("field", &field), ("from", &from), ("message", &message), ("link", &url)];
            let job = SendMail {
                to: vendor.email.as_str().to_owned(),
                subject: t.fmt("mail.enquiry.subject", &args),
                body: t.fmt("mail.enquiry.body", &args).replace("\\n", "\n") + &self.mail_footer(vendor.locale),
                reply_to: Some(asker.account.email.as_str().to_owned()),
                list_unsubscribe: None,
            };
            jobs.push(new_job(self, &job, self.now()));
        }
        self.store().jobs().enqueue_all(&jobs).await?;
        self.jobs_queued();
        tracing::info!(tool = slug, field = group.key(), "an enquiry went to the vendor");
        Ok(())
    }
}
