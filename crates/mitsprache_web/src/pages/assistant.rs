//! The matching assistant (`/marktplatz/assistent`): a guided form that works without
//! JavaScript, and on submit the result as an evaluation matrix (Bewertungsmatrix) that prints
//! cleanly and exports as CSV. The form is a GET form, so every result has a URL that can be
//! saved and shared, and reloading it recomputes against the current catalogue.

use super::view::{self, Value};
use crate::error::WebError;
use crate::params;
use crate::render::{Ctx, Lang, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mitsprache_catalogue::{Catalogue, InterfaceKind, WcagLevel};
use mitsprache_domain::{Locale, iso_date};
use mitsprache_hub::Error;
use mitsprache_i18n::Messages;
use mitsprache_matching::{
    Context, Criterion, KnockOut, Limits, MatchResult, Profile, Rule, Suitability, UnknownPolicy, Verdict, Weighted,
    describe, describe_suitability, documents,
};

/// The page explains every tool of a municipal-sized catalogue; the CSV has them all.
const PAGE_LIMITS: Limits = Limits { ranked: 100, excluded: 100 };

/// Requirement flags the form offers as knock-outs.
const FLAGS: [&str; 7] =
    ["open-source", "self-hosted", "saas", "hosted-in-germany", "processor-agreement", "multi-tenancy", "oidc-login"];
/// Weighted criteria of the form: (parameter, default weight points).
const WEIGHTS: [(&str, u32); 6] = [
    ("w_functions", 10),
    ("w_process", 10),
    ("w_training", 20),
    ("w_cost", 30),
    ("w_languages", 10),
    ("w_interfaces", 10),
];
/// At most this many languages or interfaces per list of the form.
const MAX_LIST: usize = 30;

/// The form's state, parsed from the query string with defaults.
pub struct Form {
    pub functions: Vec<(String, String)>, // (key, "must" | "should")
    pub flags: Vec<String>,
    pub accessibility: Option<WcagLevel>,
    /// Interfaces that are a must, and interfaces that bring points.
    pub interfaces: Vec<String>,
    pub interfaces_should: Vec<String>,
    /// Languages that are a must, and languages that bring points.
    pub languages: Vec<String>,
    pub languages_should: Vec<String>,
    pub process_types: Vec<String>,
    pub max_one_time: Option<f64>,
    pub max_yearly: Option<f64>,
    pub max_total: Option<f64>,
    pub years: u32,
    pub inhabitants: Option<u64>,
    pub administrators: u32,
    pub moderators: u32,
    pub min_references: Option<u32>,
    pub certification: Option<String>,
    pub unknown: UnknownPolicy,
    pub weights: Vec<(&'static str, u32)>,
    pub run: bool,
}

fn invalid(name: &str, message: &str) -> Error {
    Error::Invalid { field: name.to_owned(), message: message.to_owned() }
}

fn one<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

fn number<T: std::str::FromStr>(pairs: &[(String, String)], name: &str, max: f64) -> Result<Option<T>, Error> {
    match one(pairs, name) {
        None => Ok(None),
        Some(v) => {
            let ok = v.parse::<f64>().is_ok_and(|x| x.is_finite() && (0.0..=max).contains(&x));
            match (ok, v.parse::<T>()) {
                (true, Ok(n)) => Ok(Some(n)),
                _ => Err(invalid(name, &format!("must be a number from 0 to {max}"))),
            }
        }
    }
}

/// The shape of a BCP 47 language tag (the same rule the catalogue's validation applies).
fn is_language_tag(tag: &str) -> bool {
    (2..=3).contains(&tag.split('-').next().map_or(0, str::len))
        && tag.len() <= 35
        && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

impl Form {
    pub fn parse(pairs: &[(String, String)], catalogue: &Catalogue) -> Result<Form, Error> {
        let mut functions = Vec::new();
        for t in &catalogue.taxonomy.functions {
            match one(pairs, &format!("f.{}", t.key)) {
                None | Some("none") => {}
                Some(v @ ("must" | "should")) => functions.push((t.key.clone(), v.to_owned())),
                Some(_) => return Err(invalid(&format!("f.{}", t.key), "must be none, should or must")),
            }
        }
        let many = |name: &str| -> Result<Vec<String>, Error> {
            let mut out: Vec<String> = Vec::new();
            for v in pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()) {
                if !out.iter().any(|o| o == v) {
                    out.push(v.to_owned());
                }
            }
            if out.len() > MAX_LIST {
                return Err(invalid(name, &format!("at most {MAX_LIST} values")));
            }
            Ok(out)
        };
        let flags = many("must")?;
        if let Some(f) = flags.iter().find(|f| !FLAGS.contains(&f.as_str())) {
            return Err(invalid("must", &format!("`{f}` is not a requirement of the form")));
        }
        let accessibility = match one(pairs, "accessibility") {
            None => None,
            Some("A") => Some(WcagLevel::A),
            Some("AA") => Some(WcagLevel::AA),
            Some("AAA") => Some(WcagLevel::AAA),
            Some(_) => return Err(invalid("accessibility", "must be A, AA or AAA")),
        };
        let languages = many("language")?;
        let languages_should = many("languages_should")?;
        for (name, list) in [("language", &languages), ("languages_should", &languages_should)] {
            if let Some(bad) = list.iter().find(|t| !is_language_tag(t)) {
                return Err(invalid(name, &format!("`{bad}` is not a language tag")));
            }
        }
        let unknown = match one(pairs, "unknown") {
            None | Some("fail") => UnknownPolicy::Fail,
            Some("check") => UnknownPolicy::Check,
            Some(_) => return Err(invalid("unknown", "must be fail or check")),
        };
        let mut weights = Vec::new();
        for (name, default) in WEIGHTS {
            weights.push((name, number::<u32>(pairs, name, 100.0)?.unwrap_or(default)));
        }
        let certification = one(pairs, "certification").map(|c| c.chars().take(100).collect::<String>());
        Ok(Form {
            functions,
            flags,
            accessibility,
            interfaces: many("interfaces")?,
            interfaces_should: many("interfaces_should")?,
            languages,
            languages_should,
            process_types: many("process_types")?,
            max_one_time: number(pairs, "max_one_time", 1e9)?,
            max_yearly: number(pairs, "max_yearly", 1e9)?,
            max_total: number(pairs, "max_total", 1e10)?,
            years: number(pairs, "years", 30.0)?.unwrap_or(4).max(1),
            inhabitants: number(pairs, "inhabitants", 1e8)?,
            administrators: number(pairs, "administrators", 10_000.0)?.unwrap_or(1),
            moderators: number(pairs, "moderators", 10_000.0)?.unwrap_or(1),
            min_references: number::<u32>(pairs, "min_references", 1000.0)?.filter(|n| *n > 0),
            certification,
            unknown,
            weights,
            run: one(pairs, "run").is_some(),
        })
    }

    fn weight(&self, name: &str) -> u32 {
        self.weights.iter().find(|(n, _)| *n == name).map_or(0, |(_, w)| *w)
    }

    pub fn profile(&self) -> Profile {
        let mut must: Vec<Criterion> = self
            .functions
            .iter()
            .filter(|(_, v)| v == "must")
            .map(|(k, _)| Criterion::Function { key: k.clone() })
            .collect();
        for f in &self.flags {
            must.push(match f.as_str() {
                "open-source" => Criterion::OpenSource,
                "self-hosted" => Criterion::SelfHosted,
                "saas" => Criterion::Saas,
                "hosted-in-germany" => Criterion::HostedInGermany,
                "processor-agreement" => Criterion::ProcessorAgreement,
                "multi-tenancy" => Criterion::MultiTenancy,
                _ => Criterion::InterfaceKind { kind: InterfaceKind::LoginOidc },
            });
        }
        if let Some(level) = self.accessibility {
            must.push(Criterion::AccessibilityAtLeast { level });
        }
        must.extend(self.interfaces.iter().map(|s| Criterion::Interface { slug: s.clone() }));
        must.extend(self.languages.iter().map(|tag| Criterion::Language { tag: tag.clone() }));
        if let Some(eur) = self.max_one_time {
            must.push(Criterion::MaxOneTimeCost { eur });
        }
        if let Some(eur) = self.max_yearly {
            must.push(Criterion::MaxYearlyCost { eur });
        }
        if let Some(eur) = self.max_total {
            must.push(Criterion::MaxTotalCost { eur });
        }
        let mut should: Vec<Weighted> = Vec::new();
        let mut add = |weight: u32, rule: Rule| {
            if weight > 0 {
                should.push(Weighted { weight, rule });
            }
        };
        for (key, _) in self.functions.iter().filter(|(_, v)| v == "should") {
            add(self.weight("w_functions"), Rule::Meets { criterion: Criterion::Function { key: key.clone() } });
        }
        for key in &self.process_types {
            add(self.weight("w_process"), Rule::Meets { criterion: Criterion::ProcessType { key: key.clone() } });
        }
        add(self.weight("w_training"), Rule::LowTrainingEffort { zero_at_hours: 100.0 });
        add(
            self.weight("w_cost"),
            Rule::LowCost { zero_at_eur: self.max_total.filter(|x| *x > 0.0).unwrap_or(100_000.0) },
        );
        // Languages and interfaces score the stated need, not how many a tool has.
        if !self.languages_should.is_empty() {
            add(self.weight("w_languages"), Rule::Languages { tags: self.languages_should.clone() });
        }
        if !self.interfaces_should.is_empty() {
            add(
                self.weight("w_interfaces"),
                Rule::Interfaces { slugs: self.interfaces_should.clone(), kinds: Vec::new() },
            );
        }
        let mut suitability = Vec::new();
        if let Some(at_least) = self.min_references {
            suitability.push(Suitability::References { at_least });
        }
        if let Some(name) = &self.certification {
            suitability.push(Suitability::Certification { name: name.clone() });
        }
        Profile {
            must,
            should,
            suitability,
            context: Context {
                inhabitants: self.inhabitants,
                years: self.years,
                administrators: self.administrators,
                moderators: self.moderators,
            },
            unknown: self.unknown,
        }
    }
}

// ---------------------------------------------------------------- view models

pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

pub struct FunctionRow {
    pub key: String,
    pub label: String,
    pub choices: Vec<Choice>,
}

pub struct WeightField {
    pub name: &'static str,
    pub label: String,
    pub value: u32,
}

pub struct MatrixRow {
    pub label: String,
    /// Weight points; none for knock-out and suitability rows.
    pub weight: Option<u32>,
    pub cells: Vec<String>,
}

pub struct RankedView {
    pub slug: String,
    pub name: String,
    pub vendor: String,
    pub points: String,
    pub cost: Value,
    pub ratio: Value,
    pub equivalent: bool,
    pub reasons: Vec<String>,
    pub suitability: Vec<String>,
    pub assumptions: Vec<String>,
    pub to_check: Vec<String>,
}

pub struct ExcludedView {
    pub slug: String,
    pub name: String,
    pub reasons: Vec<String>,
}

pub struct RelaxationView {
    pub criteria: Vec<String>,
    pub admits: Vec<String>,
}

pub struct ToolkitView {
    pub members: Vec<(String, String)>,
    pub coverage: Vec<(String, String)>,
    pub points: String,
    pub cost: Value,
    pub hub_login: String,
}

pub struct QuestionsView {
    pub name: String,
    pub vendor: String,
    pub contact: Option<String>,
    pub questions: Vec<String>,
    pub enquiry_url: String,
    pub enquiry_label: String,
}

pub struct ResultView {
    pub summary: String,
    pub date: String,
    pub revision: i64,
    pub max_points: String,
    pub must: Vec<String>,
    pub suitability: Vec<String>,
    pub missing_functions: Vec<String>,
    pub no_data: Vec<String>,
    pub context: Vec<(String, String)>,
    pub matrix_tools: Vec<String>,
    pub matrix: Vec<MatrixRow>,
    pub matrix_totals: Vec<String>,
    pub ranked: Vec<RankedView>,
    pub excluded: Vec<ExcludedView>,
    pub relaxations: Vec<RelaxationView>,
    pub toolkits: Vec<ToolkitView>,
    pub questions: Vec<QuestionsView>,
    pub csv_url: String,
    pub draft_url: String,
    pub share_url: String,
}

#[derive(Template)]
#[template(path = "assistant.html")]
pub struct AssistantPage {
    pub ctx: Ctx,
    pub functions: Vec<FunctionRow>,
    pub flags: Vec<Choice>,
    pub accessibility: Vec<Choice>,
    pub interfaces: Vec<Choice>,
    pub interfaces_should: Vec<Choice>,
    pub languages: Vec<Choice>,
    pub languages_more: Vec<Choice>,
    pub languages_should: Vec<Choice>,
    pub languages_should_more: Vec<Choice>,
    pub process_types: Vec<Choice>,
    pub unknown: Vec<Choice>,
    pub numbers: Vec<(&'static str, String, String)>,
    pub min_references: String,
    pub certification: String,
    pub weights: Vec<WeightField>,
    pub result: Option<ResultView>,
}

/// A weighted criterion in words, for the matrix on the page and the CSV header.
fn rule_label(w: &Weighted, catalogue: &Catalogue, locale: Locale) -> String {
    mitsprache_matching::describe_rule(&w.rule, catalogue).get(locale).to_owned()
}

/// A knock-out's state in one word: the same on the page and in the CSV.
fn verdict_text(t: &Messages, k: &KnockOut) -> String {
    t.get(match (k.verdict, k.assumed) {
        (Verdict::Met, _) => "verdict.met",
        (Verdict::NotMet, _) => "verdict.not-met",
        (Verdict::Unknown, true) => "verdict.assumed",
        (Verdict::Unknown, false) => "verdict.unknown",
    })
    .to_owned()
}

/// Columns of the matrix on the page; the CSV has all ranked tools.
const MATRIX_COLUMNS: usize = 5;

fn num(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 { format!("{}", x.round() as i64) } else { format!("{x:.1}") }
}

/// A language offered by fewer tools than this is listed under "more languages", so the form
/// stays short (Tab does not walk through two hundred checkboxes).
pub(crate) const COMMON_FROM: usize = 4;

/// The languages the catalogue's tools offer, as choices: the five offered most first, then
/// the rest by name in the page language; those few tools offer (and not chosen) apart.
fn language_choices(catalogue: &Catalogue, locale: Locale, selected: &[String]) -> (Vec<Choice>, Vec<Choice>) {
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for tool in catalogue.tools() {
        for tag in tool.languages.as_option().map_or(&[][..], |l| &l.values[..]) {
            *counts.entry(tag.clone()).or_default() += 1;
        }
    }
    for tag in selected {
        counts.entry(tag.clone()).or_default();
    }
    let mut by_count: Vec<(&String, &usize)> = counts.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let common: Vec<&str> = by_count.iter().take(5).map(|(t, _)| t.as_str()).collect();
    let mut tags: Vec<String> = counts.keys().cloned().collect();
    mitsprache_i18n::sort_languages(locale, &mut tags, &common);
    tags.into_iter()
        .map(|tag| Choice { label: view::language_name(locale, &tag), checked: selected.contains(&tag), value: tag })
        .partition(|c| c.checked || counts.get(&c.value).is_some_and(|n| *n >= COMMON_FROM))
}

fn result_view(
    ctx: &Ctx,
    state: &AppState,
    catalogue: &Catalogue,
    form: &Form,
    profile: &Profile,
    result: &MatchResult,
    raw: Option<&str>,
) -> ResultView {
    let (t, locale) = (ctx.t, ctx.locale);
    let name_of = |slug: &str| catalogue.tool(slug).map_or(slug.to_owned(), |x| x.name.clone());
    let shown: Vec<&mitsprache_matching::RankedTool> = result.ranked.iter().take(MATRIX_COLUMNS).collect();
    let query = params::pairs(raw).into_iter().filter(|(k, _)| k != "lang").collect::<Vec<_>>();
    let mut context = vec![(t.get("assistant.years").to_owned(), form.years.to_string())];
    if let Some(i) = form.inhabitants {
        context.push((t.get("assistant.inhabitants").to_owned(), i.to_string()));
    }
    context.push((t.get("assistant.administrators").to_owned(), form.administrators.to_string()));
    context.push((t.get("assistant.moderators").to_owned(), form.moderators.to_string()));
    context.push((
        t.get("assistant.unknown").to_owned(),
        t.get(&format!("assistant.unknown.{}", if form.unknown == UnknownPolicy::Check { "check" } else { "fail" }))
            .to_owned(),
    ));
    let mut matrix: Vec<MatrixRow> = profile
        .must
        .iter()
        .enumerate()
        .map(|(i, c)| MatrixRow {
            label: format!("{}: {}", t.get("assistant.must-short"), describe(c, catalogue).get(locale)),
            weight: None,
            cells: shown.iter().map(|r| verdict_text(t, &r.knockouts[i])).collect(),
        })
        .collect();
    matrix.extend(profile.should.iter().enumerate().map(|(i, w)| {
        MatrixRow {
            label: rule_label(w, catalogue, locale),
            weight: Some(w.weight),
            cells: shown
                .iter()
                .map(|r| format!("{} × {} = {}", num(r.criteria[i].score), w.weight, num(r.criteria[i].points)))
                .collect(),
        }
    }));
    let with_query = |path: &str, extra: &[(&str, &str)]| {
        let mut q = query.clone();
        q.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        view::url(path, &q)
    };
    ResultView {
        summary: result.summary.get(locale).to_owned(),
        date: view::date(locale, state.hub().now().date()),
        revision: result.catalogue_revision,
        max_points: num(result.max_points),
        must: profile.must.iter().map(|c| describe(c, catalogue).get(locale).to_owned()).collect(),
        suitability: profile.suitability.iter().map(|s| describe_suitability(s).get(locale).to_owned()).collect(),
        missing_functions: result.missing_functions.iter().map(|m| m.label.get(locale).to_owned()).collect(),
        no_data: result
            .no_data
            .iter()
            .map(|n| t.fmt("assistant.no-data", &[("criterion", &n.label.get(locale)), ("weight", &n.weight)]))
            .collect(),
        context,
        matrix_tools: shown.iter().map(|r| r.name.clone()).collect(),
        matrix,
        matrix_totals: shown.iter().map(|r| num(r.points)).collect(),
        ranked: result
            .ranked
            .iter()
            .map(|r| RankedView {
                slug: r.tool.clone(),
                name: r.name.clone(),
                vendor: r.vendor.clone(),
                points: num(r.points),
                cost: r.total_cost_eur.map_or_else(|| Value::unknown(t), |c| Value::text(locale.format_eur(c))),
                ratio: r.ratio.map_or_else(|| Value::unknown(t), |x| Value::text(format!("{x:.2}"))),
                equivalent: r.equivalent,
                reasons: r.criteria.iter().map(|c| c.explanation.get(locale).to_owned()).collect(),
                suitability: r.suitability.iter().map(|s| s.explanation.get(locale).to_owned()).collect(),
                assumptions: r.assumptions.iter().map(|a| a.get(locale).to_owned()).collect(),
                to_check: r.to_check.iter().map(|c| c.get(locale).to_owned()).collect(),
            })
            .collect(),
        excluded: result
            .excluded
            .iter()
            .map(|x| ExcludedView {
                slug: x.tool.clone(),
                name: x.name.clone(),
                reasons: x.failed.iter().map(|f| f.explanation.get(locale).to_owned()).collect(),
            })
            .collect(),
        relaxations: result
            .relaxations
            .iter()
            .map(|r| RelaxationView {
                criteria: r.criteria.iter().map(|c| c.get(locale).to_owned()).collect(),
                admits: r.admits.iter().map(|s| name_of(s)).collect(),
            })
            .collect(),
        toolkits: result
            .toolkits
            .iter()
            .map(|k| ToolkitView {
                members: k.members.iter().map(|s| (s.clone(), name_of(s))).collect(),
                coverage: k
                    .coverage
                    .iter()
                    .map(|c| {
                        (
                            c.label.get(locale).to_owned(),
                            c.tools.iter().map(|s| name_of(s)).collect::<Vec<_>>().join(", "),
                        )
                    })
                    .collect(),
                points: num(k.points),
                cost: k.total_cost_eur.map_or_else(|| Value::unknown(t), |c| Value::text(locale.format_eur(c))),
                hub_login: t.fmt("assistant.hub-login", &[("count", &k.hub_login), ("members", &k.members.len())]),
            })
            .collect(),
        questions: result
            .questions
            .iter()
            .map(|q| QuestionsView {
                name: q.name.clone(),
                vendor: q.vendor.clone(),
                contact: q.contact.clone(),
                questions: q.questions.iter().map(|x| x.get(locale).to_owned()).collect(),
                enquiry_url: with_query("/marktplatz/assistent/markterkundung.txt", &[("werkzeug", &q.tool)]),
                enquiry_label: t.fmt("assistant.enquiry", &[("vendor", &q.vendor)]),
            })
            .collect(),
        csv_url: with_query("/marktplatz/assistent/bewertungsmatrix.csv", &[]),
        draft_url: with_query("/marktplatz/assistent/leistungsbeschreibung.md", &[]),
        share_url: with_query("/marktplatz/assistent", &[]),
    }
}

fn choices(options: impl Iterator<Item = (String, String)>, selected: impl Fn(&str) -> bool) -> Vec<Choice> {
    options.map(|(value, label)| Choice { checked: selected(&value), value, label }).collect()
}

pub async fn assistant_page(
    State(state): State<AppState>,
    lang: Lang,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let path = "/marktplatz/assistent";
    let catalogue = state.hub().catalogue();
    let pairs = params::pairs(raw.as_deref());
    let form = Form::parse(&pairs, &catalogue)?;
    let ctx = Ctx::new(&lang, path, raw.as_deref());
    let (t, locale) = (ctx.t, ctx.locale);
    let result = if form.run {
        let profile = form.profile();
        let (ran_on, result) = state.hub().run_matching(&profile, PAGE_LIMITS)?;
        Some(result_view(&ctx, &state, &ran_on, &form, &profile, &result, raw.as_deref()))
    } else {
        None
    };
    let function_choice = |key: &str, value: &str| {
        form.functions.iter().find(|(k, _)| k == key).map_or("none", |(_, v)| v.as_str()) == value
    };
    let functions = catalogue
        .taxonomy
        .functions
        .iter()
        .map(|f| FunctionRow {
            key: f.key.clone(),
            label: f.label.get(locale).to_owned(),
            choices: ["none", "should", "must"]
                .iter()
                .map(|v| Choice {
                    value: (*v).to_owned(),
                    label: t.get(&format!("assistant.choice.{v}")).to_owned(),
                    checked: function_choice(&f.key, v),
                })
                .collect(),
        })
        .collect();
    let interface_choices = |selected: &[String]| {
        choices(catalogue.interfaces().iter().map(|i| (i.slug.to_string(), i.name.clone())), |v| {
            selected.iter().any(|i| i == v)
        })
    };
    let must_languages = language_choices(&catalogue, locale, &form.languages);
    let should_languages = language_choices(&catalogue, locale, &form.languages_should);
    let page = AssistantPage {
        functions,
        flags: choices(
            FLAGS.iter().map(|f| ((*f).to_owned(), t.get(&format!("assistant.flag.{f}")).to_owned())),
            |v| form.flags.iter().any(|f| f == v),
        ),
        accessibility: choices(
            [("", t.get("accessibility.any").to_owned()), ("A", "WCAG A".to_owned()), ("AA", "WCAG AA".to_owned())]
                .into_iter()
                .map(|(v, l)| (v.to_owned(), l)),
            |v| form.accessibility.map_or(v.is_empty(), |l| l.key() == v),
        ),
        interfaces: interface_choices(&form.interfaces),
        interfaces_should: interface_choices(&form.interfaces_should),
        languages: must_languages.0,
        languages_more: must_languages.1,
        languages_should: should_languages.0,
        languages_should_more: should_languages.1,
        process_types: choices(
            catalogue.taxonomy.process_types.iter().map(|p| (p.key.clone(), p.label.get(locale).to_owned())),
            |v| form.process_types.iter().any(|p| p == v),
        ),
        unknown: choices(
            ["fail", "check"].iter().map(|v| ((*v).to_owned(), t.get(&format!("assistant.unknown.{v}")).to_owned())),
            |v| (v == "check") == (form.unknown == UnknownPolicy::Check),
        ),
        numbers: vec![
            (
                "max_one_time",
                t.get("assistant.max_one_time").to_owned(),
                form.max_one_time.map(num).unwrap_or_default(),
            ),
            ("max_yearly", t.get("assistant.max_yearly").to_owned(), form.max_yearly.map(num).unwrap_or_default()),
            ("max_total", t.get("assistant.max_total").to_owned(), form.max_total.map(num).unwrap_or_default()),
            ("years", t.get("assistant.years").to_owned(), form.years.to_string()),
            (
                "inhabitants",
                t.get("assistant.inhabitants").to_owned(),
                form.inhabitants.map(|i| i.to_string()).unwrap_or_default(),
            ),
            ("administrators", t.get("assistant.administrators").to_owned(), form.administrators.to_string()),
            ("moderators", t.get("assistant.moderators").to_owned(), form.moderators.to_string()),
        ],
        min_references: form.min_references.map(|n| n.to_string()).unwrap_or_default(),
        certification: form.certification.clone().unwrap_or_default(),
        weights: form
            .weights
            .iter()
            .map(|(name, value)| WeightField {
                name,
                label: t.get(&format!("assistant.{name}")).to_owned(),
                value: *value,
            })
            .collect(),
        result,
        ctx,
    };
    Ok(render(&page, &lang, StatusCode::OK))
}

/// A text download: UTF-8, as an attachment with a file name.
fn download(content_type: &'static str, filename: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static(filename)),
        ],
        body,
    )
        .into_response()
}

/// The profile and its result for a download: the same query as the page.
fn run_for_download(
    state: &AppState,
    raw: Option<&str>,
) -> Result<(Profile, std::sync::Arc<Catalogue>, MatchResult), WebError> {
    let catalogue = state.hub().catalogue();
    let pairs = params::pairs(raw);
    let profile = Form::parse(&pairs, &catalogue)?.profile();
    let (ran_on, result) = state.hub().run_matching(&profile, Limits::ALL)?;
    Ok((profile, ran_on, result))
}

/// The evaluation matrix as CSV (semicolon-separated, UTF-8 with BOM, as German spreadsheet
/// programs open it): one row per ranked tool, then the excluded ones, each with every
/// knock-out's state, every weighted criterion's score (0–10) and points in columns of their
/// own, the suitability checks, the assumptions and what to check with the vendor.
pub async fn matrix_csv(
    State(state): State<AppState>,
    lang: Lang,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let (profile, catalogue, result) = run_for_download(&state, raw.as_deref())?;
    let t: &Messages = mitsprache_i18n::messages(lang.locale);
    let locale = lang.locale;
    let mut header: Vec<String> = [
        "csv.rank",
        "csv.tool",
        "csv.vendor",
        "csv.points",
        "csv.max-points",
        "csv.total-cost",
        "csv.ratio",
        "csv.equivalent",
    ]
    .iter()
    .map(|k| t.get(k).to_owned())
    .collect();
    for c in &profile.must {
        header.push(format!("{}: {}", t.get("assistant.must-short"), describe(c, &catalogue).get(locale)));
    }
    for w in &profile.should {
        let label = rule_label(w, &catalogue, locale);
        header.push(format!("{label} – {}", t.get("csv.score")));
        header.push(format!("{label} – {} (× {})", t.get("csv.points"), w.weight));
    }
    for s in &profile.suitability {
        header.push(format!("{}: {}", t.get("csv.suitability"), describe_suitability(s).get(locale)));
    }
    header.extend(["csv.assumptions", "csv.to-check", "csv.reasons"].iter().map(|k| t.get(k).to_owned()));
    let joined = |items: &[mitsprache_catalogue::LocalizedText]| {
        items.iter().map(|x| x.get(locale).to_owned()).collect::<Vec<_>>().join(" | ")
    };
    let mut rows: Vec<Vec<String>> = vec![header];
    for r in &result.ranked {
        let mut row = vec![
            r.rank.to_string(),
            r.name.clone(),
            r.vendor.clone(),
            num(r.points),
            num(result.max_points),
            r.total_cost_eur.map(num).unwrap_or_default(),
            r.ratio.map(|x| format!("{x:.2}")).unwrap_or_default(),
            t.get(if r.equivalent { "value.yes" } else { "value.no" }).to_owned(),
        ];
        row.extend(r.knockouts.iter().map(|k| verdict_text(t, k)));
        for c in &r.criteria {
            row.push(num(c.score));
            row.push(num(c.points));
        }
        row.extend(
            r.suitability.iter().map(|s| t.get(if s.met { "verdict.shown" } else { "verdict.to-prove" }).to_owned()),
        );
        row.push(joined(&r.assumptions));
        row.push(joined(&r.to_check));
        row.push(String::new());
        rows.push(row);
    }
    for x in &result.excluded {
        let mut row = vec![t.get("csv.excluded").to_owned(), x.name.clone(), x.vendor.clone()];
        row.extend(std::iter::repeat_n(String::new(), 5));
        row.extend(x.knockouts.iter().map(|k| verdict_text(t, k)));
        row.extend(std::iter::repeat_n(String::new(), profile.should.len() * 2 + profile.suitability.len() + 2));
        row.push(x.failed.iter().map(|f| f.explanation.get(locale).to_owned()).collect::<Vec<_>>().join(" | "));
        rows.push(row);
    }
    let mut body = String::from('\u{feff}');
    body.push_str(&format!(
        "# {} {} · {} {} · {}\r\n",
        t.get("csv.date"),
        iso_date::format(state.hub().now().date()),
        t.get("csv.revision"),
        result.catalogue_revision,
        result.summary.get(locale)
    ));
    for row in rows {
        body.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(";"));
        body.push_str("\r\n");
    }
    Ok(download("text/csv; charset=utf-8", "attachment; filename=\"bewertungsmatrix.csv\"", body))
}

