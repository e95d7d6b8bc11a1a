//! Rules a record must satisfy beyond its shape: references resolve, numbers make sense, URLs
//! are web addresses. Each error names the record and field so an import report can point at it.

use crate::{Costs, Interface, Taxonomy, Tool};
use std::collections::HashSet;

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
pub fn validate_catalogue(taxonomy: &Taxonomy, tools: &[Tool], interfaces: &[Interface]) -> Vec<ValidationError> {
    let mut errors = Vec::new();
    let interface_slugs: HashSet<&str> = interfaces.iter().map(|i| i.slug.as_str()).collect();
    duplicates("taxonomy", "functions", taxonomy.functions.iter().map(|t| t.key.as_str()), &mut errors);
    duplicates("taxonomy", "process_types", taxonomy.process_types.iter().map(|t| t.key.as_str()), &mut errors);
    duplicates("catalogue", "tools", tools.iter().map(|t| t.slug.as_str()), &mut errors);
    duplicates("catalogue", "interfaces", interfaces.iter().map(|t| t.slug.as_str()), &mut errors);
    for interface in interfaces {
        let mut e = Errors { record: interface.slug.as_str(), errors: &mut errors };
        e.url("specification_url", &interface.specification_url);
        e.url("source", &interface.sourced.source);
        e.nonempty("name", &interface.name);
    }
    for tool in tools {
        validate_tool(tool, taxonomy, &interface_slugs, &mut errors);
    }
    errors
}

fn validate_tool(tool: &Tool, taxonomy: &Taxonomy, interfaces: &HashSet<&str>, errors: &mut Vec<ValidationError>) {
    let mut e = Errors { record: tool.slug.as_str(), errors };
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
    e.url("functions.source", &tool.functions.sourced.source);
    for (i, key) in tool.functions.values.iter().enumerate() {
        if taxonomy.function(key).is_none() {
            e.push(&format!("functions.values[{i}]"), &format!("`{key}` is not in the function taxonomy"));
        }
    }
    if let Some(p) = tool.process_types.as_option() {
        e.url("process_types.source", &p.sourced.source);
        for (i, key) in p.values.iter().enumerate() {
            if taxonomy.process_type(key).is_none() {
                e.push(&format!("process_types.values[{i}]"), &format!("`{key}` is not in the process-type taxonomy"));
            }
        }
    }
    if let Some(l) = tool.licence.as_option() {
        e.url("licence.source", &l.sourced.source);
        if !is_spdx_expression(&l.spdx) {
            e.push("licence.spdx", "must be an SPDX licence expression (identifiers joined by OR, AND, WITH)");
        }
    }
    if let Some(h) = tool.hosting.as_option() {
        e.url("hosting.source", &h.sourced.source);
    }
    if let Some(c) = tool.costs.as_option() {
        e.url("costs.source", &c.sourced.source);
        check_costs(c, &mut e);
    }
    if let Some(t) = tool.training.as_option() {
        e.url("training.source", &t.sourced.source);
        for (field, hours) in [
            ("hours_admin", &t.hours_admin),
            ("hours_moderator", &t.hours_moderator),
            ("hours_citizen", &t.hours_citizen),
        ] {
            if let Some(h) = hours.as_option()
                && (!h.is_finite() || *h < 0.0)
            {
                e.push(&format!("training.{field}"), "must be a number of hours ≥ 0");
            }
        }
    }
    if let Some(a) = tool.accessibility.as_option() {
        e.url("accessibility.source", &a.sourced.source);
        if let Some(Some(url)) = a.statement_url.as_option() {
            e.url("accessibility.statement_url", url);
        }
    }
    if let Some(d) = tool.data_protection.as_option() {
        e.url("data_protection.source", &d.sourced.source);
    }
    if let Some(l) = tool.languages.as_option() {
        e.url("languages.source", &l.sourced.source);
        for (i, tag) in l.values.iter().enumerate() {
            let ok = (2..=3).contains(&tag.split('-').next().map_or(0, str::len))
                && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                e.push(&format!("languages.values[{i}]"), &format!("`{tag}` is not a BCP 47 language tag"));
            }
        }
    }
    if let Some(m) = tool.multi_tenancy.as_option() {
        e.url("multi_tenancy.source", &m.sourced.source);
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
        e.url(&format!("interfaces[{i}].source"), &link.sourced.source);
    }
    for (i, r) in tool.references.iter().enumerate() {
        e.nonempty(&format!("references[{i}].name"), &r.name);
        e.url(&format!("references[{i}].source"), &r.sourced.source);
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
        if let Some(r) = range.as_option()
            && (!(r.min.is_finite() && r.max.is_finite()) || r.min < 0.0 || r.min > r.max)
        {
            e.push(&format!("costs.{field}"), "must be a range with 0 ≤ min ≤ max");
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
}

impl Errors<'_> {
    fn push(&mut self, field: &str, message: &str) {
        self.errors.push(ValidationError { record: self.record.into(), field: field.into(), message: message.into() });
    }

    fn nonempty(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.push(field, "must not be empty");
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
        validate_catalogue(&doc.taxonomy.unwrap(), &[tool], &doc.interfaces)
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
}
