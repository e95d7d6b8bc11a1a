//! The matching assistant (Matching-Funktion): from an administration's requirement profile to
//! a ranked, explained pre-selection (Markterkundung, Vorauswahl). The award part is structured
//! like the UfAB (knock-out criteria, weight points, scores 0–10, performance/price ratio with a
//! 10 % band); suitability (Eignung: references, certificates) is checked apart from it and
//! never scores. When nothing fits, the smallest relaxations that never drop a required
//! function; toolkits of up to three tools that together cover every required function; per
//! vendor the open questions for a market-survey enquiry; and a draft list of requirements.
//!
//! Pure and deterministic: the same profile and catalogue give the same result in the same
//! order, whatever order the catalogue lists its tools in. Explanations are output, in German
//! and English, so the result can go into an administration's files.

pub mod documents;
mod evaluate;
mod index;
mod profile;
pub mod synthetic;
mod toolkit;

pub use evaluate::{
    CostFacts, Verdict, costs, describe, describe_suitability, evaluate, suitability, training_hours, training_per_role,
};
pub use index::MatchIndex;
pub use profile::{Context, Criterion, Profile, ProfileError, Rule, Suitability, UnknownPolicy, Weighted};
pub use toolkit::{Coverage, Toolkit};

use mitsprache_catalogue::{Catalogue, LocalizedText, Tool};
use mitsprache_domain::Locale;
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

/// A knock-out criterion against a tool.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct KnockOut {
    /// Index of the criterion in the profile's `must` list.
    pub criterion: usize,
    pub verdict: Verdict,
    /// Passed without data (the fact is unknown and the profile's policy is "check").
    pub assumed: bool,
    pub explanation: LocalizedText,
}

/// A suitability requirement against a tool: shown by the catalogue's sources, or to be proven.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SuitabilityCheck {
    /// Index of the requirement in the profile's `suitability` list.
    pub criterion: usize,
    pub met: bool,
    pub explanation: LocalizedText,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RankedTool {
    pub rank: usize,
    pub tool: String,
    pub name: String,
    pub vendor: String,
    /// Award points (weighted criteria only; suitability never counts).
    pub points: f64,
    pub criteria: Vec<CriterionScore>,
    pub knockouts: Vec<KnockOut>,
    pub suitability: Vec<SuitabilityCheck>,
    /// One-time plus yearly costs over the years of use, where published or estimated.
    pub total_cost_eur: Option<f64>,
    /// Points per 1,000 EUR of total cost; none when the cost is unknown or zero.
    pub ratio: Option<f64>,
    /// Within 10 % of the best ratio.
    pub equivalent: bool,
    /// What the result assumes about this tool: knock-outs passed without data, amounts
    /// estimated from public documents instead of the vendor's prices.
    pub assumptions: Vec<LocalizedText>,
    /// Facts to check with the vendor: the assumptions, weighted criteria scored 0 for lack of
    /// data, and suitability not on record.
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
    pub vendor: String,
    pub failed: Vec<Failure>,
    /// Every knock-out, the passed ones too.
    pub knockouts: Vec<KnockOut>,
}

/// A smallest set of knock-out criteria whose relaxation admits at least one tool. A required
/// function is never part of one: a tool without it does not do the job.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Relaxation {
    /// Indices into the profile's `must` list.
    pub relax: Vec<usize>,
    pub criteria: Vec<LocalizedText>,
    /// Tools that would pass with these criteria relaxed.
    pub admits: Vec<String>,
}

/// A required function that no tool of the catalogue offers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MissingFunction {
    pub function: String,
    pub label: LocalizedText,
}

/// A weighted criterion for which no tool of the catalogue has data: its weight points cannot
/// tell tools apart.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NoData {
    /// Index into the profile's `should` list.
    pub criterion: usize,
    pub weight: u32,
    pub label: LocalizedText,
}

