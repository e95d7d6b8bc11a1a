//! Rules a record must satisfy beyond its shape: references resolve, numbers make sense, URLs
//! are web addresses. Each error names the record and field so an import report can point at it.

use crate::{Costs, Interface, Sourced, Taxonomy, Tool, Training};
use std::collections::HashSet;
use time::Date;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ValidationError {
    /// Slug of the record the error is about.
    pub record: String,
    /// Dotted path of the field, e.g. `costs.yearly_eur`.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.record, self.field, self.message)
    }
}

/// Checks a set of records against each other; returns every error found, not just the first.
/// `today` is the day of the check: a fact cannot have been read after it.
pub fn validate_catalogue(
    taxonomy: &Taxonomy,
    tools: &[Tool],
    interfaces: &[Interface],
    today: Date,
) -> Vec<ValidationError> {
    let mut errors = Vec::new();
    let interface_slugs: HashSet<&str> = interfaces.iter().map(|i| i.slug.as_str()).collect();
    duplicates("taxonomy", "functions", taxonomy.functions.iter().map(|t| t.key.as_str()), &mut errors);
    duplicates("taxonomy", "process_types", taxonomy.process_types.iter().map(|t| t.key.as_str()), &mut errors);
    duplicates("catalogue", "tools", tools.iter().map(|t| t.slug.as_str()), &mut errors);
    duplicates("catalogue", "interfaces", interfaces.iter().map(|t| t.slug.as_str()), &mut errors);
    for interface in interfaces {
        let mut e = Errors { record: interface.slug.as_str(), errors: &mut errors, today };
        e.url("specification_url", &interface.specification_url);
        e.sourced("", &interface.sourced);
        e.nonempty("name", &interface.name);
    }
    for tool in tools {
        let mut e = Errors { record: tool.slug.as_str(), errors: &mut errors, today };
        validate_tool(tool, taxonomy, &interface_slugs, &mut e);
    }
    errors
}

fn validate_tool(tool: &Tool, taxonomy: &Taxonomy, interfaces: &HashSet<&str>, e: &mut Errors<'_>) {
    e.nonempty("name", &tool.name);
    e.nonempty("vendor.name", &tool.vendor.name);
    e.nonempty("short_description.de", &tool.short_description.de);
    e.nonempty("description.de", &tool.description.de);
    if tool.short_description.de.chars().count() > 200 {
        e.push("short_description.de", "at most 200 characters");
    }
    e.url("website", &tool.website);
    if let Some(Some(repo)) = tool.source_repository.as_option() {
        e.url("source_repository", repo);
    }
    if let Some(url) = &tool.vendor.url {
        e.url("vendor.url", url);
    }
    if let Some(c) = &tool.vendor.contact {
        e.sourced("vendor.contact.", &c.sourced);
        if c.email.is_none() && c.url.is_none() {
            e.push("vendor.contact", "needs an e-mail address or a contact page");
        }
        if let Some(email) = &c.email
            && mitsprache_domain::Email::parse(email).is_err()
        {
            e.push("vendor.contact.email", "must be an e-mail address");
        }
        if let Some(url) = &c.url {
            e.url("vendor.contact.url", url);
        }
    }
    e.sourced("functions.", &tool.functions.sourced);
    for (i, key) in tool.functions.values.iter().enumerate() {
        if taxonomy.function(key).is_none() {
            e.push(&format!("functions.values[{i}]"), &format!("`{key}` is not in the function taxonomy"));
        }
    }
    if let Some(p) = tool.process_types.as_option() {
        e.sourced("process_types.", &p.sourced);
        for (i, key) in p.values.iter().enumerate() {
            if taxonomy.process_type(key).is_none() {
                e.push(&format!("process_types.values[{i}]"), &format!("`{key}` is not in the process-type taxonomy"));
            }
        }
    }
    if let Some(l) = tool.licence.as_option() {
        e.sourced("licence.", &l.sourced);
        if !is_spdx_expression(&l.spdx) {
            e.push("licence.spdx", "must be an SPDX licence expression (identifiers joined by OR, AND, WITH)");
        }
    }
    if let Some(h) = tool.hosting.as_option() {
        e.sourced("hosting.", &h.sourced);
    }
    if let Some(c) = tool.costs.as_option() {
        e.sourced("costs.", &c.sourced);
        check_costs(c, e);
    }
    if let Some(t) = tool.training.as_option() {
        check_training(t, e);
    }
    if let Some(a) = tool.accessibility.as_option() {
        e.sourced("accessibility.", &a.sourced);
        if let Some(Some(url)) = a.statement_url.as_option() {
            e.url("accessibility.statement_url", url);
        }
    }
    if let Some(d) = tool.data_protection.as_option() {
        e.sourced("data_protection.", &d.sourced);
    }
    if let Some(l) = tool.languages.as_option() {
        e.sourced("languages.", &l.sourced);
        for (i, tag) in l.values.iter().enumerate() {
            let ok = (2..=3).contains(&tag.split('-').next().map_or(0, str::len))
                && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                e.push(&format!("languages.values[{i}]"), &format!("`{tag}` is not a BCP 47 language tag"));
            }
        }
    }
    if let Some(m) = tool.multi_tenancy.as_option() {
        e.sourced("multi_tenancy.", &m.sourced);
    }
    let mut seen = HashSet::new();
    for (i, link) in tool.interfaces.iter().enumerate() {
        if !interfaces.contains(link.interface.as_str()) {
            e.push(
                &format!("interfaces[{i}].interface"),
                &format!("`{}` is not an interface in the catalogue", link.interface),
            );
        }
        if !seen.insert(link.interface.as_str()) {
            e.push(&format!("interfaces[{i}].interface"), &format!("`{}` is listed twice", link.interface));
        }
        e.sourced(&format!("interfaces[{i}]."), &link.sourced);
    }
    for (i, r) in tool.references.iter().enumerate() {
        e.nonempty(&format!("references[{i}].name"), &r.name);
        e.sourced(&format!("references[{i}]."), &r.sourced);
        if let Some(url) = &r.url {
            e.url(&format!("references[{i}].url"), url);
        }
    }
    for (i, c) in tool.certifications.iter().enumerate() {
        e.nonempty(&format!("certifications[{i}].name"), &c.name);
        e.sourced(&format!("certifications[{i}]."), &c.sourced);
    }
}

