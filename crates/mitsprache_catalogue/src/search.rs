//! Full-text search and facets over the catalogue, in memory.
//!
//! The catalogue holds tens to a few thousand records, so an in-memory index beats a database
//! full-text engine on latency and behaves the same on SQLite and PostgreSQL. German word forms
//! are handled by the Snowball stemmer ("Bürgerhaushalte" and "Bürgerhaushalt" share the stem
//! `burgerhaushalt`), German compounds by matching a query stem inside a longer indexed word
//! ("Haushalt" finds "Bürgerhaushalt"). Every query term must match (AND).

use crate::{Catalogue, CostBand, CostModel, Interface, Taxonomy, Tool, WcagLevel};
use rust_stemmers::{Algorithm, Stemmer};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Best match first when there is a query, otherwise by name.
    #[default]
    Relevance,
    Name,
    /// Most functions first.
    Functions,
}

impl SortOrder {
    pub const ALL: [SortOrder; 3] = [SortOrder::Relevance, SortOrder::Name, SortOrder::Functions];

    pub fn key(self) -> &'static str {
        match self {
            SortOrder::Relevance => "relevance",
            SortOrder::Name => "name",
            SortOrder::Functions => "functions",
        }
    }

    pub fn from_key(key: &str) -> Option<SortOrder> {
        SortOrder::ALL.into_iter().find(|s| s.key() == key)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LicenceFacet {
    OpenSource,
    Proprietary,
    Unknown,
}

impl LicenceFacet {
    pub const ALL: [LicenceFacet; 3] = [LicenceFacet::OpenSource, LicenceFacet::Proprietary, LicenceFacet::Unknown];

    pub fn key(self) -> &'static str {
        match self {
            LicenceFacet::OpenSource => "open-source",
            LicenceFacet::Proprietary => "proprietary",
            LicenceFacet::Unknown => "unknown",
        }
    }

    pub fn from_key(key: &str) -> Option<LicenceFacet> {
        LicenceFacet::ALL.into_iter().find(|s| s.key() == key)
    }

    fn of(tool: &Tool) -> LicenceFacet {
        match tool.licence.as_option() {
            None => LicenceFacet::Unknown,
            Some(l) if l.open_source => LicenceFacet::OpenSource,
            Some(_) => LicenceFacet::Proprietary,
        }
    }
}

pub const HOSTING_KEYS: [&str; 3] = ["saas", "self-hosted", "hosted-in-germany"];

/// A parsed, validated search request. Within the licence and cost facets values are
/// alternatives (OR); functions, hosting options, interfaces and languages must all be present
/// (AND), because an administration that ticks "voting" and "map" needs both.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolQuery {
    pub q: Option<String>,
    pub functions: Vec<String>,
    pub licence: Vec<LicenceFacet>,
    pub hosting: Vec<String>,
    pub cost: Vec<CostBand>,
    /// Claimed accessibility level at least this.
    pub accessibility: Option<WcagLevel>,
    pub interfaces: Vec<String>,
    pub languages: Vec<String>,
    pub sort: SortOrder,
    /// 1-based.
    pub page: usize,
    pub per_page: usize,
}

impl ToolQuery {
    pub const MAX_PER_PAGE: usize = 100;
    pub const DEFAULT_PER_PAGE: usize = 20;
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct FacetCount<'a> {
    #[schema(value_type = String)]
    pub key: std::borrow::Cow<'a, str>,
    /// For licence, cost and accessibility: tools with this value under all other filters.
    /// For the other groups: tools that remain when this value is selected as well.
    pub count: usize,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Facets<'a> {
    pub functions: Vec<FacetCount<'a>>,
    pub licence: Vec<FacetCount<'a>>,
    pub hosting: Vec<FacetCount<'a>>,
    pub cost: Vec<FacetCount<'a>>,
    pub accessibility: Vec<FacetCount<'a>>,
    pub interfaces: Vec<FacetCount<'a>>,
    pub languages: Vec<FacetCount<'a>>,
}

#[derive(Debug)]
pub struct SearchHit<'a> {
    pub tool: &'a Tool,
    pub score: f32,
}

