//! How much of what administrations ask first the catalogue can answer: per fact the share of
//! tools with a sourced value, and per tool the facts still unknown (an editor's to-do list).
//! `mitsprache catalogue report` prints it; the editor page shows it.

use crate::{Known, Tool};
use serde::Serialize;

/// A fact the report counts. The first six are the questions the marketplace issue names; the
/// rest complete the to-do list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    /// A euro amount: a list price, a figure from a council paper, an award or a report, or
    /// "free of charge" (an amount of 0).
    CostFigure,
    /// Hours of training for some role, from the record or a published training offer.
    TrainingEffort,
    /// A German user interface.
    GermanUi,
    /// Where the data is kept (or that the hosted offer runs in Germany).
    HostingLocation,
    /// Whether the vendor offers an Auftragsverarbeitungsvertrag.
    ProcessorAgreement,
    /// A published accessibility statement (Erklärung zur Barrierefreiheit).
    AccessibilityStatement,
    Licence,
    ProcessTypes,
    Hosting,
    CostModel,
    TrainingOffers,
    Accessibility,
    Languages,
    MultiTenancy,
    VendorContact,
    SourceRepository,
    References,
}

impl Fact {
    /// The headline facts, in the order the report prints them.
    pub const HEADLINE: [Fact; 6] = [
        Fact::CostFigure,
        Fact::TrainingEffort,
        Fact::GermanUi,
        Fact::HostingLocation,
        Fact::ProcessorAgreement,
        Fact::AccessibilityStatement,
    ];

