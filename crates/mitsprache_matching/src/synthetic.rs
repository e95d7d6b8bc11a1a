//! Synthetic catalogues and profiles of any size, for property tests and benchmarks. Built from
//! the real taxonomy and interfaces with a seeded generator, so a seed always gives the same
//! catalogue. Never shown to people: the tools are made up.

use crate::{Context, Criterion, Profile, Rule, UnknownPolicy, Weighted};
use mitsprache_catalogue::{
    Accessibility, Catalogue, CostModel, Costs, DataProtection, Direction, EuroRange, FunctionList, Hosting, Known,
    Languages, Licence, LocalizedText, MultiTenancy, ProcessTypeList, Reference, Slug, Sourced, Tool, ToolInterface,
    Training, Vendor, WcagLevel, bundled,
};

/// A small, fast, seedable generator (SplitMix64); statistical quality is irrelevant here.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// True with probability `percent` %.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn known<T>(is_known: bool, value: T) -> Known<T> {
    if is_known { Known::Known(value) } else { Known::Unknown }
}

fn sourced() -> Sourced {
    Sourced::research("https://example.org/synthetic", time::macros::date!(2026 - 01 - 01))
}

/// `n` made-up tools with facts drawn like the real catalogue's: many unknowns.
pub fn catalogue(n: usize, seed: u64) -> Catalogue {
    let doc = bundled::document().unwrap_or_default();
    let taxonomy = doc.taxonomy.clone().unwrap_or_default();
    let interfaces = doc.interfaces;
    let mut rng = Rng::new(seed);
    let langs = ["de", "en", "fr", "tr", "ar", "uk", "pl", "es"];
    let tools = (0..n)
        .map(|i| {
            let functions: Vec<String> =
                taxonomy.functions.iter().filter(|_| rng.chance(30)).map(|t| t.key.clone()).collect();
            let links: Vec<ToolInterface> = interfaces
                .iter()
                .filter(|_| rng.chance(12))
                .map(|x| ToolInterface {
                    interface: x.slug.to_string(),
                    direction: Direction::In,
                    note: None,
                    sourced: sourced(),
                })
                .collect();
            let open = rng.chance(60);
            let yearly = rng.below(40_000) as f64;
            Tool {
                slug: Slug::parse(&format!("tool-{i}")).unwrap_or_else(|_| unreachable!("generated slugs are valid")),
                name: format!("Tool {i}"),
                vendor: Vendor { name: format!("Vendor {}", i % 97), url: None, contact: None },
                short_description: LocalizedText::new("Synthetisch", "Synthetic"),
                description: LocalizedText::new("Synthetisches Werkzeug", "Synthetic tool"),
                website: "https://example.org".into(),
                source_repository: Known::Known(None),
                licence: Known::Known(Licence {
                    spdx: if open { "AGPL-3.0-or-later".into() } else { Licence::PROPRIETARY.into() },
                    open_source: open,
                    sourced: sourced(),
                }),
                functions: FunctionList { values: functions, sourced: sourced() },
                process_types: known(
                    rng.chance(70),
                    ProcessTypeList {
                        values: taxonomy
                            .process_types
                            .iter()
                            .filter(|_| rng.chance(30))
                            .map(|t| t.key.clone())
                            .collect(),
                        sourced: sourced(),
                    },
                ),
                hosting: Known::Known(Hosting {
                    saas: known(rng.chance(70), rng.chance(50)),
                    self_hosted: known(rng.chance(70), rng.chance(50)),
                    hosted_in_germany: known(rng.chance(50), rng.chance(50)),
                    sourced: sourced(),
                }),
                costs: known(
                    rng.chance(60),
                    Costs {
                        model: if open { CostModel::OpenSourceSelfOperated } else { CostModel::Subscription },
                        one_time_eur: known(rng.chance(70), EuroRange { min: rng.below(20_000) as f64, max: 20_000.0 }),
                        yearly_eur: known(rng.chance(70), EuroRange { min: yearly, max: yearly + 10_000.0 }),
                        included: Known::Unknown,
                        sourced: sourced(),
                        figures: Vec::new(),
                    },
                ),
                training: known(
                    rng.chance(40),
                    Training {
                        hours_admin: known(rng.chance(80), rng.below(40) as f64),
                        hours_moderator: known(rng.chance(80), rng.below(20) as f64),
                        hours_citizen: Known::Unknown,
                        materials: Known::Unknown,
                        sourced: sourced(),
                        offers: Vec::new(),
                    },
                ),
                accessibility: known(
                    rng.chance(40),
                    Accessibility {
                        standard: "WCAG 2.1".into(),
                        claimed_level: [WcagLevel::None, WcagLevel::A, WcagLevel::AA, WcagLevel::AAA]
                            [rng.below(4) as usize],
                        statement_url: Known::Unknown,
                        sourced: sourced(),
                    },
                ),
                data_protection: known(
                    rng.chance(50),
                    DataProtection {
                        data_location: Known::Unknown,
                        processor_agreement: known(rng.chance(70), rng.chance(60)),
                        sourced: sourced(),
                    },
                ),
                languages: known(
                    rng.chance(60),
                    Languages {
                        values: langs.iter().filter(|_| rng.chance(40)).map(|l| (*l).to_owned()).collect(),
                        sourced: sourced(),
                    },
                ),
                multi_tenancy: known(
                    rng.chance(60),
                    MultiTenancy { supported: rng.chance(50), note: None, sourced: sourced() },
                ),
                interfaces: links,
                references: (0..rng.below(6))
                    .map(|r| Reference { name: format!("Stadt {r}"), url: None, sourced: sourced() })
                    .collect(),
                certifications: Vec::new(),
                publiccode: None,
            }
        })
        .collect();
    Catalogue::new(1, taxonomy, tools, interfaces)
}

