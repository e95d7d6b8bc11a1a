//! Toolkits: combinations of up to three tools that together cover every required function,
//! where every member passes the tool-level knock-outs and the budget caps hold for the sum.
//!
//! Tools are grouped by which required functions they cover (a bitmask). Only combinations of
//! coverage classes that cover everything and in which no member can be dropped are formed, so
//! every toolkit is minimal by construction. Within a class the best [`PER_CLASS`] tools (by hub
//! login, points, cost, slug) are combined; this bounds the search on large catalogues and can
//! only leave out toolkits that rank below one formed from better members of the same classes.

use crate::evaluate::{Verdict, has_kind, uses_oidc_login};
use crate::{Assessment, MAX_SUGGESTIONS, Profile, UnknownPolicy};
use mitsprache_catalogue::{Catalogue, Direction, InterfaceKind, LocalizedText};
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

struct Member<'a, 'b> {
    a: &'b Assessment<'a>,
    mask: u64,
    hub_login: bool,
    hub_data: bool,
}

fn sum(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    values.sum()
}

pub(crate) fn search(profile: &Profile, catalogue: &Catalogue, assessments: &[Assessment<'_>]) -> Vec<Toolkit> {
    let required: Vec<(usize, &str)> = profile
        .must
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            crate::Criterion::Function { key } => Some((i, key.as_str())),
            _ => None,
        })
        .collect();
    if required.is_empty() || required.len() > 64 {
        return Vec::new();
    }
    let full: u64 = if required.len() == 64 { u64::MAX } else { (1u64 << required.len()) - 1 };
    let policy = profile.unknown;
    // Function knock-outs are what the toolkit covers together; budget caps hold for the sum.
    let tool_level =
        |i: usize| matches!(profile.must[i], crate::Criterion::Function { .. }) || profile.must[i].is_budget();

    let mut classes: BTreeMap<u64, Vec<Member<'_, '_>>> = BTreeMap::new();
    for a in assessments.iter().filter(|a| a.failed(policy, tool_level).is_empty()) {
        let mask = required
            .iter()
            .enumerate()
            .filter(|(_, (_, key))| a.tool.functions.values.iter().any(|f| f == key))
            .fold(0u64, |m, (bit, _)| m | (1 << bit));
        if mask == 0 {
            continue;
        }
        let member = Member {
            a,
            mask,
            hub_login: uses_oidc_login(a.tool, catalogue),
            hub_data: has_kind(
                a.tool,
                catalogue,
                InterfaceKind::DataStandard,
                &[Direction::In, Direction::Out, Direction::Both],
            ),
        };
        classes.entry(mask).or_default().push(member);
    }
    for members in classes.values_mut() {
        members.sort_by(|x, y| {
            (u8::from(y.hub_login) + u8::from(y.hub_data))
                .cmp(&(u8::from(x.hub_login) + u8::from(x.hub_data)))
                .then(y.a.points.total_cmp(&x.a.points))
                .then(cost_order(x.a.costs.total, y.a.costs.total))
                .then(x.a.tool.slug.cmp(&y.a.tool.slug))
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

    let mut kits: Vec<Toolkit> = Vec::new();
    for combo in &combos {
        let lists: Vec<&Vec<Member<'_, '_>>> = combo.iter().filter_map(|m| classes.get(m)).collect();
        let mut picks = vec![0usize; lists.len()];
        loop {
            let members: Vec<&Member<'_, '_>> = lists.iter().zip(&picks).map(|(l, &p)| &l[p]).collect();
            if let Some(kit) = build(profile, catalogue, &required, &members, policy) {
                kits.push(kit);
            }
            // Next combination of picks (odometer).
            let mut k = 0;
            loop {
                if k == picks.len() {
                    break;
                }
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
    kits.sort_by(|x, y| {
        (y.hub_login + y.hub_data_standard)
            .cmp(&(x.hub_login + x.hub_data_standard))
            .then(y.points.total_cmp(&x.points))
            .then(cost_order(x.total_cost_eur, y.total_cost_eur))
            .then(cost_order(x.training_hours, y.training_hours))
            .then(x.members.len().cmp(&y.members.len()))
            .then(x.members.cmp(&y.members))
    });
    kits.truncate(MAX_SUGGESTIONS);
    kits
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

fn build(
    profile: &Profile,
    catalogue: &Catalogue,
    required: &[(usize, &str)],
    members: &[&Member<'_, '_>],
    policy: UnknownPolicy,
) -> Option<Toolkit> {
    let one_time = sum(members.iter().map(|m| m.a.costs.one_time));
    let yearly = sum(members.iter().map(|m| m.a.costs.yearly));
    let total = sum(members.iter().map(|m| m.a.costs.total));
    let mut to_check: Vec<LocalizedText> = Vec::new();
    for c in profile.must.iter().filter(|c| c.is_budget()) {
        let (value, limit) = match c {
            crate::Criterion::MaxOneTimeCost { eur } => (one_time, *eur),
            crate::Criterion::MaxYearlyCost { eur } => (yearly, *eur),
            crate::Criterion::MaxTotalCost { eur } => (total, *eur),
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
            let what = crate::describe(c, catalogue);
            to_check.push(LocalizedText::new(
                format!("{} (Summe der Werkzeuge): keine Angabe, zu prüfen", what.get(mitsprache_domain::Locale::De)),
                format!("{} (sum over the tools): not stated, to be checked", what.get(mitsprache_domain::Locale::En)),
            ));
        }
    }
    for m in members {
        to_check.extend(m.a.to_check(policy));
    }
    let mut slugs: Vec<String> = members.iter().map(|m| m.a.tool.slug.to_string()).collect();
    slugs.sort();
    let coverage = required
        .iter()
        .enumerate()
        .map(|(bit, (_, key))| Coverage {
            function: (*key).to_owned(),
            label: catalogue.taxonomy.function(key).map_or_else(|| LocalizedText::new(*key, *key), |t| t.label.clone()),
            tools: {
                let mut t: Vec<String> =
                    members.iter().filter(|m| m.mask & (1 << bit) != 0).map(|m| m.a.tool.slug.to_string()).collect();
                t.sort();
                t
            },
        })
        .collect();
    Some(Toolkit {
        members: slugs,
        coverage,
        points: members.iter().map(|m| m.a.points).sum::<f64>() / members.len() as f64,
        total_cost_eur: total,
        training_hours: sum(members.iter().map(|m| m.a.training)),
        hub_login: members.iter().filter(|m| m.hub_login).count(),
        hub_data_standard: members.iter().filter(|m| m.hub_data).count(),
        to_check,
    })
}