    pub const ALL: [Fact; 17] = [
        Fact::CostFigure,
        Fact::TrainingEffort,
        Fact::GermanUi,
        Fact::HostingLocation,
        Fact::ProcessorAgreement,
        Fact::AccessibilityStatement,
        Fact::Licence,
        Fact::ProcessTypes,
        Fact::Hosting,
        Fact::CostModel,
        Fact::TrainingOffers,
        Fact::Accessibility,
        Fact::Languages,
        Fact::MultiTenancy,
        Fact::VendorContact,
        Fact::SourceRepository,
        Fact::References,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Fact::CostFigure => "cost_figure",
            Fact::TrainingEffort => "training_effort",
            Fact::GermanUi => "german_ui",
            Fact::HostingLocation => "hosting_location",
            Fact::ProcessorAgreement => "processor_agreement",
            Fact::AccessibilityStatement => "accessibility_statement",
            Fact::Licence => "licence",
            Fact::ProcessTypes => "process_types",
            Fact::Hosting => "hosting",
            Fact::CostModel => "cost_model",
            Fact::TrainingOffers => "training_offers",
            Fact::Accessibility => "accessibility",
            Fact::Languages => "languages",
            Fact::MultiTenancy => "multi_tenancy",
            Fact::VendorContact => "vendor_contact",
            Fact::SourceRepository => "source_repository",
            Fact::References => "references",
        }
    }

    /// The record's fact group a vendor or editor fills to answer this fact.
    pub fn group(self) -> &'static str {
        match self {
            Fact::CostFigure | Fact::CostModel => "costs",
            Fact::TrainingEffort | Fact::TrainingOffers => "training",
            Fact::GermanUi | Fact::Languages => "languages",
            Fact::HostingLocation | Fact::ProcessorAgreement => "data_protection",
            Fact::AccessibilityStatement | Fact::Accessibility => "accessibility",
            Fact::Licence => "licence",
            Fact::ProcessTypes => "process_types",
            Fact::Hosting => "hosting",
            Fact::MultiTenancy => "multi_tenancy",
            Fact::VendorContact => "vendor",
            Fact::SourceRepository => "source_repository",
            Fact::References => "references",
        }
    }

    /// Whether the tool's record answers this fact with a sourced value.
    pub fn known(self, tool: &Tool) -> bool {
        match self {
            Fact::CostFigure => tool.costs.as_option().is_some_and(|c| {
                c.model == crate::CostModel::Free
                    || c.one_time_eur.is_known()
                    || c.yearly_eur.is_known()
                    || !c.figures.is_empty()
            }),
            Fact::TrainingEffort => tool.training.as_option().is_some_and(|t| {
                [&t.hours_admin, &t.hours_moderator, &t.hours_citizen].iter().any(|h| h.is_known())
                    || t.offers.iter().any(|o| o.hours.is_known())
            }),
            Fact::GermanUi => {
                tool.languages.as_option().is_some_and(|l| l.values.iter().any(|t| t == "de" || t.starts_with("de-")))
            }
            Fact::HostingLocation => {
                tool.data_protection.as_option().is_some_and(|d| d.data_location.is_known())
                    || tool.hosting.as_option().is_some_and(|h| h.hosted_in_germany.is_known())
            }
            Fact::ProcessorAgreement => {
                tool.data_protection.as_option().is_some_and(|d| d.processor_agreement.is_known())
            }
            Fact::AccessibilityStatement => {
                tool.accessibility.as_option().is_some_and(|a| matches!(a.statement_url, Known::Known(Some(_))))
            }
            Fact::Licence => tool.licence.is_known(),
            Fact::ProcessTypes => tool.process_types.is_known(),
            Fact::Hosting => tool.hosting.as_option().is_some_and(|h| h.saas.is_known() && h.self_hosted.is_known()),
            Fact::CostModel => tool.costs.is_known(),
            Fact::TrainingOffers => tool.training.as_option().is_some_and(|t| !t.offers.is_empty()),
            Fact::Accessibility => tool.accessibility.is_known(),
            Fact::Languages => tool.languages.is_known(),
            Fact::MultiTenancy => tool.multi_tenancy.is_known(),
            Fact::VendorContact => tool.vendor.contact.is_some(),
            Fact::SourceRepository => tool.source_repository.is_known(),
            Fact::References => !tool.references.is_empty(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Share {
    pub fact: Fact,
    /// Tools whose record answers the fact.
    pub known: usize,
    pub tools: usize,
}

impl Share {
    /// Whole per cent, rounded down so a report never claims more than the catalogue holds.
    pub fn percent(&self) -> usize {
        (self.known * 100).checked_div(self.tools).unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ToolGaps {
    pub slug: String,
    pub name: String,
    /// The facts its record leaves unknown, headline facts first.
    pub unknown: Vec<Fact>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub tools: usize,
    /// One share per fact, headline facts first.
    pub shares: Vec<Share>,
    /// Tools with the most unknown headline facts first, then by slug.
    pub gaps: Vec<ToolGaps>,
}

pub fn report(tools: &[Tool]) -> Report {
    let shares = Fact::ALL
        .iter()
        .map(|&fact| Share { fact, known: tools.iter().filter(|t| fact.known(t)).count(), tools: tools.len() })
        .collect();
    let mut gaps: Vec<ToolGaps> = tools
        .iter()
        .map(|t| ToolGaps {
            slug: t.slug.to_string(),
            name: t.name.clone(),
            unknown: Fact::ALL.iter().copied().filter(|f| !f.known(t)).collect(),
        })
        .collect();
    let headline_gaps = |g: &ToolGaps| g.unknown.iter().filter(|f| Fact::HEADLINE.contains(f)).count();
    gaps.sort_by(|a, b| headline_gaps(b).cmp(&headline_gaps(a)).then_with(|| a.slug.cmp(&b.slug)));
    Report { tools: tools.len(), shares, gaps }
}

impl Report {
    pub fn share(&self, fact: Fact) -> Option<&Share> {
        self.shares.iter().find(|s| s.fact == fact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundled;

    fn tools() -> Vec<Tool> {
        bundled::document().unwrap().tools
    }

    #[test]
    fn a_fact_counts_only_when_the_record_states_it() {
        let mut t = tools().into_iter().find(|t| t.slug.as_str() == "decidim").unwrap();
        t.costs = Known::Unknown;
        t.languages = Known::Unknown;
        let r = report(std::slice::from_ref(&t));
        assert_eq!(r.share(Fact::CostFigure).unwrap().known, 0);
        assert_eq!(r.share(Fact::GermanUi).unwrap().known, 0);
        assert!(r.gaps[0].unknown.contains(&Fact::CostFigure));
    }

    #[test]
    fn an_open_source_licence_alone_is_not_a_cost_figure() {
        // "No licence fee" says nothing about what operating the tool costs.
        let mut t = tools().into_iter().find(|t| t.slug.as_str() == "decidim").unwrap();
        let mut costs = crate::Costs {
            model: crate::CostModel::OpenSourceSelfOperated,
            one_time_eur: Known::Unknown,
            yearly_eur: Known::Unknown,
            included: Known::Unknown,
            sourced: t.functions.sourced.clone(),
            figures: Vec::new(),
        };
        t.costs = Known::Known(costs.clone());
        assert!(!Fact::CostFigure.known(&t));
        costs.model = crate::CostModel::Free;
        t.costs = Known::Known(costs);
        assert!(Fact::CostFigure.known(&t), "free of charge is an amount: 0 EUR");
    }

    #[test]
    fn shares_cover_every_tool_and_round_down() {
        let all = tools();
        let r = report(&all);
        assert_eq!(r.gaps.len(), all.len());
        for s in &r.shares {
            assert_eq!(s.tools, all.len());
            assert!(s.known <= s.tools);
            assert!(s.percent() * s.tools <= s.known * 100);
        }
    }
}
