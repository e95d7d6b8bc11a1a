//! The marketplace catalogue: reads from this instance's snapshot, edits that validate the
//! record against the rest of the catalogue before they are written in one transaction, and
//! the check of a matching profile against the catalogue it runs on.

use crate::{Error, Hub, Result};
use mitsprache_catalogue::{Catalogue, CatalogueDocument, Interface, Tool, ValidationError, validate_catalogue};
use mitsprache_matching::{Limits, MatchIndex, MatchResult, Profile};
use mitsprache_store::Author;
pub use mitsprache_store::{ImportSummary, WriteOutcome};
use std::sync::Arc;

impl Hub {
    /// The current catalogue (an atomic load; never waits for the database).
    pub fn catalogue(&self) -> Arc<Catalogue> {
        self.inner.catalogue.get().catalogue.clone()
    }

    /// The catalogue with its matching index, from the same revision.
    pub fn matching(&self) -> (Arc<Catalogue>, Arc<MatchIndex>) {
        let snapshot = self.inner.catalogue.get();
        (snapshot.catalogue.clone(), snapshot.matching.clone())
    }

    /// Runs a requirement profile against the current catalogue, after checking it against that
    /// same catalogue (the API, the assistant page and its downloads share this). Returns the
    /// catalogue it ran on, for the names and labels of the answer.
    pub fn run_matching(&self, profile: &Profile, limits: Limits) -> Result<(Arc<Catalogue>, MatchResult)> {
        let (catalogue, index) = self.matching();
        check_profile(profile, &catalogue)?;
        let result = mitsprache_matching::run_with(profile, &catalogue, &index, limits);
        Ok((catalogue, result))
    }

    /// Rebuilds this instance's snapshot when the stored revision moved.
    pub async fn refresh_catalogue(&self) -> Result<bool> {
        Ok(self.inner.catalogue.refresh(self.store()).await?)
    }

    /// Creates or replaces a tool. `expected` is the version the edit is based on (a stale one
    /// is a `Conflict`); the record must keep the catalogue valid.
    /// `actor` is who writes, for the record's history (`account:<id>`, `client:<id>`, …).
    pub async fn put_tool(&self, tool: &Tool, expected: Option<i64>, actor: &str) -> Result<(WriteOutcome, i64)> {
        let catalogue = self.catalogue();
        let mut tools: Vec<Tool> = catalogue.tools().iter().filter(|t| t.slug != tool.slug).cloned().collect();
        tools.push(tool.clone());
        check_record(&catalogue, &tools, catalogue.interfaces(), tool.slug.as_str(), self.now().date())?;
        let written = self.store().catalogue().put_tool(tool, expected, self.now(), &Author::new(actor)).await?;
        self.refresh_catalogue().await?;
        Ok(written)
    }

    /// Whether the record, in place of the stored one, keeps the catalogue valid.
    pub(crate) fn check_tool(&self, tool: &Tool) -> Result<()> {
        let catalogue = self.catalogue();
        let mut tools: Vec<Tool> = catalogue.tools().iter().filter(|t| t.slug != tool.slug).cloned().collect();
        tools.push(tool.clone());
        check_record(&catalogue, &tools, catalogue.interfaces(), tool.slug.as_str(), self.now().date())
    }

    pub async fn put_interface(
        &self,
        interface: &Interface,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<(WriteOutcome, i64)> {
        let catalogue = self.catalogue();
        let mut interfaces: Vec<Interface> =
            catalogue.interfaces().iter().filter(|i| i.slug != interface.slug).cloned().collect();
        interfaces.push(interface.clone());
        check_record(&catalogue, catalogue.tools(), &interfaces, interface.slug.as_str(), self.now().date())?;
        let written =
            self.store().catalogue().put_interface(interface, expected, self.now(), &Author::new(actor)).await?;
        self.refresh_catalogue().await?;
        Ok(written)
    }

    pub async fn delete_tool(&self, slug: &str, actor: &str) -> Result<()> {
        self.store().catalogue().delete_tool(slug, self.now(), &Author::new(actor)).await?;
        self.refresh_catalogue().await?;
        Ok(())
    }

    /// Removes an interface no tool implements any more (`Conflict` otherwise).
    pub async fn delete_interface(&self, slug: &str, actor: &str) -> Result<()> {
        let users: Vec<String> = self.catalogue().implementers(slug).map(|(t, _)| t.slug.to_string()).collect();
        if !users.is_empty() {
            return Err(Error::Conflict(format!("still implemented by {}", users.join(", "))));
        }
        self.store().catalogue().delete_interface(slug, self.now(), &Author::new(actor)).await?;
        self.refresh_catalogue().await?;
        Ok(())
    }

    /// Imports a document (all or nothing; unchanged records stay untouched).
    pub async fn import_catalogue(&self, doc: &CatalogueDocument, actor: &str) -> Result<ImportSummary> {
        let summary = self.store().catalogue().import(doc, self.now(), &Author::new(actor)).await?;
        self.refresh_catalogue().await?;
        Ok(summary)
    }
}

/// Validates the candidate catalogue and reports the errors that concern the written record.
fn check_record(
    catalogue: &Catalogue,
    tools: &[Tool],
    interfaces: &[Interface],
    slug: &str,
    today: time::Date,
) -> Result<()> {
    let errors: Vec<_> = validate_catalogue(&catalogue.taxonomy, tools, interfaces, today)
        .into_iter()
        .filter(|e| e.record == slug)
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
}

/// A matching profile checked against the catalogue it runs on: unknown functions and
/// interfaces and impossible numbers are field errors (the API and the assistant page share it).
pub fn check_profile(profile: &Profile, catalogue: &Catalogue) -> Result<()> {
    let errors = profile.check(catalogue);
    if errors.is_empty() {
        return Ok(());
    }
    Err(Error::Validation(
        errors
            .into_iter()
            .map(|e| ValidationError { record: "profile".into(), field: e.field, message: e.message })
            .collect(),
    ))
}
