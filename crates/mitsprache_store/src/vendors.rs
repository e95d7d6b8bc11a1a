//! Vendors and their tools: accounts an editor linked to tool records, the changes they propose,
//! and the editors' decisions. Publishing a proposal writes the record, its history entry, the
//! proposal's new state and the mail to the vendor in one transaction.

use crate::catalogue::{Author, Table, bump, put};
use crate::identity::{JOINED_ACCOUNT_COLUMNS, account};
use crate::jobs::{NewJob, insert_job};
use crate::timestamp::{at, at_opt, secs};
use crate::{Store, StoreError, WriteOutcome};
use mitsprache_catalogue::Tool;
use mitsprache_domain::Account;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

pub struct Vendors<'a> {
    store: &'a Store,
}

/// An account that speaks for the vendor of a tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorLink {
    pub account_id: String,
    pub tool_slug: String,
    /// How the editor checked it, e.g. "Adresse bei liqd.net".
    pub evidence: String,
    pub linked_by: Option<String>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalState {
    Open,
    Published,
    Rejected,
}

impl ProposalState {
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalState::Open => "open",
            ProposalState::Published => "published",
            ProposalState::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> Option<ProposalState> {
        [ProposalState::Open, ProposalState::Published, ProposalState::Rejected].into_iter().find(|p| p.as_str() == s)
    }
}

/// A change of one fact group a vendor proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub id: String,
    pub tool_slug: String,
    /// The vendor's account (gone when the account was deleted).
    pub account_id: Option<String>,
    /// The fact group's key in the record, e.g. `costs`.
    pub field: String,
    /// The proposed value and the value when it was proposed (JSON).
    pub value: String,
    pub base: String,
    /// A public source; `None` when the vendor states the fact itself.
    pub source: Option<String>,
    pub note: String,
    pub state: ProposalState,
    pub reason: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

const PROPOSAL_COLUMNS: &str = "p.id, p.tool_slug, p.account_id, p.field, p.value, p.base, p.source, p.note, p.state, \
     p.reason, p.reviewed_by, p.reviewed_at, p.created_at";

fn proposal(r: &AnyRow) -> Result<Proposal, StoreError> {
    let state: String = r.try_get("state")?;
    Ok(Proposal {
        id: r.try_get("id")?,
        tool_slug: r.try_get("tool_slug")?,
        account_id: r.try_get("account_id")?,
        field: r.try_get("field")?,
        value: r.try_get("value")?,
        base: r.try_get("base")?,
        source: r.try_get("source")?,
        note: r.try_get("note")?,
        state: ProposalState::parse(&state).ok_or_else(|| StoreError::Corrupt("proposal state".into(), state))?,
        reason: r.try_get("reason")?,
        reviewed_by: r.try_get("reviewed_by")?,
        reviewed_at: at_opt(r, "reviewed_at")?,
        created_at: at(r, "created_at")?,
    })
}

fn link(r: &AnyRow) -> Result<VendorLink, StoreError> {
    Ok(VendorLink {
        account_id: r.try_get("account_id")?,
        tool_slug: r.try_get("tool_slug")?,
        evidence: r.try_get("evidence")?,
        linked_by: r.try_get("linked_by")?,
        created_at: at(r, "created_at")?,
    })
}

/// What publishing a proposal writes.
pub struct Publication<'a> {
    pub proposal_id: &'a str,
    pub editor_id: &'a str,
    /// The record with the proposed group applied (validated by the caller).
    pub tool: &'a Tool,
    pub author: &'a Author,
    pub now: OffsetDateTime,
    /// The mail to the vendor, sent by a job once this commits.
    pub mail: Option<NewJob>,
}

