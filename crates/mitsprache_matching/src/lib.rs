//! The matching assistant (Matching-Funktion): from an administration's requirement profile to
//! a ranked, explained shortlist, structured like the UfAB (knock-out criteria, weight points,
//! scores 0–10, performance/price ratio with a 10 % band), the smallest relaxations when nothing
//! fits, and toolkits of up to three tools that together cover every required function.
//!
//! Pure and deterministic: the same profile and catalogue give the same result in the same
//! order, whatever order the catalogue lists its tools in. Explanations are output, in German
//! and English, so the result can go into an administration's files.

mod evaluate;
mod index;
mod profile;
pub mod synthetic;
mod toolkit;

pub use evaluate::{CostFacts, Verdict, costs, describe, evaluate, training_hours};
pub use index::MatchIndex;
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
    /// All tools that pass every knock-out; `ranked` lists the best of them (see [`Limits`]).
    pub total_ranked: usize,
    pub ranked: Vec<RankedTool>,
    /// All tools that fail a knock-out; `excluded` lists them in slug order up to the limit.
    pub total_excluded: usize,
    pub excluded: Vec<ExcludedTool>,
    /// Only when no tool passes every knock-out.
    pub relaxations: Vec<Relaxation>,
    pub toolkits: Vec<Toolkit>,
}

/// How many ranked and excluded tools the result spells out with explanations; counts and the
/// equivalence band always cover all of them. Explaining is the expensive part, and nobody reads
/// ten thousand explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub ranked: usize,
    pub excluded: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { ranked: 20, excluded: 20 }
    }
}

impl Limits {
    pub const ALL: Limits = Limits { ranked: usize::MAX, excluded: usize::MAX };
}

/// How one tool fares against the whole profile, with explanations (the reference path; used
/// for the tools that are shown).
pub(crate) struct Assessment<'a> {
    pub tool: &'a Tool,
    /// Per knock-out criterion.
    pub verdicts: Vec<(Verdict, LocalizedText)>,
    pub scores: Vec<CriterionScore>,
}

impl Assessment<'_> {
    pub fn to_check(&self, policy: UnknownPolicy) -> Vec<LocalizedText> {
        let mut out: Vec<LocalizedText> = Vec::new();
        if policy == UnknownPolicy::Check {
            out.extend(self.verdicts.iter().filter(|(v, _)| *v == Verdict::Unknown).map(|(_, e)| e.clone()));
        }
        out.extend(self.scores.iter().filter(|s| s.unknown).map(|s| s.explanation.clone()));
        out
    }
}

/// The profile's criteria in words, described once per run.
pub(crate) struct Described {
    must: Vec<LocalizedText>,
    should: Vec<Option<LocalizedText>>,
}

impl Described {
    pub fn new(profile: &Profile, catalogue: &Catalogue) -> Described {
        Described {
            must: profile.must.iter().map(|c| describe(c, catalogue)).collect(),
            should: profile
                .should
                .iter()
                .map(|w| match &w.rule {
                    Rule::Meets { criterion } => Some(describe(criterion, catalogue)),
                    _ => None,
                })
                .collect(),
        }
    }
}

pub(crate) fn assess<'a>(
    profile: &Profile,
    catalogue: &Catalogue,
    described: &Described,
    tool: &'a Tool,
) -> Assessment<'a> {
    let ctx = &profile.context;
    let costs = costs(tool, ctx.years);
    let training = training_hours(tool, ctx);
    let verdicts = profile
        .must
        .iter()
        .zip(&described.must)
        .map(|(c, what)| evaluate::evaluate_described(c, what, tool, catalogue, &costs))
        .collect();
    let scores: Vec<CriterionScore> = profile
        .should
        .iter()
        .enumerate()
        .map(|(i, w)| evaluate::score(i, w, described.should[i].as_ref(), tool, catalogue, &costs, training))
        .collect();
    Assessment { tool, verdicts, scores }
}

/// The numbers of one tool (the fast path): points and which knock-outs it fails.
pub(crate) struct Tally {
    pub points: f64,
    /// Bit i: knock-out i fails under the policy (profiles have at most 100 criteria).
    pub failed: u128,
    pub total_cost: Option<f64>,
}

/// Catalogues at least this large are tallied on all cores; below it, starting threads costs
/// more than it saves.
const PARALLEL_FROM: usize = 4096;

