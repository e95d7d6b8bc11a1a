//! The requirement profile (Anforderungsprofil) an administration enters: knock-out criteria,
//! weighted criteria with their scoring rules, context, and what unknown data means.

use mitsprache_catalogue::{InterfaceKind, WcagLevel};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A yes/no requirement on a tool. As a knock-out (must) it excludes tools that fail it; as a
/// weighted criterion (should) it scores 10 when met and 0 otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "criterion", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Criterion {
    /// The tool offers a function of the taxonomy.
    Function {
        key: String,
    },
    /// The tool is meant for a process type of the taxonomy.
    ProcessType {
        key: String,
    },
    /// The licence is an open-source licence.
    OpenSource,
    /// The tool can be operated by the municipality or its IT provider.
    SelfHosted,
    /// The vendor offers it as a service.
    Saas,
    /// The vendor's hosted offer runs in Germany.
    HostedInGermany,
    /// The vendor offers a processor agreement (Art. 28 DSGVO).
    ProcessorAgreement,
    /// Claimed WCAG/BITV conformance at least this level.
    AccessibilityAtLeast {
        level: WcagLevel,
    },
    /// The tool implements this interface of the catalogue.
    Interface {
        slug: String,
    },
    /// The tool implements some interface of this kind (e.g. any OpenID Connect login).
    InterfaceKind {
        kind: InterfaceKind,
    },
    /// The user interface is offered in this language (BCP 47).
    Language {
        tag: String,
    },
    MultiTenancy,
    /// One-time costs at most this (lower end of the published range).
    MaxOneTimeCost {
        eur: f64,
    },
    /// Yearly costs at most this.
    MaxYearlyCost {
        eur: f64,
    },
    /// One-time plus yearly costs over the years of use at most this.
    MaxTotalCost {
        eur: f64,
    },
}

impl Criterion {
    /// Budget caps apply to the sum of a toolkit's members, not to each member.
    pub fn is_budget(&self) -> bool {
        matches!(
            self,
            Criterion::MaxOneTimeCost { .. } | Criterion::MaxYearlyCost { .. } | Criterion::MaxTotalCost { .. }
        )
    }
}

/// How a weighted criterion maps a tool's data to a score from 0 to 10. Rules are absolute (set in
/// the profile before anything is scored, as UfAB asks), so a tool's score never depends on which
/// other tools are in the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Rule {
    /// 10 when the criterion is met, 0 otherwise.
    Meets { criterion: Criterion },
    /// 10 for no training hours, falling linearly to 0 at `zero_at_hours` (hours per role times
    /// the staff in the context, administrators plus moderators).
    LowTrainingEffort { zero_at_hours: f64 },
    /// 10 for no costs, falling linearly to 0 at `zero_at_eur` (total over the years of use).
    LowCost { zero_at_eur: f64 },
    /// The share of the needed user-interface languages (BCP 47) the tool offers, times 10:
    /// what counts is the need, not how many languages a tool has.
    Languages { tags: Vec<String> },
    /// The share of the needed interfaces the tool implements, times 10: named interfaces of
    /// the catalogue and interface kinds (any OpenID Connect login, any Open311 API …).
    Interfaces {
        #[serde(default)]
        slugs: Vec<String>,
        #[serde(default)]
        kinds: Vec<InterfaceKind>,
    },
}

/// A suitability requirement (Eignungskriterium) on the vendor or the tool's track record:
/// met or not, never weighted. Procurement keeps suitability apart from the award criteria
/// (UfAB: Eignung is checked before, and independently of, the Zuschlag), so references and
/// certificates never add points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "suitability", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Suitability {
    /// At least this many users the catalogue's sources name.
    References { at_least: u32 },
    /// A certificate whose name contains this text (case-insensitive), e.g. "ISO/IEC 27001".
    Certification { name: String },
}

// No deny_unknown_fields here: serde does not combine it with `flatten`; the flattened `Rule`
// rejects unknown keys itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Weighted {
    /// Weight points (Gewichtungspunkte).
    pub weight: u32,
    #[serde(flatten)]
    pub rule: Rule,
}

/// What unknown data means for a knock-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownPolicy {
    /// Unknown fails the knock-out (default): nothing passes on facts nobody published.
    #[default]
    Fail,
    /// Unknown passes, and the result lists what must be checked with the vendor.
    Check,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// Inhabitants of the municipality (recorded in the evaluation matrix).
    #[serde(default)]
    pub inhabitants: Option<u64>,
    /// Years of use, for total costs.
    #[serde(default = "default_years")]
    pub years: u32,
    /// Administrators and moderators to be trained, for training effort.
    #[serde(default = "one")]
    pub administrators: u32,
    #[serde(default = "one")]
    pub moderators: u32,
}