/// The profile as a draft list of requirements for a Leistungsbeschreibung (Markdown, German).
pub async fn requirements_md(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let catalogue = state.hub().catalogue();
    let profile = Form::parse(&params::pairs(raw.as_deref()), &catalogue)?.profile();
    mitsprache_hub::catalogue::check_profile(&profile, &catalogue)?;
    let name = |tag: &str| view::language_name(Locale::De, tag);
    let body = documents::requirements_draft(&profile, &catalogue, state.hub().now().date(), &name);
    Ok(download("text/markdown; charset=utf-8", "attachment; filename=\"leistungsbeschreibung-entwurf.md\"", body))
}

/// The market-survey enquiry to the vendor of `werkzeug`: the facts the result assumed or
/// lacked for that tool, as questions in the page language.
pub async fn enquiry_txt(
    State(state): State<AppState>,
    lang: Lang,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let pairs = params::pairs(raw.as_deref());
    let slug = one(&pairs, "werkzeug").ok_or_else(|| invalid("werkzeug", "names the tool"))?.to_owned();
    let (_, _, result) = run_for_download(&state, raw.as_deref())?;
    let Some(questions) = result.questions.iter().find(|q| q.tool == slug) else {
        return Err(WebError(Error::NotFound));
    };
    let body = documents::enquiry(questions, state.hub().now().date(), lang.locale);
    Ok(download("text/plain; charset=utf-8", "attachment; filename=\"markterkundung.txt\"", body))
}

/// RFC 4180 quoting; a leading =, +, - or @ is prefixed so spreadsheets do not run it as a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([';', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("Decidim"), "Decidim");
        assert_eq!(csv_field("a;b"), "\"a;b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
