//! Toolkits: combinations of up to three tools that together cover every required function,
//! where every member passes the tool-level knock-outs and the budget caps hold for the sum.
//!
//! Tools are grouped by which required functions they cover (a bitmask). Only combinations of
//! coverage classes that cover everything and in which no member can be dropped are formed, so
//! every toolkit is minimal by construction. Within a class the best [`PER_CLASS`] tools (by hub
//! login, points, cost, slug) are combined; this bounds the search on large catalogues and can
//! only leave out toolkits that rank below one formed from better members of the same classes.

use crate::evaluate::Verdict;
use crate::{Criterion, MAX_SUGGESTIONS, MatchIndex, Profile, Tally, UnknownPolicy};
use mitsprache_catalogue::{Catalogue, InterfaceKind, LocalizedText};
use mitsprache_domain::Locale;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Candidates per coverage class that are combined.
pub const PER_CLASS: usize = 3;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Coverage {
    /// Function key.
    pub function: String,
    pub label: LocalizedText,
    /// Members that offer it.
    pub tools: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Toolkit {
    pub members: Vec<String>,
    /// Which member covers which required function.
    pub coverage: Vec<Coverage>,
    /// Mean of the members' points.
    pub points: f64,
    /// Sum of the members' total costs, where all are published.
    pub total_cost_eur: Option<f64>,
    /// Sum of the members' training hours, where all are published.
    pub training_hours: Option<f64>,
    /// Members that can use the hub's login (they consume OpenID Connect).
    pub hub_login: usize,
    /// Members that exchange data in the hub's data standard.
    pub hub_data_standard: usize,
    pub to_check: Vec<LocalizedText>,
}

/// A tool that may join a toolkit, with the numbers the search needs.
struct Member {
    tool: usize,
    mask: u64,
    interop: u8,
    hub_login: bool,
    hub_data: bool,
    points: f64,
    one_time: Option<f64>,
    yearly: Option<f64>,
    total: Option<f64>,
    training: Option<f64>,
}

/// A toolkit found by the search, before it is explained.
struct Candidate {
    members: Vec<usize>,
    interop: usize,
    points: f64,
    total: Option<f64>,
    training: Option<f64>,
    unknown_budget: Vec<usize>,
    /// Slugs, sorted: the last tie-breaker.
    slugs: Vec<String>,
}

fn better(x: &Candidate, y: &Candidate) -> std::cmp::Ordering {
    y.interop
        .cmp(&x.interop)
        .then(y.points.total_cmp(&x.points))
        .then(cost_order(x.total, y.total))
        .then(cost_order(x.training, y.training))
        .then(x.members.len().cmp(&y.members.len()))
        .then(x.slugs.cmp(&y.slugs))
}

pub(crate) fn search(
    profile: &Profile,
    catalogue: &Catalogue,
    index: &MatchIndex,
    tallies: &[Tally],
    described: &crate::Described,
) -> Vec<Toolkit> {
    let required: Vec<(usize, &str)> = profile
        .must
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            Criterion::Function { key } => Some((i, key.as_str())),
            _ => None,
        })
        .collect();
    if required.is_empty() || required.len() > 64 {
        return Vec::new();
    }
    let full: u64 = if required.len() == 64 { u64::MAX } else { (1u64 << required.len()) - 1 };
    let policy = profile.unknown;
    // Function knock-outs are what the toolkit covers together; budget caps hold for the sum.
    let tool_level: u128 = profile
        .must
        .iter()
        .enumerate()
        .filter(|(_, c)| !matches!(c, Criterion::Function { .. }) && !c.is_budget())
        .fold(0u128, |m, (i, _)| m | (1 << i));
    let required_bits: Vec<u64> = required.iter().map(|(_, key)| index.function_bit(key)).collect();
    let login = index.kind_bit(InterfaceKind::LoginOidc);
    let standard = index.kind_bit(InterfaceKind::DataStandard);
    let years = profile.context.years;

    let mut classes: BTreeMap<u64, Vec<Member>> = BTreeMap::new();
    for (i, (f, t)) in index.tools.iter().zip(tallies).enumerate() {
        if t.failed & tool_level != 0 {
            continue;
        }
        let mask = required_bits
            .iter()
            .enumerate()
            .filter(|(_, b)| **b != 0 && f.functions & **b != 0)
            .fold(0u64, |m, (bit, _)| m | (1 << bit));
        if mask == 0 {
            continue;
        }
        let (hub_login, hub_data) = (f.kinds_in & login != 0, f.kinds & standard != 0);
        classes.entry(mask).or_default().push(Member {
            tool: i,
            mask,
            interop: u8::from(hub_login) + u8::from(hub_data),
            hub_login,
            hub_data,
            points: t.points,
            one_time: f.one_time,
            yearly: f.yearly,
            total: f.total(years),
            training: f.training(&profile.context),
        });
    }
    for members in classes.values_mut() {
        members.sort_by(|x, y| {
            y.interop
                .cmp(&x.interop)
                .then(y.points.total_cmp(&x.points))
                .then(cost_order(x.total, y.total))
                .then(x.tool.cmp(&y.tool))
        });
        members.truncate(PER_CLASS);
    }
    let masks: Vec<u64> = classes.keys().copied().collect();
    let mut combos: Vec<Vec<u64>> = Vec::new();
    for (i, &a) in masks.iter().enumerate() {
        if a == full {
            combos.push(vec![a]);
            continue;
        }
        for (j, &b) in masks.iter().enumerate().skip(i + 1) {
            if b == full {
                continue;
            }
            if a | b == full {
                combos.push(vec![a, b]);
                continue;
            }
            for &c in masks.iter().skip(j + 1) {
                // Minimal: all three together cover everything, no two of them do.
                if c != full && a | b | c == full && a | c != full && b | c != full {
                    combos.push(vec![a, b, c]);
                }
            }
        }
    }

    let budget: Vec<(usize, &Criterion)> = profile.must.iter().enumerate().filter(|(_, c)| c.is_budget()).collect();
    let tools = catalogue.tools();
    let mut best: Vec<Candidate> = Vec::with_capacity(MAX_SUGGESTIONS + 1);
    for combo in &combos {
        let lists: Vec<&Vec<Member>> = combo.iter().filter_map(|m| classes.get(m)).collect();
        let mut picks = vec![0usize; lists.len()];
        loop {
            let members: Vec<&Member> = lists.iter().zip(&picks).map(|(l, &p)| &l[p]).collect();
            if let Some(c) = candidate(&members, &budget, policy, tools) {
                let worse_than_all =
                    best.len() == MAX_SUGGESTIONS && best.last().is_some_and(|w| better(w, &c).is_lt());
                if !worse_than_all {
                    let at = best.partition_point(|b| better(b, &c).is_lt());
                    best.insert(at, c);
                    best.truncate(MAX_SUGGESTIONS);
                }
            }
            // Next combination of picks (odometer).
            let mut k = 0;
            while k < picks.len() {
                picks[k] += 1;
                if picks[k] < lists[k].len() {
                    break;
                }
                picks[k] = 0;
                k += 1;
            }
            if k == picks.len() {
                break;
            }
        }
    }
    best.into_iter().map(|c| explain(profile, catalogue, described, &required, &c, &classes)).collect()
}