#[derive(Debug)]
pub struct SearchResult<'a> {
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
    pub hits: Vec<SearchHit<'a>>,
    pub facets: Facets<'a>,
    /// When the text found nothing: queries with the nearest words of the catalogue.
    pub suggestions: Vec<String>,
}

impl SearchResult<'_> {
    pub fn pages(&self) -> usize {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }
}

/// The band a tool's yearly cost falls in. Bands use the lower end of the published range
/// ("from … EUR a year"), since that is the price at which the tool can be had at all.
pub fn cost_band(tool: &Tool) -> CostBand {
    let Some(costs) = tool.costs.as_option() else { return CostBand::Unknown };
    match costs.model {
        CostModel::Free | CostModel::OpenSourceSelfOperated => CostBand::NoFee,
        CostModel::Subscription | CostModel::Licence | CostModel::OnRequest => match costs.yearly_eur.as_option() {
            None => CostBand::Unknown,
            Some(r) if r.min <= 0.0 => CostBand::NoFee,
            Some(r) if r.min <= 5_000.0 => CostBand::Low,
            Some(r) if r.min <= 25_000.0 => CostBand::Medium,
            Some(_) => CostBand::High,
        },
    }
}

fn hosting_has(tool: &Tool, key: &str) -> bool {
    let Some(h) = tool.hosting.as_option() else { return false };
    let flag = match key {
        "saas" => &h.saas,
        "self-hosted" => &h.self_hosted,
        "hosted-in-germany" => &h.hosted_in_germany,
        _ => return false,
    };
    flag.as_option() == Some(&true)
}

fn accessibility_key(tool: &Tool) -> &'static str {
    tool.accessibility.as_option().map_or("unknown", |a| a.claimed_level.key())
}

fn languages(tool: &Tool) -> &[String] {
    tool.languages.as_option().map_or(&[], |l| &l.values)
}

/// Field weights: name 4, functions 3, vendor/short description/process types/interfaces 2,
/// the rest 1.
const WEIGHTS: [f32; 4] = [4.0, 3.0, 2.0, 1.0];

/// One tool's indexed words (stems). Exact matches are a hash lookup; matches inside longer
/// words (German compounds) are one substring scan per weight over the words of that weight
/// joined by a separator that no stem contains, so a query term costs a handful of scans per
/// tool instead of one per indexed word.
#[derive(Debug, Default)]
struct Doc {
    exact: HashMap<String, f32>,
    joined: [String; 4],
}

/// Per tool (in catalogue order) its words, and the key the name sort uses.
#[derive(Debug, Default)]
pub(crate) struct SearchIndex {
    docs: Vec<Doc>,
    name_keys: Vec<String>,
    /// (folded, as written) words to suggest when a search finds nothing.
    vocabulary: Vec<(String, String)>,
}

const SEPARATOR: char = '\u{1}';

struct Analyzer {
    de: Stemmer,
    en: Stemmer,
}

const STOPWORDS: &[&str] = &[
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "einer", "eines", "und", "oder", "für", "fur", "mit",
    "von", "zu", "im", "in", "am", "an", "auf", "bei", "the", "a", "an", "and", "or", "for", "with", "of", "to", "on",
    "at", "by", "is", "ist",
];

/// Built once per process: creating the stemmers per request showed up in the profile.
static ANALYZER: std::sync::LazyLock<Analyzer> = std::sync::LazyLock::new(|| Analyzer {
    de: Stemmer::create(Algorithm::German),
    en: Stemmer::create(Algorithm::English),
});

impl Analyzer {
    fn words(text: &str) -> impl Iterator<Item = String> + '_ {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 2)
            .map(str::to_lowercase)
            .filter(|w| !STOPWORDS.contains(&w.as_str()))
    }

    /// Both stems of a word, umlauts folded the way the German stemmer folds them, so that an
    /// English query "budgeting" and a German "Bürgerhaushalte" each find their own forms.
    fn stems(&self, word: &str) -> [String; 2] {
        let word = word.to_lowercase();
        [fold(&self.de.stem(&word)), fold(&self.en.stem(&word))]
    }
}

