//! The matching assistant (Matching-Funktion): from an administration's requirement profile to
//! a ranked, explained shortlist, structured like the UfAB (knock-out criteria, weight points,
//! scores 0–10, performance/price ratio with a 10 % band), the smallest relaxations when nothing
//! fits, and toolkits of up to three tools that together cover every required function.
//!
//! Pure and deterministic: the same profile and catalogue give the same result in the same
//! order, whatever order the catalogue lists its tools in. Explanations are output, in German
//! and English, so the result can go into an administration's files.

mod evaluate;
mod profile;
pub mod synthetic;
mod toolkit;

pub use evaluate::{CostFacts, Verdict, costs, describe, evaluate, training_hours};
pub use profile::{Context, Criterion, Profile, ProfileError, Rule, UnknownPolicy, Weighted};
pub use toolkit::{Coverage, Toolkit};

use mitsprache_catalogue::{Catalogue, LocalizedText, Tool};
use serde::Serialize;
use utoipa::ToSchema;

/// Tools within this share of the best performance/price ratio count as equivalent (UfAB 2018,
/// extended guideline-value method: "Schwankungsbereich bis maximal 10 %").
pub const EQUIVALENCE_BAND: f64 = 0.10;
/// At most this many relaxations and toolkits are returned.
pub const MAX_SUGGESTIONS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CriterionScore {
    /// Index of the criterion in the profile's `should` list.
    pub criterion: usize,
    pub weight: u32,
    /// 0 to 10.
    pub score: f64,
    /// weight × score.
    pub points: f64,
    /// Why: the tool's data, the rule and the resulting score.
    pub explanation: LocalizedText,
    /// The tool's data for this criterion is not published (scores 0).
    pub unknown: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RankedTool {
    pub rank: usize,
    pub tool: String,
    pub name: String,
    pub points: f64,
    pub criteria: Vec<CriterionScore>,
    /// One-time plus yearly costs over the years of use, where published.
    pub total_cost_eur: Option<f64>,
    /// Points per 1,000 EUR of total cost; none when the cost is unknown or zero.
    pub ratio: Option<f64>,
    /// Within 10 % of the best ratio.
    pub equivalent: bool,
    /// Facts to check with the vendor: unknown knock-outs passed under the "check" policy, and
    /// weighted criteria scored 0 for lack of data.
    pub to_check: Vec<LocalizedText>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Failure {
    /// Index of the knock-out criterion in the profile's `must` list.
    pub criterion: usize,
    pub explanation: LocalizedText,
    /// Failed because the fact is not published (under the default "unknown fails" policy).
    pub unknown: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ExcludedTool {
    pub tool: String,
    pub name: String,
    pub failed: Vec<Failure>,
}

/// A smallest set of knock-out criteria whose relaxation admits at least one tool.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Relaxation {
    /// Indices into the profile's `must` list.
    pub relax: Vec<usize>,
    pub criteria: Vec<LocalizedText>,
    /// Tools that would pass with these criteria relaxed.
    pub admits: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MatchResult {
    pub catalogue_revision: i64,
    /// Sum of weight × 10 over the weighted criteria.
    pub max_points: f64,
    pub ranked: Vec<RankedTool>,
    pub excluded: Vec<ExcludedTool>,
    /// Only when no tool passes every knock-out.
    pub relaxations: Vec<Relaxation>,
    pub toolkits: Vec<Toolkit>,
}

/// How one tool fares against the whole profile.
pub(crate) struct Assessment<'a> {
    pub tool: &'a Tool,
    /// Per knock-out criterion.
    pub verdicts: Vec<(Verdict, LocalizedText)>,
    pub scores: Vec<CriterionScore>,
    pub points: f64,
    pub costs: CostFacts,
    pub training: Option<f64>,
}

impl Assessment<'_> {
    /// Indices of knock-outs the tool fails under the policy; `skip` leaves some out.
    pub fn failed(&self, policy: UnknownPolicy, skip: impl Fn(usize) -> bool) -> Vec<usize> {
        self.verdicts.iter().enumerate().filter(|(i, (v, _))| !skip(*i) && v.fails(policy)).map(|(i, _)| i).collect()
    }

    pub fn to_check(&self, policy: UnknownPolicy) -> Vec<LocalizedText> {
        let mut out: Vec<LocalizedText> = Vec::new();
        if policy == UnknownPolicy::Check {
            out.extend(self.verdicts.iter().filter(|(v, _)| *v == Verdict::Unknown).map(|(_, e)| e.clone()));
        }
        out.extend(self.scores.iter().filter(|s| s.unknown).map(|s| s.explanation.clone()));
        out
    }
}

pub(crate) fn assess<'a>(profile: &Profile, catalogue: &Catalogue, tool: &'a Tool) -> Assessment<'a> {
    let ctx = &profile.context;
    let costs = costs(tool, ctx.years);
    let training = training_hours(tool, ctx);
    let verdicts = profile.must.iter().map(|c| evaluate(c, tool, catalogue, &costs)).collect();
    let scores: Vec<CriterionScore> = profile
        .should
        .iter()
        .enumerate()
        .map(|(i, w)| evaluate::score(i, w, tool, catalogue, &costs, training))
        .collect();
    let points = scores.iter().map(|s| s.points).sum();
    Assessment { tool, verdicts, scores, points, costs, training }
}

