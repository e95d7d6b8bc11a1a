//! The fast path: the catalogue compiled once per revision into per-tool features (bitmasks and
//! numbers), and a profile compiled against it, so ranking thousands of tools is arithmetic.
//! [`crate::evaluate`] stays the reference: it produces the explanations for the tools that are
//! shown, and a property test checks that both paths reach the same verdicts and scores.

use crate::evaluate::Verdict;
use crate::profile::{Context, Criterion, Rule};
use mitsprache_catalogue::{Catalogue, Direction, InterfaceKind, WcagLevel};
use std::collections::HashMap;

/// A fact that may be unknown: `None`.
type Tri = Option<bool>;

#[derive(Debug, Clone)]
pub(crate) struct Features {
    pub functions: u64,
    pub process_types: Option<u64>,
    pub open_source: Tri,
    pub self_hosted: Tri,
    pub saas: Tri,
    pub hosted_in_germany: Tri,
    pub processor_agreement: Tri,
    pub multi_tenancy: Tri,
    pub accessibility: Option<WcagLevel>,
    /// Indices into the catalogue's interfaces, sorted.
    pub interfaces: Vec<u32>,
    /// Bit per interface kind the tool implements in any direction / as a consumer.
    pub kinds: u16,
    pub kinds_in: u16,
    /// Indices into the index's language table, sorted; `None` when not published.
    pub languages: Option<Vec<u32>>,
    pub one_time: Option<f64>,
    pub yearly: Option<f64>,
    pub hours_admin: Option<f64>,
    pub hours_moderator: Option<f64>,
}

/// The compiled catalogue. Build it once per catalogue revision with [`MatchIndex::new`].
#[derive(Debug, Clone)]
pub struct MatchIndex {
    pub(crate) revision: i64,
    pub(crate) tools: Vec<Features>,
    functions: HashMap<String, u32>,
    process_types: HashMap<String, u32>,
    interfaces: HashMap<String, u32>,
    languages: HashMap<String, u32>,
}