/// Folds umlauts and their spellings without them the same way: "Bürger", "Buerger" and
/// "Burger" all become "burger", "Straße" and "Strasse" "strasse". Applied to indexed stems and
/// query stems alike, so a query typed without umlauts finds the words with them.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            'ä' | 'á' | 'à' | 'â' => out.push('a'),
            'ö' | 'ó' | 'ò' | 'ô' => out.push('o'),
            'ü' | 'ú' | 'ù' | 'û' => out.push('u'),
            'é' | 'è' | 'ê' => out.push('e'),
            'ß' => out.push_str("ss"),
            'a' | 'o' | 'u' if chars.peek() == Some(&'e') => {
                out.push(c);
                chars.next();
            }
            c => out.push(c),
        }
    }
    out
}

/// Words of the field that mean the same to the people who search: a query word from a group
/// also finds the others. Vocabulary, not facts: what administrations call the same thing.
const SYNONYMS: &[&[&str]] = &[
    &["bürgerhaushalt", "bürgerbudget", "beteiligungshaushalt", "budget", "budgeting"],
    &["mängelmelder", "mängelmeldung", "schadensmelder", "anliegenmanagement", "defect", "mängel"],
    &["beteiligungsportal", "beteiligungsplattform", "plattform", "portal", "platform"],
    &["barrierefrei", "barrierefreiheit", "accessibility", "accessible", "bitv", "wcag"],
    &["umfrage", "befragung", "fragebogen", "survey", "poll"],
    &["abstimmung", "abstimmungen", "voting", "vote", "wahl"],
    &["karte", "kartenbeitrag", "map", "geodaten"],
    &["petition", "petitionen", "bürgerbegehren", "einwohnerantrag"],
    &["bauleitplanung", "bebauungsplan", "flächennutzungsplan", "planning"],
    &["dorfapp", "dorffunk", "gemeindeapp", "village"],
];

impl SearchIndex {
    pub(crate) fn build(taxonomy: &Taxonomy, tools: &[Tool], interfaces: &[Interface]) -> SearchIndex {
        let analyzer = &*ANALYZER;
        let docs = tools
            .iter()
            .map(|tool| {
                let mut words: HashMap<String, f32> = HashMap::new();
                let mut add = |text: &str, weight: f32| {
                    for word in Analyzer::words(text) {
                        for stem in analyzer.stems(&word) {
                            let w = words.entry(stem).or_insert(0.0);
                            *w = w.max(weight);
                        }
                    }
                };
                add(&tool.name, 4.0);
                add(tool.slug.as_str(), 4.0);
                add(&tool.vendor.name, 2.0);
                for text in [&tool.short_description, &tool.description] {
                    add(&text.de, if std::ptr::eq(text, &tool.short_description) { 2.0 } else { 1.0 });
                    if let Some(en) = &text.en {
                        add(en, 1.0);
                    }
                }
                for key in &tool.functions.values {
                    if let Some(term) = taxonomy.function(key) {
                        add(&term.label.de, 3.0);
                        add(term.label.en.as_deref().unwrap_or_default(), 3.0);
                        add(key, 3.0);
                    }
                }
                if let Some(p) = tool.process_types.as_option() {
                    for key in &p.values {
                        if let Some(term) = taxonomy.process_type(key) {
                            add(&term.label.de, 2.0);
                            add(term.label.en.as_deref().unwrap_or_default(), 2.0);
                        }
                    }
                }
                for link in &tool.interfaces {
                    if let Some(i) = interfaces.iter().find(|i| i.slug.as_str() == link.interface) {
                        add(&i.name, 2.0);
                    }
                }
                for r in &tool.references {
                    add(&r.name, 1.0);
                }
                // A tool with accessibility facts is found by the word people search for, even
                // when its description does not use it ("barrierefrei" finds the facts).
                if let Some(a) = tool.accessibility.as_option() {
                    add("Barrierefreiheit accessibility", 2.0);
                    add(&a.standard, 2.0);
                }
                let mut joined: [String; 4] = Default::default();
                for (word, weight) in &words {
                    if let Some(level) = WEIGHTS.iter().position(|w| w == weight) {
                        joined[level].push(SEPARATOR);
                        joined[level].push_str(word);
                    }
                }
                Doc { exact: words, joined }
            })
            .collect();
        let name_keys = tools.iter().map(|t| fold(&t.name.to_lowercase())).collect();
        // Words people can be pointed to when a search finds nothing: names, labels and the
        // words of the short descriptions, as they are written.
        let mut vocabulary: Vec<String> = Vec::new();
        let mut push = |text: &str| {
            for w in Analyzer::words(text) {
                if w.chars().count() >= 4 && !vocabulary.contains(&w) {
                    vocabulary.push(w);
                }
            }
        };
        for t in &taxonomy.functions {
            push(&t.label.de);
            push(t.label.en.as_deref().unwrap_or_default());
        }
        for t in &taxonomy.process_types {
            push(&t.label.de);
        }
        for tool in tools {
            push(&tool.name);
            push(&tool.short_description.de);
        }
        for group in SYNONYMS {
            for w in *group {
                push(w);
            }
        }
        let vocabulary = vocabulary.into_iter().map(|w| (fold(&w), w)).collect();
        SearchIndex { docs, name_keys, vocabulary }
    }