pub(crate) fn tally(profile: &Profile, index: &MatchIndex) -> Vec<Tally> {
    let must: Vec<index::Compiled> = profile.must.iter().map(|c| index.compile(c)).collect();
    let should: Vec<(u64, index::CompiledRule)> =
        profile.should.iter().map(|w| (u64::from(w.weight), index.compile_rule(&w.rule))).collect();
    let ctx = &profile.context;
    let one = |f: &index::Features| {
        let mut failed = 0u128;
        for (i, c) in must.iter().enumerate() {
            if f.verdict(c, ctx.years).fails(profile.unknown) {
                failed |= 1 << i;
            }
        }
        let tenths: u64 = should.iter().map(|(w, r)| f.score_tenths(r, ctx).0 * w).sum();
        Tally { points: tenths as f64 / 10.0, failed, total_cost: f.total(ctx.years) }
    };
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if index.tools.len() < PARALLEL_FROM || threads < 2 {
        return index.tools.iter().map(one).collect();
    }
    // Each thread tallies a contiguous chunk; chunks are joined in order, so the result is the
    // same as the sequential one.
    let chunk = index.tools.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = index
            .tools
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(one).collect::<Vec<Tally>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

fn bits(set: u128) -> Vec<usize> {
    (0..128).filter(|i| set & (1 << i) != 0).collect()
}

/// Runs the profile against the catalogue with default limits, compiling the catalogue on the
/// way. Call [`Profile::check`] first: criteria naming unknown functions or interfaces simply
/// never match here. A server compiles the catalogue once per revision and calls [`run_with`].
pub fn run(profile: &Profile, catalogue: &Catalogue) -> MatchResult {
    run_with(profile, catalogue, &MatchIndex::new(catalogue), Limits::default())
}

/// Runs the profile with a prebuilt index (for this catalogue revision) and output limits.
pub fn run_with(profile: &Profile, catalogue: &Catalogue, index: &MatchIndex, limits: Limits) -> MatchResult {
    debug_assert_eq!(index.revision(), catalogue.revision, "the index must be built from this catalogue");
    let policy = profile.unknown;
    let tools = catalogue.tools();
    let tallies = tally(profile, index);
    let described = Described::new(profile, catalogue);

    // Tools are in slug order, so the index is the tie-breaker that keeps the order stable.
    let mut passing: Vec<usize> = (0..tools.len()).filter(|&i| tallies[i].failed == 0).collect();
    let order = |&a: &usize, &b: &usize| tallies[b].points.total_cmp(&tallies[a].points).then(a.cmp(&b));
    // Only the listed tools need an order: select them in linear time, then sort just those.
    let shown = passing.len().min(limits.ranked);
    if shown > 0 && shown < passing.len() {
        passing.select_nth_unstable_by(shown - 1, order);
    }
    passing[..shown].sort_by(order);
    let ratio = |i: usize| tallies[i].total_cost.filter(|c| *c > 0.0).map(|c| tallies[i].points / (c / 1000.0));
    let best_ratio =
        passing.iter().filter_map(|&i| ratio(i)).fold(None, |best: Option<f64>, r| Some(best.map_or(r, |b| b.max(r))));
    let ranked = passing
        .iter()
        .take(limits.ranked)
        .enumerate()
        .map(|(position, &i)| {
            let a = assess(profile, catalogue, &described, &tools[i]);
            let r = ratio(i);
            RankedTool {
                rank: position + 1,
                tool: a.tool.slug.to_string(),
                name: a.tool.name.clone(),
                points: tallies[i].points,
                to_check: a.to_check(policy),
                criteria: a.scores,
                total_cost_eur: tallies[i].total_cost,
                ratio: r,
                equivalent: matches!((r, best_ratio), (Some(x), Some(best)) if x >= best * (1.0 - EQUIVALENCE_BAND)),
            }
        })
        .collect();
    let failing: Vec<usize> = (0..tools.len()).filter(|&i| tallies[i].failed != 0).collect();
    // An excluded tool needs only the knock-outs it failed explained, not its scores.
    let excluded = failing
        .iter()
        .take(limits.excluded)
        .map(|&i| {
            let tool = &tools[i];
            let costs = costs(tool, profile.context.years);
            ExcludedTool {
                tool: tool.slug.to_string(),
                name: tool.name.clone(),
                failed: bits(tallies[i].failed)
                    .into_iter()
                    .map(|c| {
                        let (verdict, explanation) =
                            evaluate::evaluate_described(&profile.must[c], &described.must[c], tool, catalogue, &costs);
                        Failure { criterion: c, explanation, unknown: verdict == Verdict::Unknown }
                    })
                    .collect(),
            }
        })
        .collect();

    let relaxations = if passing.is_empty() { relaxations(catalogue, &tallies, &described) } else { Vec::new() };
    let toolkits = toolkit::search(profile, catalogue, index, &tallies, &described);
    MatchResult {
        catalogue_revision: catalogue.revision,
        // A fold from +0.0: an empty float sum would be -0.0.
        max_points: profile.should.iter().fold(0.0, |sum, w| sum + f64::from(w.weight) * 10.0),
        total_ranked: passing.len(),
        ranked,
        total_excluded: failing.len(),
        excluded,
        relaxations,
        toolkits,
    }
}

/// The inclusion-minimal sets of failed knock-outs. Relaxing exactly the knock-outs a tool fails
/// admits that tool; a set is minimal when no other tool fails a proper subset of it, because
/// then no smaller relaxation admits any tool (the argument behind QuickXPlain's minimal
/// relaxations, computed directly since every tool's conflict set is known).
fn relaxations(catalogue: &Catalogue, tallies: &[Tally], described: &Described) -> Vec<Relaxation> {
    let mut sets: Vec<u128> = tallies.iter().map(|t| t.failed).collect();
    sets.sort_by(|a, b| a.count_ones().cmp(&b.count_ones()).then_with(|| bits(*a).cmp(&bits(*b))));
    sets.dedup();
    let minimal: Vec<u128> =
        sets.iter().filter(|&&s| !sets.iter().any(|&o| o != s && o & s == o)).take(MAX_SUGGESTIONS).copied().collect();
    minimal
        .into_iter()
        .map(|relax| Relaxation {
            criteria: bits(relax).iter().map(|&i| described.must[i].clone()).collect(),
            admits: tallies
                .iter()
                .zip(catalogue.tools())
                .filter(|(t, _)| t.failed & !relax == 0)
                .map(|(_, tool)| tool.slug.to_string())
                .collect(),
            relax: bits(relax),
        })
        .collect()
}