fn kind_bit(kind: InterfaceKind) -> u16 {
    1 << InterfaceKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

impl MatchIndex {
    pub fn new(catalogue: &Catalogue) -> MatchIndex {
        let functions: HashMap<String, u32> =
            catalogue.taxonomy.functions.iter().take(64).enumerate().map(|(i, t)| (t.key.clone(), i as u32)).collect();
        let process_types: HashMap<String, u32> = catalogue
            .taxonomy
            .process_types
            .iter()
            .take(64)
            .enumerate()
            .map(|(i, t)| (t.key.clone(), i as u32))
            .collect();
        let interfaces: HashMap<String, u32> =
            catalogue.interfaces().iter().enumerate().map(|(i, x)| (x.slug.to_string(), i as u32)).collect();
        let mut languages: HashMap<String, u32> = HashMap::new();
        let bits = |keys: &[String], table: &HashMap<String, u32>| {
            keys.iter().filter_map(|k| table.get(k)).fold(0u64, |m, i| m | (1 << i))
        };
        let tools = catalogue
            .tools()
            .iter()
            .map(|t| {
                let hosting = t.hosting.as_option();
                let mut linked: Vec<u32> =
                    t.interfaces.iter().filter_map(|l| interfaces.get(&l.interface).copied()).collect();
                linked.sort_unstable();
                let (mut kinds, mut kinds_in) = (0u16, 0u16);
                for l in &t.interfaces {
                    if let Some(i) = catalogue.interface(&l.interface) {
                        kinds |= kind_bit(i.kind);
                        if matches!(l.direction, Direction::In | Direction::Both) {
                            kinds_in |= kind_bit(i.kind);
                        }
                    }
                }
                let tool_languages = t.languages.as_option().map(|l| {
                    let mut v: Vec<u32> = l
                        .values
                        .iter()
                        .map(|tag| {
                            let next = languages.len() as u32;
                            *languages.entry(tag.clone()).or_insert(next)
                        })
                        .collect();
                    v.sort_unstable();
                    v
                });
                // The same amounts and hours the explaining path uses (list prices or estimates).
                let costs = crate::evaluate::costs(t, 1);
                let (hours_admin, hours_moderator) = crate::evaluate::training_per_role(t);
                Features {
                    functions: bits(&t.functions.values, &functions),
                    process_types: t.process_types.as_option().map(|p| bits(&p.values, &process_types)),
                    open_source: t.licence.as_option().map(|l| l.open_source),
                    self_hosted: hosting.and_then(|h| h.self_hosted.as_option().copied()),
                    saas: hosting.and_then(|h| h.saas.as_option().copied()),
                    hosted_in_germany: hosting.and_then(|h| h.hosted_in_germany.as_option().copied()),
                    processor_agreement: t
                        .data_protection
                        .as_option()
                        .and_then(|d| d.processor_agreement.as_option().copied()),
                    multi_tenancy: t.multi_tenancy.as_option().map(|m| m.supported),
                    accessibility: t.accessibility.as_option().map(|a| a.claimed_level),
                    interfaces: linked,
                    kinds,
                    kinds_in,
                    languages: tool_languages,
                    one_time: costs.one_time,
                    yearly: costs.yearly,
                    hours_admin,
                    hours_moderator,
                }
            })
            .collect();
        MatchIndex { revision: catalogue.revision, tools, functions, process_types, interfaces, languages }
    }

    /// The catalogue revision the index was built from.
    pub fn revision(&self) -> i64 {
        self.revision
    }

    pub(crate) fn function_bit(&self, key: &str) -> u64 {
        self.functions.get(key).map_or(0, |i| 1u64 << i)
    }

    pub(crate) fn kind_bit(&self, kind: InterfaceKind) -> u16 {
        kind_bit(kind)
    }

    pub(crate) fn compile(&self, c: &Criterion) -> Compiled {
        // A key the catalogue does not know compiles to a bit no tool has (Profile::check
        // reports it before this is reached).
        let bit = |table: &HashMap<String, u32>, key: &str| table.get(key).map_or(0, |i| 1u64 << i);
        match c {
            Criterion::Function { key } => Compiled::Function(bit(&self.functions, key)),
            Criterion::ProcessType { key } => Compiled::ProcessType(bit(&self.process_types, key)),
            Criterion::OpenSource => Compiled::Flag(Flag::OpenSource),
            Criterion::SelfHosted => Compiled::Flag(Flag::SelfHosted),
            Criterion::Saas => Compiled::Flag(Flag::Saas),
            Criterion::HostedInGermany => Compiled::Flag(Flag::HostedInGermany),
            Criterion::ProcessorAgreement => Compiled::Flag(Flag::ProcessorAgreement),
            Criterion::MultiTenancy => Compiled::Flag(Flag::MultiTenancy),
            Criterion::AccessibilityAtLeast { level } => Compiled::Accessibility(*level),
            Criterion::Interface { slug } => Compiled::Interface(self.interfaces.get(slug).copied()),
            Criterion::InterfaceKind { kind } => Compiled::Kind(kind_bit(*kind)),
            Criterion::Language { tag } => Compiled::Language(self.languages.get(tag).copied()),
            Criterion::MaxOneTimeCost { eur } => Compiled::MaxOneTime(*eur),
            Criterion::MaxYearlyCost { eur } => Compiled::MaxYearly(*eur),
            Criterion::MaxTotalCost { eur } => Compiled::MaxTotal(*eur),
        }
    }

    pub(crate) fn compile_rule(&self, r: &Rule) -> CompiledRule {
        match r {
            Rule::Meets { criterion } => CompiledRule::Meets(self.compile(criterion)),
            Rule::LowTrainingEffort { zero_at_hours } => CompiledRule::Training(*zero_at_hours),
            Rule::LowCost { zero_at_eur } => CompiledRule::Cost(*zero_at_eur),
            Rule::Languages { tags } => {
                CompiledRule::Languages(tags.iter().map(|t| self.languages.get(t).copied()).collect())
            }
            Rule::Interfaces { slugs, kinds } => CompiledRule::Interfaces(
                slugs.iter().map(|s| self.interfaces.get(s).copied()).collect(),
                kinds.iter().map(|k| kind_bit(*k)).collect(),
            ),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Flag {
    OpenSource,
    SelfHosted,
    Saas,
    HostedInGermany,
    ProcessorAgreement,
    MultiTenancy,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Compiled {
    Function(u64),
    ProcessType(u64),
    Flag(Flag),
    Accessibility(WcagLevel),
    Interface(Option<u32>),
    Kind(u16),
    Language(Option<u32>),
    MaxOneTime(f64),
    MaxYearly(f64),
    MaxTotal(f64),
}

#[derive(Debug, Clone)]
pub(crate) enum CompiledRule {
    Meets(Compiled),
    Training(f64),
    Cost(f64),
    /// The needed languages (`None`: no tool offers it).
    Languages(Vec<Option<u32>>),
    /// The needed interfaces and interface kinds.
    Interfaces(Vec<Option<u32>>, Vec<u16>),
}

fn tri(b: Tri) -> Verdict {
    match b {
        Some(true) => Verdict::Met,
        Some(false) => Verdict::NotMet,
        None => Verdict::Unknown,
    }
}

impl Features {
    pub fn total(&self, years: u32) -> Option<f64> {
        Some(self.one_time? + self.yearly? * f64::from(years))
    }

    pub fn training(&self, ctx: &Context) -> Option<f64> {
        Some(self.hours_admin? * f64::from(ctx.administrators) + self.hours_moderator? * f64::from(ctx.moderators))
    }

    pub fn verdict(&self, c: &Compiled, years: u32) -> Verdict {
        match *c {
            Compiled::Function(bit) => tri(Some(bit != 0 && self.functions & bit != 0)),
            Compiled::ProcessType(bit) => tri(self.process_types.map(|p| bit != 0 && p & bit != 0)),
            Compiled::Flag(flag) => tri(match flag {
                Flag::OpenSource => self.open_source,
                Flag::SelfHosted => self.self_hosted,
                Flag::Saas => self.saas,
                Flag::HostedInGermany => self.hosted_in_germany,
                Flag::ProcessorAgreement => self.processor_agreement,
                Flag::MultiTenancy => self.multi_tenancy,
            }),
            Compiled::Accessibility(level) => tri(self.accessibility.map(|a| a >= level && a != WcagLevel::None)),
            Compiled::Interface(i) => tri(Some(i.is_some_and(|i| self.interfaces.binary_search(&i).is_ok()))),
            Compiled::Kind(bit) => tri(Some(self.kinds & bit != 0)),
            Compiled::Language(i) => {
                tri(self.languages.as_ref().map(|l| i.is_some_and(|i| l.binary_search(&i).is_ok())))
            }
            Compiled::MaxOneTime(eur) => tri(self.one_time.map(|c| c <= eur)),
            Compiled::MaxYearly(eur) => tri(self.yearly.map(|c| c <= eur)),
            Compiled::MaxTotal(eur) => tri(self.total(years).map(|c| c <= eur)),
        }
    }

    /// Score in tenths (0–100, as shown rounded to one decimal) and whether the data was unknown.
    /// Integer tenths keep the ranking loop free of divisions and make sums exact.
    pub fn score_tenths(&self, r: &CompiledRule, ctx: &Context) -> (u64, bool) {
        let tenths = |s: f64| (s * 10.0 + 0.5) as u64;
        // 10 × met / needed, rounded to tenths like the explaining path's round1.
        let share_tenths = |met: usize, needed: usize| tenths(10.0 * met as f64 / needed.max(1) as f64);
        match *r {
            CompiledRule::Meets(c) => match self.verdict(&c, ctx.years) {
                Verdict::Met => (100, false),
                Verdict::NotMet => (0, false),
                Verdict::Unknown => (0, true),
            },
            CompiledRule::Training(zero) => {
                self.training(ctx).map_or((0, true), |h| (tenths(crate::evaluate::linear_down(h, zero)), false))
            }
            CompiledRule::Cost(zero) => {
                self.total(ctx.years).map_or((0, true), |c| (tenths(crate::evaluate::linear_down(c, zero)), false))
            }
            CompiledRule::Languages(ref needed) => self.languages.as_ref().map_or((0, true), |l| {
                let met = needed.iter().filter(|n| n.is_some_and(|i| l.binary_search(&i).is_ok())).count();
                (share_tenths(met, needed.len()), false)
            }),
            CompiledRule::Interfaces(ref slugs, ref kinds) => {
                let met = slugs.iter().filter(|n| n.is_some_and(|i| self.interfaces.binary_search(&i).is_ok())).count()
                    + kinds.iter().filter(|bit| self.kinds & **bit != 0).count();
                (share_tenths(met, slugs.len() + kinds.len()), false)
            }
        }
    }
}