    /// The word of the vocabulary nearest to `word` (at most one edit per four letters), if any.
    fn nearest(&self, word: &str) -> Option<&str> {
        let folded = fold(word);
        let allowed = (folded.chars().count() / 4).max(1);
        self.vocabulary
            .iter()
            .map(|(f, w)| (edit_distance(&folded, f), w))
            .filter(|(d, _)| *d > 0 && *d <= allowed)
            .min_by(|a, b| a.0.cmp(&b.0).then(a.1.len().cmp(&b.1.len())).then(a.1.cmp(b.1)))
            .map(|(_, w)| w.as_str())
    }

    /// Score of one tool for the query terms, or None when a term does not match. An exact
    /// stem counts its field weight; a stem inside a longer word (a compound, "haushalt" in
    /// "burgerhaushalt") counts half of it.
    fn score(&self, doc: usize, terms: &[Vec<String>]) -> Option<f32> {
        let doc = &self.docs[doc];
        let mut total = 0.0;
        for stems in terms {
            let mut best: f32 = 0.0;
            for stem in stems {
                if let Some(weight) = doc.exact.get(stem) {
                    best = best.max(*weight);
                }
                // The highest weight whose words contain the stem.
                if stem.chars().count() >= 4
                    && let Some(level) = doc.joined.iter().position(|words| words.contains(stem.as_str()))
                {
                    best = best.max(0.5 * WEIGHTS[level]);
                }
            }
            if best == 0.0 {
                return None;
            }
            total += best;
        }
        Some(total)
    }
}