/// What to ask one vendor in a market-survey enquiry (Markterkundungsanfrage): the facts the
/// result assumed or could not find.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VendorQuestions {
    pub tool: String,
    pub name: String,
    pub vendor: String,
    /// The vendor's published enquiry address or contact page, if the catalogue has one.
    pub contact: Option<String>,
    pub questions: Vec<LocalizedText>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MatchResult {
    pub catalogue_revision: i64,
    /// The line the result opens with, e.g. "2 Werkzeuge erfüllen alle Muss-Kriterien, 13 ausgeschlossen".
    pub summary: LocalizedText,
    /// Sum of weight × 10 over the weighted criteria.
    pub max_points: f64,
    /// All tools that pass every knock-out; `ranked` lists the best of them (see [`Limits`]).
    pub total_ranked: usize,
    pub ranked: Vec<RankedTool>,
    /// All tools that fail a knock-out; `excluded` lists them in slug order up to the limit.
    pub total_excluded: usize,
    pub excluded: Vec<ExcludedTool>,
    /// Required functions no tool offers.
    pub missing_functions: Vec<MissingFunction>,
    /// Weighted criteria no tool has data for.
    pub no_data: Vec<NoData>,
    /// Only when no tool passes every knock-out.
    pub relaxations: Vec<Relaxation>,
    pub toolkits: Vec<Toolkit>,
    /// For the listed tools with open facts: ranked ones, and excluded ones that failed only
    /// for lack of data.
    pub questions: Vec<VendorQuestions>,
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
    pub suitability: Vec<(Verdict, LocalizedText)>,
    /// Where the cost amounts come from when they are estimates.
    pub estimated_from: Option<LocalizedText>,
}

impl Assessment<'_> {
    pub fn knockouts(&self, policy: UnknownPolicy) -> Vec<KnockOut> {
        self.verdicts
            .iter()
            .enumerate()
            .map(|(criterion, (verdict, explanation))| KnockOut {
                criterion,
                verdict: *verdict,
                assumed: *verdict == Verdict::Unknown && policy == UnknownPolicy::Check,
                explanation: explanation.clone(),
            })
            .collect()
    }

    /// What the result takes for given without the vendor's word.
    pub fn assumptions(&self, profile: &Profile) -> Vec<LocalizedText> {
        let mut out: Vec<LocalizedText> = Vec::new();
        if profile.unknown == UnknownPolicy::Check {
            out.extend(self.verdicts.iter().filter(|(v, _)| *v == Verdict::Unknown).map(|(_, e)| e.clone()));
        }
        let uses_costs = profile.must.iter().any(Criterion::is_budget)
            || profile.should.iter().any(|w| matches!(w.rule, Rule::LowCost { .. }));
        if let Some(from) = self.estimated_from.as_ref().filter(|_| uses_costs) {
            out.push(LocalizedText::new(
                format!("Kosten geschätzt nach {} (keine Preisangabe des Anbieters)", from.get(Locale::De)),
                format!("Costs estimated from {} (the vendor publishes no price)", from.get(Locale::En)),
            ));
        }
        out
    }

    pub fn to_check(&self, profile: &Profile) -> Vec<LocalizedText> {
        let mut out = self.assumptions(profile);
        out.extend(self.scores.iter().filter(|s| s.unknown).map(|s| s.explanation.clone()));
        out.extend(self.suitability.iter().filter(|(v, _)| *v != Verdict::Met).map(|(_, e)| e.clone()));
        out
    }

    /// The questions for the vendor: one per fact the result assumed or lacked.
    pub fn questions(&self, profile: &Profile, described: &Described) -> Vec<LocalizedText> {
        let ask = |what: &LocalizedText| {
            LocalizedText::new(
                format!("{} – bitte angeben.", what.get(Locale::De)),
                format!("{} – please state.", what.get(Locale::En)),
            )
        };
        let mut out: Vec<LocalizedText> = Vec::new();
        for (i, (v, _)) in self.verdicts.iter().enumerate() {
            if *v == Verdict::Unknown {
                out.push(ask(&described.must[i]));
            }
        }
        let costs_asked =
            profile.must.iter().enumerate().any(|(i, c)| c.is_budget() && self.verdicts[i].0 == Verdict::Unknown);
        if let Some(from) = self.estimated_from.as_ref()
            && !costs_asked
            && (profile.must.iter().any(Criterion::is_budget)
                || profile.should.iter().any(|w| matches!(w.rule, Rule::LowCost { .. })))
        {
            out.push(LocalizedText::new(
                format!("Einmalige und jährliche Kosten – bisher nur geschätzt nach {}.", from.get(Locale::De)),
                format!("One-time and yearly costs – so far only estimated from {}.", from.get(Locale::En)),
            ));
        }
        for (i, s) in self.scores.iter().enumerate() {
            if s.unknown {
                out.push(ask(&described.should_label[i]));
            }
        }
        for (i, (v, _)) in self.suitability.iter().enumerate() {
            if *v != Verdict::Met {
                out.push(LocalizedText::new(
                    format!("{} – bitte Nachweis.", described.suitability[i].get(Locale::De)),
                    format!("{} – please provide proof.", described.suitability[i].get(Locale::En)),
                ));
            }
        }
        out
    }
}