/// Runs the profile against the catalogue. Call [`Profile::check`] first: criteria that name
/// unknown functions or interfaces simply never match here.
pub fn run(profile: &Profile, catalogue: &Catalogue) -> MatchResult {
    let policy = profile.unknown;
    let assessments: Vec<Assessment<'_>> = catalogue.tools().iter().map(|t| assess(profile, catalogue, t)).collect();

    let mut ranked: Vec<RankedTool> = Vec::new();
    let mut excluded = Vec::new();
    for a in &assessments {
        let failed = a.failed(policy, |_| false);
        if failed.is_empty() {
            ranked.push(RankedTool {
                rank: 0,
                tool: a.tool.slug.to_string(),
                name: a.tool.name.clone(),
                points: a.points,
                criteria: a.scores.clone(),
                total_cost_eur: a.costs.total,
                ratio: a.costs.total.filter(|c| *c > 0.0).map(|c| a.points / (c / 1000.0)),
                equivalent: false,
                to_check: a.to_check(policy),
            });
        } else {
            excluded.push(ExcludedTool {
                tool: a.tool.slug.to_string(),
                name: a.tool.name.clone(),
                failed: failed
                    .iter()
                    .map(|&i| Failure {
                        criterion: i,
                        explanation: a.verdicts[i].1.clone(),
                        unknown: a.verdicts[i].0 == Verdict::Unknown,
                    })
                    .collect(),
            });
        }
    }
    ranked.sort_by(|a, b| b.points.total_cmp(&a.points).then_with(|| a.tool.cmp(&b.tool)));
    let best_ratio =
        ranked.iter().filter_map(|r| r.ratio).fold(None, |best: Option<f64>, r| Some(best.map_or(r, |b| b.max(r))));
    for (i, r) in ranked.iter_mut().enumerate() {
        r.rank = i + 1;
        r.equivalent = matches!((r.ratio, best_ratio), (Some(x), Some(best)) if x >= best * (1.0 - EQUIVALENCE_BAND));
    }
    excluded.sort_by(|a, b| a.tool.cmp(&b.tool));

    let relaxations = if ranked.is_empty() { relaxations(profile, catalogue, &assessments) } else { Vec::new() };
    let toolkits = toolkit::search(profile, catalogue, &assessments);
    MatchResult {
        catalogue_revision: catalogue.revision,
        max_points: profile.should.iter().map(|w| f64::from(w.weight) * 10.0).sum(),
        ranked,
        excluded,
        relaxations,
        toolkits,
    }
}

/// The inclusion-minimal sets of failed knock-outs. Relaxing exactly the knock-outs a tool fails
/// admits that tool; a set is minimal when no other tool fails a proper subset of it, because
/// then no smaller relaxation admits any tool (the argument behind QuickXPlain's minimal
/// relaxations, computed directly since every tool's conflict set is known).
fn relaxations(profile: &Profile, catalogue: &Catalogue, assessments: &[Assessment<'_>]) -> Vec<Relaxation> {
    let failed: Vec<Vec<usize>> = assessments.iter().map(|a| a.failed(profile.unknown, |_| false)).collect();
    let mut sets: Vec<Vec<usize>> = failed.clone();
    sets.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    sets.dedup();
    let minimal: Vec<Vec<usize>> = sets
        .iter()
        .filter(|s| !sets.iter().any(|o| o.len() < s.len() && o.iter().all(|x| s.contains(x))))
        .take(MAX_SUGGESTIONS)
        .cloned()
        .collect();
    minimal
        .into_iter()
        .map(|relax| Relaxation {
            criteria: relax.iter().map(|&i| describe(&profile.must[i], catalogue)).collect(),
            admits: assessments
                .iter()
                .zip(&failed)
                .filter(|(_, f)| f.iter().all(|x| relax.contains(x)))
                .map(|(a, _)| a.tool.slug.to_string())
                .collect(),
            relax,
        })
        .collect()
}