/// Identifiers joined by OR, AND or WITH, with optional parentheses: the shape of an SPDX
/// license expression (not a check of the identifiers against the SPDX list).
fn is_spdx_expression(text: &str) -> bool {
    const OPERATORS: [&str; 3] = ["OR", "AND", "WITH"];
    let words: Vec<&str> = text.split(' ').collect();
    words.len() % 2 == 1
        && words.iter().enumerate().all(|(i, word)| {
            let word = word.trim_matches(['(', ')']);
            if i % 2 == 1 {
                OPERATORS.contains(&word)
            } else {
                !word.is_empty()
                    && !OPERATORS.contains(&word)
                    && word.chars().all(|c| c.is_ascii_alphanumeric() || ".-+:".contains(c))
            }
        })
}

fn check_costs(c: &Costs, e: &mut Errors<'_>) {
    for (field, range) in [("one_time_eur", &c.one_time_eur), ("yearly_eur", &c.yearly_eur)] {
        if let Some(r) = range.as_option() {
            e.range(&format!("costs.{field}"), r.min, r.max);
        }
    }
    for (i, f) in c.figures.iter().enumerate() {
        let at = format!("costs.figures[{i}]");
        e.range(&at, f.min, f.max);
        e.sourced(&format!("{at}."), &f.sourced);
        e.nonempty(&format!("{at}.included.de"), &f.included.de);
        if !(f.currency.len() == 3 && f.currency.chars().all(|c| c.is_ascii_uppercase())) {
            e.push(&format!("{at}.currency"), "must be an ISO 4217 code such as EUR");
        }
        if f.population == Some(0) {
            e.push(&format!("{at}.population"), "must be a number of inhabitants > 0");
        }
    }
}

fn check_training(t: &Training, e: &mut Errors<'_>) {
    e.sourced("training.", &t.sourced);
    for (field, hours) in
        [("hours_admin", &t.hours_admin), ("hours_moderator", &t.hours_moderator), ("hours_citizen", &t.hours_citizen)]
    {
        if let Some(h) = hours.as_option() {
            e.hours(&format!("training.{field}"), *h);
        }
    }
    for (i, o) in t.offers.iter().enumerate() {
        let at = format!("training.offers[{i}]");
        e.sourced(&format!("{at}."), &o.sourced);
        e.nonempty(&format!("{at}.title.de"), &o.title.de);
        if let Some(h) = o.hours.as_option() {
            e.hours(&format!("{at}.hours"), *h);
        }
        if let Some(url) = &o.url {
            e.url(&format!("{at}.url"), url);
        }
    }
}

fn duplicates<'a>(record: &str, field: &str, keys: impl Iterator<Item = &'a str>, errors: &mut Vec<ValidationError>) {
    let mut seen = HashSet::new();
    for key in keys {
        if !seen.insert(key) {
            errors.push(ValidationError {
                record: record.into(),
                field: field.into(),
                message: format!("`{key}` appears twice"),
            });
        }
    }
}

struct Errors<'a> {
    record: &'a str,
    errors: &'a mut Vec<ValidationError>,
    today: Date,
}

/// No participation tool has a public source older than this; an earlier date is a typo.
const EARLIEST_SOURCE: Date = time::macros::date!(1995 - 01 - 01);