/// The profile's criteria in words, described once per run.
pub(crate) struct Described {
    pub must: Vec<LocalizedText>,
    should: Vec<Option<LocalizedText>>,
    /// Every weighted criterion in words (for questions and the matrix header).
    pub should_label: Vec<LocalizedText>,
    pub suitability: Vec<LocalizedText>,
}

/// A weighted criterion in words, e.g. „Geringer Schulungsaufwand“.
pub fn describe_rule(rule: &Rule, catalogue: &Catalogue) -> LocalizedText {
    match rule {
        Rule::Meets { criterion } => describe(criterion, catalogue),
        Rule::LowTrainingEffort { .. } => LocalizedText::new("Geringer Schulungsaufwand", "Low training effort"),
        Rule::LowCost { .. } => LocalizedText::new("Geringe Gesamtkosten", "Low total costs"),
        Rule::Languages { tags } => LocalizedText::new(
            format!("Benötigte Sprachen ({})", tags.join(", ")),
            format!("Needed languages ({})", tags.join(", ")),
        ),
        Rule::Interfaces { slugs, kinds } => {
            let names = |l: Locale| {
                slugs
                    .iter()
                    .map(|s| catalogue.interface(s).map_or(s.clone(), |i| i.name.clone()))
                    .chain(kinds.iter().map(|k| evaluate::kind_name(*k, l).to_owned()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            LocalizedText::new(
                format!("Benötigte Schnittstellen ({})", names(Locale::De)),
                format!("Needed interfaces ({})", names(Locale::En)),
            )
        }
    }
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
            should_label: profile.should.iter().map(|w| describe_rule(&w.rule, catalogue)).collect(),
            suitability: profile.suitability.iter().map(evaluate::describe_suitability).collect(),
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
    let suitability = profile.suitability.iter().map(|s| evaluate::suitability(s, tool)).collect();
    Assessment { tool, verdicts, scores, suitability, estimated_from: costs.estimated_from }
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
    let mut questions: Vec<VendorQuestions> = Vec::new();
    let ask = |a: &Assessment<'_>, questions: &mut Vec<VendorQuestions>| {
        let asked = a.questions(profile, &described);
        if !asked.is_empty() {
            questions.push(VendorQuestions {
                tool: a.tool.slug.to_string(),
                name: a.tool.name.clone(),
                vendor: a.tool.vendor.name.clone(),
                contact: a.tool.vendor.contact.as_ref().and_then(|c| c.email.clone().or_else(|| c.url.clone())),
                questions: asked,
            });
        }
    };
    let ranked = passing
        .iter()
        .take(limits.ranked)
        .enumerate()
        .map(|(position, &i)| {
            let a = assess(profile, catalogue, &described, &tools[i]);
            ask(&a, &mut questions);
            let r = ratio(i);
            RankedTool {
                rank: position + 1,
                tool: a.tool.slug.to_string(),
                name: a.tool.name.clone(),
                vendor: a.tool.vendor.name.clone(),
                points: tallies[i].points,
                knockouts: a.knockouts(policy),
                suitability: a
                    .suitability
                    .iter()
                    .enumerate()
                    .map(|(criterion, (v, e))| SuitabilityCheck {
                        criterion,
                        met: *v == Verdict::Met,
                        explanation: e.clone(),
                    })
                    .collect(),
                assumptions: a.assumptions(profile),
                to_check: a.to_check(profile),
                criteria: a.scores,
                total_cost_eur: tallies[i].total_cost,
                ratio: r,
                equivalent: matches!((r, best_ratio), (Some(x), Some(best)) if x >= best * (1.0 - EQUIVALENCE_BAND)),
            }
        })
        .collect();
    let failing: Vec<usize> = (0..tools.len()).filter(|&i| tallies[i].failed != 0).collect();
    let excluded = failing
        .iter()
        .take(limits.excluded)
        .map(|&i| {
            let a = assess(profile, catalogue, &described, &tools[i]);
            let failed: Vec<Failure> = bits(tallies[i].failed)
                .into_iter()
                .map(|c| {
                    let (verdict, explanation) = a.verdicts[c].clone();
                    Failure { criterion: c, explanation, unknown: verdict == Verdict::Unknown }
                })
                .collect();
            // Excluded only for lack of data: a candidate once the vendor answers.
            if failed.iter().all(|f| f.unknown) {
                ask(&a, &mut questions);
            }
            ExcludedTool {
                tool: a.tool.slug.to_string(),
                name: a.tool.name.clone(),
                vendor: a.tool.vendor.name.clone(),
                knockouts: a.knockouts(policy),
                failed,
            }
        })
        .collect();

    let function_bits: u128 = profile
        .must
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, Criterion::Function { .. }))
        .fold(0, |m, (i, _)| m | (1 << i));
    let missing_functions: Vec<MissingFunction> = profile
        .must
        .iter()
        .filter_map(|c| match c {
            Criterion::Function { key } if !tools.iter().any(|t| t.functions.values.contains(key)) => Some(key),
            _ => None,
        })
        .map(|key| MissingFunction {
            function: key.clone(),
            label: catalogue.taxonomy.function(key).map_or_else(|| LocalizedText::new(key, key), |t| t.label.clone()),
        })
        .collect();
    let no_data: Vec<NoData> = profile
        .should
        .iter()
        .enumerate()
        .filter(|(_, w)| !tools.iter().any(|t| evaluate::has_data(&w.rule, t, catalogue, &profile.context)))
        .map(|(criterion, w)| NoData { criterion, weight: w.weight, label: described.should_label[criterion].clone() })
        .collect();
    let relaxations =
        if passing.is_empty() { relaxations(catalogue, &tallies, &described, function_bits) } else { Vec::new() };
    let toolkits = toolkit::search(profile, catalogue, index, &tallies, &described);
    MatchResult {
        catalogue_revision: catalogue.revision,
        summary: summary(passing.len(), failing.len(), &missing_functions),
        // A fold from +0.0: an empty float sum would be -0.0.
        max_points: profile.should.iter().fold(0.0, |sum, w| sum + f64::from(w.weight) * 10.0),
        total_ranked: passing.len(),
        ranked,
        total_excluded: failing.len(),
        excluded,
        missing_functions,
        no_data,
        relaxations,
        toolkits,
        questions,
    }
}