impl<'a> Vendors<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Vendors { store }
    }

    /// Links an account to a tool; `Conflict` when it is linked already.
    pub async fn link(&self, l: &VendorLink) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO vendor_links (account_id, tool_slug, evidence, linked_by, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&l.account_id)
        .bind(&l.tool_slug)
        .bind(&l.evidence)
        .bind(&l.linked_by)
        .bind(secs(l.created_at))
        .execute(self.store.pool())
        .await
        .map_err(|e| {
            if crate::identity::is_unique_violation(&e) {
                StoreError::Conflict("the account is linked to this tool already".into())
            } else {
                e.into()
            }
        })?;
        Ok(())
    }

    pub async fn unlink(&self, account_id: &str, slug: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM vendor_links WHERE account_id = $1 AND tool_slug = $2")
            .bind(account_id)
            .bind(slug)
            .execute(self.store.pool())
            .await?;
        crate::identity::found(done.rows_affected())
    }

    pub async fn is_linked(&self, account_id: &str, slug: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT 1 FROM vendor_links WHERE account_id = $1 AND tool_slug = $2")
            .bind(account_id)
            .bind(slug)
            .fetch_optional(self.store.pool())
            .await?
            .is_some())
    }

    /// Every link with its account, by tool, then address.
    pub async fn all(&self) -> Result<Vec<(VendorLink, Account)>, StoreError> {
        self.links_where("", None).await
    }

    /// The accounts that speak for a tool.
    pub async fn of_tool(&self, slug: &str) -> Result<Vec<(VendorLink, Account)>, StoreError> {
        self.links_where("WHERE l.tool_slug = $1", Some(slug)).await
    }

    /// The tools an account speaks for.
    pub async fn of_account(&self, account_id: &str) -> Result<Vec<VendorLink>, StoreError> {
        Ok(self.links_where("WHERE l.account_id = $1", Some(account_id)).await?.into_iter().map(|(l, _)| l).collect())
    }

    async fn links_where(&self, filter: &str, value: Option<&str>) -> Result<Vec<(VendorLink, Account)>, StoreError> {
        let sql = format!(
            "SELECT l.account_id, l.tool_slug, l.evidence, l.linked_by, l.created_at, {JOINED_ACCOUNT_COLUMNS} \
             FROM vendor_links l JOIN accounts a ON a.id = l.account_id {filter} ORDER BY l.tool_slug, a.email"
        );
        let mut q = sqlx::query(&sql);
        if let Some(v) = value {
            q = q.bind(v);
        }
        q.fetch_all(self.store.pool()).await?.iter().map(|r| Ok((link(r)?, account(r, "a_")?))).collect()
    }

    pub async fn propose(&self, p: &Proposal) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO catalogue_proposals (id, tool_slug, account_id, field, value, base, source, note, state, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&p.id)
        .bind(&p.tool_slug)
        .bind(&p.account_id)
        .bind(&p.field)
        .bind(&p.value)
        .bind(&p.base)
        .bind(&p.source)
        .bind(&p.note)
        .bind(p.state.as_str())
        .bind(secs(p.created_at))
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    pub async fn proposal(&self, id: &str) -> Result<Option<Proposal>, StoreError> {
        let row = sqlx::query(&format!("SELECT {PROPOSAL_COLUMNS} FROM catalogue_proposals p WHERE p.id = $1"))
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?;
        row.map(|r| proposal(&r)).transpose()
    }

    /// Open proposals, oldest first (the editors' queue).
    pub async fn open_proposals(&self) -> Result<Vec<Proposal>, StoreError> {
        self.proposals_where("WHERE p.state = 'open' ORDER BY p.created_at, p.id", None).await
    }

    /// A vendor's proposals, newest first.
    pub async fn proposals_of(&self, account_id: &str) -> Result<Vec<Proposal>, StoreError> {
        self.proposals_where("WHERE p.account_id = $1 ORDER BY p.created_at DESC, p.id LIMIT 200", Some(account_id))
            .await
    }

    async fn proposals_where(&self, tail: &str, value: Option<&str>) -> Result<Vec<Proposal>, StoreError> {
        let sql = format!("SELECT {PROPOSAL_COLUMNS} FROM catalogue_proposals p {tail}");
        let mut q = sqlx::query(&sql);
        if let Some(v) = value {
            q = q.bind(v);
        }
        q.fetch_all(self.store.pool()).await?.iter().map(proposal).collect()
    }

    /// Rejects an open proposal with the editor's reason and queues the mail to the vendor.
    /// False when it was decided already (by another editor, or twice sent).
    pub async fn reject(
        &self,
        id: &str,
        editor_id: &str,
        reason: &str,
        now: OffsetDateTime,
        mail: Option<NewJob>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.store.write().await?;
        let done = sqlx::query(
            "UPDATE catalogue_proposals SET state = 'rejected', reason = $1, reviewed_by = $2, reviewed_at = $3 \
             WHERE id = $4 AND state = 'open'",
        )
        .bind(reason)
        .bind(editor_id)
        .bind(secs(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(job) = &mail {
            insert_job(&mut tx, job).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Publishes an open proposal: the record, its history entry, the proposal's state and the
    /// mail to the vendor, all or nothing. `Ok(None)` when the proposal was decided already.
    pub async fn publish(&self, p: &Publication<'_>) -> Result<Option<WriteOutcome>, StoreError> {
        let mut tx = self.store.write().await?;
        let done = sqlx::query(
            "UPDATE catalogue_proposals SET state = 'published', reviewed_by = $1, reviewed_at = $2 \
             WHERE id = $3 AND state = 'open'",
        )
        .bind(p.editor_id)
        .bind(secs(p.now))
        .bind(p.proposal_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let outcome = put(&mut tx, Table::Tools, p.tool.slug.as_str(), p.tool, None, p.now, p.author).await?;
        if outcome != WriteOutcome::Unchanged {
            bump(&mut tx).await?;
        }
        if let Some(job) = &p.mail {
            insert_job(&mut tx, job).await?;
        }
        tx.commit().await?;
        Ok(Some(outcome))
    }
}