impl Errors<'_> {
    fn push(&mut self, field: &str, message: &str) {
        self.errors.push(ValidationError { record: self.record.into(), field: field.into(), message: message.into() });
    }

    fn nonempty(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.push(field, "must not be empty");
        }
    }

    /// A fact group's source and date; `prefix` is the group's path with its dot (`costs.`).
    fn sourced(&mut self, prefix: &str, sourced: &Sourced) {
        self.url(&format!("{prefix}source"), &sourced.source);
        if sourced.as_of > self.today {
            self.push(&format!("{prefix}as_of"), "lies in the future: the date the source was read");
        } else if sourced.as_of < EARLIEST_SOURCE {
            self.push(&format!("{prefix}as_of"), "lies before 1995: the date the source was read");
        }
    }

    fn range(&mut self, field: &str, min: f64, max: f64) {
        if !(min.is_finite() && max.is_finite()) || min < 0.0 || min > max {
            self.push(field, "must be a range with 0 ≤ min ≤ max");
        }
    }

    fn hours(&mut self, field: &str, hours: f64) {
        if !hours.is_finite() || hours < 0.0 {
            self.push(field, "must be a number of hours ≥ 0");
        }
    }

    fn url(&mut self, field: &str, value: &str) {
        // The same rule as the `^https?://\S+$` pattern in the OpenAPI document.
        let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
        let ok = rest.is_some_and(|r| !r.is_empty()) && !value.contains(char::is_whitespace);
        if !ok {
            self.push(field, "must be an http(s) URL");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundled;

    fn errors_for_licence(spdx: &str) -> Vec<ValidationError> {
        let doc = bundled::document().unwrap();
        let mut tool = doc.tools.iter().find(|t| t.slug.as_str() == "decidim").unwrap().clone();
        if let Some(l) = match &mut tool.licence {
            crate::Known::Known(l) => Some(l),
            crate::Known::Unknown => None,
        } {
            l.spdx = spdx.into();
        }
        validate_catalogue(&doc.taxonomy.unwrap(), &[tool], &doc.interfaces, time::macros::date!(2026 - 12 - 01))
            .into_iter()
            .filter(|e| e.field == "licence.spdx")
            .collect()
    }

    #[test]
    fn spdx_expressions_with_operators_are_accepted() {
        for ok in [
            "AGPL-3.0-or-later",
            "MIT OR Apache-2.0",
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
            "(MIT AND BSD-3-Clause)",
            "LicenseRef-proprietary",
        ] {
            assert!(errors_for_licence(ok).is_empty(), "{ok}");
        }
    }

    #[test]
    fn free_text_is_not_an_spdx_expression() {
        for bad in ["", "GNU Affero GPL v3", "MIT  OR Apache-2.0", "MIT;rm"] {
            assert!(!errors_for_licence(bad).is_empty(), "{bad}");
        }
    }

    fn decidim() -> (crate::CatalogueDocument, Tool) {
        let doc = bundled::document().unwrap();
        let tool = doc.tools.iter().find(|t| t.slug.as_str() == "decidim").unwrap().clone();
        (doc, tool)
    }

    fn fields(doc: &crate::CatalogueDocument, tool: Tool) -> Vec<String> {
        let today = time::macros::date!(2026 - 12 - 01);
        validate_catalogue(doc.taxonomy.as_ref().unwrap(), &[tool], &doc.interfaces, today)
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_known_fact_needs_a_source_url_and_a_date_that_has_passed() {
        let (doc, mut tool) = decidim();
        tool.functions.sourced.source = "siehe Website".into();
        tool.functions.sourced.as_of = time::macros::date!(2027 - 01 - 01);
        let f = fields(&doc, tool);
        assert!(f.contains(&"functions.source".to_owned()), "{f:?}");
        assert!(f.contains(&"functions.as_of".to_owned()), "{f:?}");
    }

    #[test]
    fn every_cost_figure_and_training_offer_is_checked_on_its_own() {
        let (doc, mut tool) = decidim();
        let sourced = tool.functions.sourced.clone();
        let text = crate::LocalizedText::new("Hosting", "Hosting");
        tool.costs = crate::Known::Known(Costs {
            model: crate::CostModel::Subscription,
            one_time_eur: crate::Known::Unknown,
            yearly_eur: crate::Known::Unknown,
            included: crate::Known::Unknown,
            sourced: sourced.clone(),
            figures: vec![crate::CostFigure {
                kind: crate::CostFigureKind::CouncilPaper,
                offer: None,
                min: 8000.0,
                max: 6000.0,
                currency: "euro".into(),
                per: crate::CostPeriod::Year,
                municipality: Some("Stadt Landshut".into()),
                population: None,
                included: text.clone(),
                sourced: Sourced { source: "ftp://example.org".into(), ..sourced.clone() },
            }],
        });
        tool.training = crate::Known::Known(Training {
            hours_admin: crate::Known::Known(-1.0),
            hours_moderator: crate::Known::Unknown,
            hours_citizen: crate::Known::Unknown,
            materials: crate::Known::Unknown,
            sourced: sourced.clone(),
            offers: vec![crate::TrainingOffer {
                kind: crate::TrainingKind::Course,
                roles: vec![crate::TrainingRole::Admin],
                title: text,
                hours: crate::Known::Known(f64::NAN),
                free_of_charge: crate::Known::Unknown,
                url: Some("kurs".into()),
                sourced,
            }],
        });
        let f = fields(&doc, tool);
        for expected in [
            "costs.figures[0]",
            "costs.figures[0].currency",
            "costs.figures[0].source",
            "training.hours_admin",
            "training.offers[0].hours",
            "training.offers[0].url",
        ] {
            assert!(f.contains(&expected.to_owned()), "{expected} not in {f:?}");
        }
    }
}