/// The result's first line.
fn summary(passing: usize, excluded: usize, missing: &[MissingFunction]) -> LocalizedText {
    let de = match passing {
        0 => "Kein Werkzeug erfüllt alle Muss-Kriterien".to_owned(),
        1 => "1 Werkzeug erfüllt alle Muss-Kriterien".to_owned(),
        n => format!("{n} Werkzeuge erfüllen alle Muss-Kriterien"),
    };
    let en = match passing {
        0 => "No tool meets every must criterion".to_owned(),
        1 => "1 tool meets every must criterion".to_owned(),
        n => format!("{n} tools meet every must criterion"),
    };
    let mut de = format!("{de}, {excluded} ausgeschlossen");
    let mut en = format!("{en}, {excluded} excluded");
    if !missing.is_empty() {
        let names = |l: Locale| missing.iter().map(|m| m.label.get(l).to_owned()).collect::<Vec<_>>().join(", ");
        de.push_str(&format!("; kein Werkzeug bietet: {}", names(Locale::De)));
        en.push_str(&format!("; no tool offers: {}", names(Locale::En)));
    }
    LocalizedText::new(de, en)
}

/// The inclusion-minimal sets of failed knock-outs, among tools that offer every required
/// function (`function_bits` are never relaxed). Relaxing exactly the knock-outs a tool fails
/// admits that tool; a set is minimal when no other such tool fails a proper subset of it,
/// because then no smaller relaxation admits any tool (the argument behind QuickXPlain's
/// minimal relaxations, computed directly since every tool's conflict set is known).
fn relaxations(
    catalogue: &Catalogue,
    tallies: &[Tally],
    described: &Described,
    function_bits: u128,
) -> Vec<Relaxation> {
    let mut sets: Vec<u128> = tallies.iter().map(|t| t.failed).filter(|f| f & function_bits == 0).collect();
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