/// The stems a query word stands for: its own, and those of its synonyms.
fn term(word: &str) -> Vec<String> {
    let analyzer = &*ANALYZER;
    let own = analyzer.stems(word);
    let mut out: Vec<String> = own.to_vec();
    for group in SYNONYMS {
        if group.iter().any(|g| own.contains(&analyzer.stems(g)[0])) {
            for g in *group {
                out.extend(analyzer.stems(g));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn terms_of(q: &str) -> Vec<Vec<String>> {
    Analyzer::words(q).map(|w| term(&w)).collect()
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push((previous[j] + cost).min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// For a search that found nothing: the query with each word that matches no tool replaced by
/// the nearest word of the catalogue's vocabulary, when that finds something.
fn suggestions(catalogue: &Catalogue, q: &str) -> Vec<String> {
    let index = &catalogue.index;
    let words: Vec<String> = Analyzer::words(q).collect();
    let matches_any = |terms: &[Vec<String>]| (0..index.docs.len()).any(|i| index.score(i, terms).is_some());
    let mut replaced = words.clone();
    let mut changed = false;
    for (i, w) in words.iter().enumerate() {
        if !matches_any(&[term(w)])
            && let Some(near) = index.nearest(w)
        {
            replaced[i] = near.to_owned();
            changed = true;
        }
    }
    let suggestion = replaced.join(" ");
    let terms: Vec<Vec<String>> = replaced.iter().map(|w| term(w)).collect();
    if changed && matches_any(&terms) { vec![suggestion] } else { Vec::new() }
}

pub(crate) fn run<'a>(catalogue: &'a Catalogue, query: &ToolQuery) -> SearchResult<'a> {
    let terms: Vec<Vec<String>> = query.q.as_deref().map(terms_of).unwrap_or_default();

    // Text matches once (they feed both the hits and the facet counts), then the filters.
    let text_matches: Vec<(usize, &'a Tool, f32)> = catalogue
        .tools()
        .iter()
        .enumerate()
        .filter_map(|(i, tool)| {
            let score = if terms.is_empty() { Some(0.0) } else { catalogue.index.score(i, &terms) };
            score.map(|score| (i, tool, score))
        })
        .collect();
    let mut hits: Vec<(usize, SearchHit<'a>)> = text_matches
        .iter()
        .filter(|(_, tool, _)| matches_filters(tool, query))
        .map(|&(i, tool, score)| (i, SearchHit { tool, score }))
        .collect();

    let keys = &catalogue.index.name_keys;
    let by_name = |a: &(usize, SearchHit<'_>), b: &(usize, SearchHit<'_>)| {
        keys[a.0].cmp(&keys[b.0]).then(a.1.tool.slug.cmp(&b.1.tool.slug))
    };
    match query.sort {
        SortOrder::Relevance => hits.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then_with(|| by_name(a, b))),
        SortOrder::Name => hits.sort_by(by_name),
        SortOrder::Functions => hits.sort_by(|a, b| {
            b.1.tool.functions.values.len().cmp(&a.1.tool.functions.values.len()).then_with(|| by_name(a, b))
        }),
    }

    let matched: Vec<&Tool> = text_matches.iter().map(|(_, t, _)| *t).collect();
    let facets = facets(catalogue, &matched, query);
    let total = hits.len();
    let per_page = query.per_page.clamp(1, ToolQuery::MAX_PER_PAGE);
    let page = query.page.max(1);
    let hits = hits.into_iter().skip((page - 1).saturating_mul(per_page)).take(per_page).map(|(_, h)| h).collect();
    let suggestions = match query.q.as_deref() {
        Some(q) if total == 0 && text_matches.is_empty() => suggestions(catalogue, q),
        _ => Vec::new(),
    };
    SearchResult { total, page, per_page, hits, facets, suggestions }
}

/// The filter groups of a query; facet counts leave out one group at a time.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Functions,
    Licence,
    Hosting,
    Cost,
    Accessibility,
    Interfaces,
    Languages,
}

fn matches_filters(tool: &Tool, q: &ToolQuery) -> bool {
    matches_except(tool, q, None)
}

fn matches_except(tool: &Tool, q: &ToolQuery, skip: Option<Group>) -> bool {
    let on = |g: Group| skip != Some(g);
    (!on(Group::Functions) || q.functions.iter().all(|f| tool.functions.values.contains(f)))
        && (!on(Group::Licence) || q.licence.is_empty() || q.licence.contains(&LicenceFacet::of(tool)))
        && (!on(Group::Hosting) || q.hosting.iter().all(|h| hosting_has(tool, h)))
        && (!on(Group::Cost) || q.cost.is_empty() || q.cost.contains(&cost_band(tool)))
        && (!on(Group::Accessibility)
            || q.accessibility.is_none_or(|min| tool.accessibility.as_option().is_some_and(|a| a.claimed_level >= min)))
        && (!on(Group::Interfaces) || q.interfaces.iter().all(|i| tool.interfaces.iter().any(|l| &l.interface == i)))
        && (!on(Group::Languages) || q.languages.iter().all(|l| languages(tool).contains(l)))
}

/// Facet counts. Values within the licence, cost and accessibility groups are alternatives, so
/// each of those groups is counted under all other filters but not its own ("how many tools have
/// this value"); in the groups whose values must all hold the count includes the group's own
/// selection ("how many tools remain if this is ticked too").
fn facets<'a>(catalogue: &'a Catalogue, text_matches: &[&'a Tool], q: &ToolQuery) -> Facets<'a> {
    let pool = |skip: Option<Group>| text_matches.iter().copied().filter(move |t| matches_except(t, q, skip));
    let list = |counts: BTreeMap<&'a str, usize>, order: &[&'a str]| -> Vec<FacetCount<'a>> {
        order.iter().map(|k| FacetCount { key: (*k).into(), count: counts.get(k).copied().unwrap_or(0) }).collect()
    };

    let mut functions: BTreeMap<&str, usize> = BTreeMap::new();
    let mut hosting: BTreeMap<&str, usize> = BTreeMap::new();
    let mut interfaces: BTreeMap<&str, usize> = BTreeMap::new();
    let mut langs: BTreeMap<std::borrow::Cow<'a, str>, usize> = BTreeMap::new();
    for tool in pool(None) {
        for f in &tool.functions.values {
            *functions.entry(f.as_str()).or_default() += 1;
        }
        for k in HOSTING_KEYS {
            if hosting_has(tool, k) {
                *hosting.entry(k).or_default() += 1;
            }
        }
        for l in &tool.interfaces {
            *interfaces.entry(l.interface.as_str()).or_default() += 1;
        }
        for l in languages(tool) {
            *langs.entry(l.as_str().into()).or_default() += 1;
        }
    }
    let mut licence: BTreeMap<&str, usize> = BTreeMap::new();
    for tool in pool(Some(Group::Licence)) {
        *licence.entry(LicenceFacet::of(tool).key()).or_default() += 1;
    }
    let mut cost: BTreeMap<&str, usize> = BTreeMap::new();
    for tool in pool(Some(Group::Cost)) {
        *cost.entry(cost_band(tool).key()).or_default() += 1;
    }
    let mut accessibility: BTreeMap<&str, usize> = BTreeMap::new();
    for tool in pool(Some(Group::Accessibility)) {
        *accessibility.entry(accessibility_key(tool)).or_default() += 1;
    }
    // Every language of the catalogue (0 when no tool of the result offers it), plus any the
    // query asks for, so an option never silently disappears.
    for tool in catalogue.tools() {
        for l in languages(tool) {
            langs.entry(l.as_str().into()).or_default();
        }
    }
    for l in &q.languages {
        langs.entry(l.clone().into()).or_default();
    }

    let function_order: Vec<&str> = catalogue.taxonomy.functions.iter().map(|t| t.key.as_str()).collect();
    let interface_order: Vec<&str> = catalogue.interfaces().iter().map(|i| i.slug.as_str()).collect();
    let licence_order: Vec<&str> = LicenceFacet::ALL.iter().map(|l| l.key()).collect();
    let cost_order: Vec<&str> = CostBand::ALL.iter().map(|b| b.key()).collect();
    Facets {
        functions: list(functions, &function_order),
        licence: list(licence, &licence_order),
        hosting: list(hosting, &HOSTING_KEYS),
        cost: list(cost, &cost_order),
        accessibility: list(accessibility, &["AAA", "AA", "A", "none", "unknown"]),
        interfaces: list(interfaces, &interface_order),
        languages: langs.into_iter().map(|(key, count)| FacetCount { key, count }).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_plural_and_singular_share_a_stem() {
        let a = &*ANALYZER;
        assert_eq!(a.stems("bürgerhaushalte")[0], a.stems("bürgerhaushalt")[0]);
        assert_eq!(a.stems("beteiligungen")[0], a.stems("beteiligung")[0]);
    }

    #[test]
    fn umlauts_and_their_spellings_without_them_fold_alike() {
        let a = &*ANALYZER;
        assert_eq!(a.stems("Bürgerhaushalt")[0], a.stems("buergerhaushalt")[0]);
        assert_eq!(a.stems("Mängelmelder")[0], a.stems("maengelmelder")[0]);
        assert_eq!(a.stems("Straße")[0], a.stems("strasse")[0]);
        assert_eq!(fold("öffentlichkeit"), fold("oeffentlichkeit"));
    }

    #[test]
    fn a_synonym_stands_for_its_group() {
        let budget = term("Bürgerbudget");
        assert!(budget.contains(&ANALYZER.stems("bürgerhaushalt")[0]), "{budget:?}");
        assert!(term("Quantenphysik").len() <= 2, "a word without synonyms stands for itself");
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("umfrage", "umfrage"), 0);
        assert_eq!(edit_distance("umfrge", "umfrage"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn stopwords_do_not_become_required_terms() {
        let words: Vec<String> = Analyzer::words("Werkzeug für den Bürgerhaushalt").collect();
        assert_eq!(words, vec!["werkzeug", "bürgerhaushalt"]);
    }
}