fn candidate(
    members: &[&Member],
    budget: &[(usize, &Criterion)],
    policy: UnknownPolicy,
    tools: &[mitsprache_catalogue::Tool],
) -> Option<Candidate> {
    let one_time: Option<f64> = members.iter().map(|m| m.one_time).sum();
    let yearly: Option<f64> = members.iter().map(|m| m.yearly).sum();
    let total: Option<f64> = members.iter().map(|m| m.total).sum();
    let mut unknown_budget = Vec::new();
    for &(i, c) in budget {
        let (value, limit) = match c {
            Criterion::MaxOneTimeCost { eur } => (one_time, *eur),
            Criterion::MaxYearlyCost { eur } => (yearly, *eur),
            Criterion::MaxTotalCost { eur } => (total, *eur),
            _ => continue,
        };
        let verdict = match value {
            Some(v) if v <= limit => Verdict::Met,
            Some(_) => Verdict::NotMet,
            None => Verdict::Unknown,
        };
        if verdict.fails(policy) {
            return None;
        }
        if verdict == Verdict::Unknown {
            unknown_budget.push(i);
        }
    }
    let mut slugs: Vec<String> = members.iter().map(|m| tools[m.tool].slug.to_string()).collect();
    slugs.sort();
    Some(Candidate {
        members: members.iter().map(|m| m.tool).collect(),
        interop: members.iter().map(|m| usize::from(m.interop)).sum(),
        points: members.iter().map(|m| m.points).sum::<f64>() / members.len() as f64,
        total,
        training: members.iter().map(|m| m.training).sum(),
        unknown_budget,
        slugs,
    })
}

fn explain(
    profile: &Profile,
    catalogue: &Catalogue,
    described: &crate::Described,
    required: &[(usize, &str)],
    c: &Candidate,
    classes: &BTreeMap<u64, Vec<Member>>,
) -> Toolkit {
    let tools = catalogue.tools();
    let member = |i: usize| classes.values().flatten().find(|m| m.tool == i);
    let mut to_check: Vec<LocalizedText> = c
        .unknown_budget
        .iter()
        .map(|&i| {
            let what = &described.must[i];
            LocalizedText::new(
                format!("{} (Summe der Werkzeuge): keine Angabe, zu prüfen", what.get(Locale::De)),
                format!("{} (sum over the tools): not stated, to be checked", what.get(Locale::En)),
            )
        })
        .collect();
    for &i in &c.members {
        to_check.extend(crate::assess(profile, catalogue, described, &tools[i]).to_check(profile));
    }
    let coverage = required
        .iter()
        .enumerate()
        .map(|(bit, (_, key))| Coverage {
            function: (*key).to_owned(),
            label: catalogue.taxonomy.function(key).map_or_else(|| LocalizedText::new(*key, *key), |t| t.label.clone()),
            tools: {
                let mut t: Vec<String> = c
                    .members
                    .iter()
                    .filter(|&&i| member(i).is_some_and(|m| m.mask & (1 << bit) != 0))
                    .map(|&i| tools[i].slug.to_string())
                    .collect();
                t.sort();
                t
            },
        })
        .collect();
    Toolkit {
        members: c.slugs.clone(),
        coverage,
        points: c.points,
        total_cost_eur: c.total,
        training_hours: c.training,
        hub_login: c.members.iter().filter(|&&i| member(i).is_some_and(|m| m.hub_login)).count(),
        hub_data_standard: c.members.iter().filter(|&&i| member(i).is_some_and(|m| m.hub_data)).count(),
        to_check,
    }
}

/// Known amounts first, lower first; unknown last.
fn cost_order(x: Option<f64>, y: Option<f64>) -> std::cmp::Ordering {
    match (x, y) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}