fn default_years() -> u32 {
    4
}

fn one() -> u32 {
    1
}

impl Default for Context {
    fn default() -> Self {
        Context { inhabitants: None, years: default_years(), administrators: 1, moderators: 1 }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Knock-out criteria (Ausschlusskriterien).
    #[serde(default)]
    pub must: Vec<Criterion>,
    /// Weighted criteria (Bewertungskriterien, the award part).
    #[serde(default)]
    pub should: Vec<Weighted>,
    /// Suitability requirements (Eignungskriterien), checked apart from the award.
    #[serde(default)]
    pub suitability: Vec<Suitability>,
    #[serde(default)]
    pub context: Context,
    #[serde(default)]
    pub unknown: UnknownPolicy,
}

/// A profile the engine cannot evaluate, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProfileError {
    pub field: String,
    pub message: String,
}

impl Profile {
    pub const MAX_CRITERIA: usize = 100;
    pub const MAX_YEARS: u32 = 30;

    /// Checks numbers and references against the catalogue, so a typo in a function key is an
    /// error and not a silent "nothing matches".
    pub fn check(&self, catalogue: &mitsprache_catalogue::Catalogue) -> Vec<ProfileError> {
        let mut errors = Vec::new();
        let mut err = |field: String, message: &str| errors.push(ProfileError { field, message: message.to_owned() });
        if self.must.len() + self.should.len() + self.suitability.len() > Self::MAX_CRITERIA {
            err("must".into(), "at most 100 criteria");
        }
        if !(1..=Self::MAX_YEARS).contains(&self.context.years) {
            err("context.years".into(), "must be from 1 to 30");
        }
        if self.context.administrators > 10_000 || self.context.moderators > 10_000 {
            err("context".into(), "at most 10,000 administrators or moderators");
        }
        let criteria = self.must.iter().enumerate().map(|(i, c)| (format!("must[{i}]"), c)).chain(
            self.should.iter().enumerate().filter_map(|(i, w)| match &w.rule {
                Rule::Meets { criterion } => Some((format!("should[{i}]"), criterion)),
                _ => None,
            }),
        );
        for (field, c) in criteria {
            match c {
                Criterion::Function { key } if catalogue.taxonomy.function(key).is_none() => {
                    err(format!("{field}.key"), "is not a function of the taxonomy")
                }
                Criterion::ProcessType { key } if catalogue.taxonomy.process_type(key).is_none() => {
                    err(format!("{field}.key"), "is not a process type of the taxonomy")
                }
                Criterion::Interface { slug } if catalogue.interface(slug).is_none() => {
                    err(format!("{field}.slug"), "is not an interface of the catalogue")
                }
                Criterion::MaxOneTimeCost { eur }
                | Criterion::MaxYearlyCost { eur }
                | Criterion::MaxTotalCost { eur }
                    if !(eur.is_finite() && *eur >= 0.0) =>
                {
                    err(format!("{field}.eur"), "must be an amount ≥ 0")
                }
                _ => {}
            }
        }
        for (i, w) in self.should.iter().enumerate() {
            if w.weight > 1000 {
                err(format!("should[{i}].weight"), "at most 1000 weight points");
            }
            match &w.rule {
                Rule::LowTrainingEffort { zero_at_hours: x } | Rule::LowCost { zero_at_eur: x }
                    if !(x.is_finite() && *x > 0.0) =>
                {
                    err(format!("should[{i}]"), "the rule's threshold must be greater than 0")
                }
                Rule::Languages { tags } if tags.is_empty() => {
                    err(format!("should[{i}].tags"), "name at least one language")
                }
                Rule::Interfaces { slugs, kinds } if slugs.is_empty() && kinds.is_empty() => {
                    err(format!("should[{i}]"), "name at least one interface or interface kind")
                }
                Rule::Interfaces { slugs, .. } => {
                    for (j, slug) in slugs.iter().enumerate() {
                        if catalogue.interface(slug).is_none() {
                            err(format!("should[{i}].slugs[{j}]"), "is not an interface of the catalogue");
                        }
                    }
                }
                _ => {}
            }
        }
        for (i, s) in self.suitability.iter().enumerate() {
            match s {
                Suitability::References { at_least } if *at_least == 0 || *at_least > 1000 => {
                    err(format!("suitability[{i}].at_least"), "must be from 1 to 1000")
                }
                Suitability::Certification { name } if name.trim().is_empty() || name.chars().count() > 100 => {
                    err(format!("suitability[{i}].name"), "must be 1 to 100 characters")
                }
                _ => {}
            }
        }
        errors
    }
}