/// The knock-out criteria a generated profile draws from.
pub fn criteria_pool(catalogue: &Catalogue) -> Vec<Criterion> {
    let mut pool: Vec<Criterion> =
        catalogue.taxonomy.functions.iter().map(|t| Criterion::Function { key: t.key.clone() }).collect();
    pool.extend([
        Criterion::OpenSource,
        Criterion::SelfHosted,
        Criterion::Saas,
        Criterion::HostedInGermany,
        Criterion::ProcessorAgreement,
        Criterion::AccessibilityAtLeast { level: WcagLevel::AA },
        Criterion::InterfaceKind { kind: mitsprache_catalogue::InterfaceKind::LoginOidc },
        Criterion::Language { tag: "de".into() },
        Criterion::MultiTenancy,
        Criterion::MaxOneTimeCost { eur: 10_000.0 },
        Criterion::MaxYearlyCost { eur: 20_000.0 },
        Criterion::MaxTotalCost { eur: 60_000.0 },
    ]);
    pool.extend(catalogue.taxonomy.process_types.iter().map(|t| Criterion::ProcessType { key: t.key.clone() }));
    pool
}

/// A profile with `musts` knock-outs and `shoulds` weighted criteria drawn from the pool.
pub fn profile(catalogue: &Catalogue, musts: usize, shoulds: usize, seed: u64, unknown: UnknownPolicy) -> Profile {
    let pool = criteria_pool(catalogue);
    let mut rng = Rng::new(seed);
    let must = (0..musts).map(|_| pool[rng.below(pool.len() as u64) as usize].clone()).collect();
    let rules = [
        Rule::LowTrainingEffort { zero_at_hours: 80.0 },
        Rule::LowCost { zero_at_eur: 100_000.0 },
        Rule::Languages { tags: vec!["de".into(), "en".into(), "tr".into()] },
        Rule::Interfaces {
            slugs: catalogue.interfaces().iter().take(2).map(|i| i.slug.to_string()).collect(),
            kinds: vec![mitsprache_catalogue::InterfaceKind::LoginOidc],
        },
    ];
    let should = (0..shoulds)
        .map(|i| Weighted {
            weight: 1 + rng.below(30) as u32,
            rule: if i < rules.len() {
                rules[i].clone()
            } else {
                Rule::Meets { criterion: pool[rng.below(pool.len() as u64) as usize].clone() }
            },
        })
        .collect();
    let suitability = match rng.below(3) {
        0 => Vec::new(),
        1 => vec![crate::Suitability::References { at_least: 1 + rng.below(4) as u32 }],
        _ => vec![crate::Suitability::Certification { name: "ISO".into() }],
    };
    Profile { must, should, suitability, context: Context::default(), unknown }
}
