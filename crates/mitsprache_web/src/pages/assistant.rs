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
use mitsprache_domain::iso_date;
use mitsprache_hub::Error;
use mitsprache_hub::catalogue::check_profile;
use mitsprache_i18n::Messages;
use mitsprache_matching::{
    Context, Criterion, Limits, MatchResult, Profile, Rule, UnknownPolicy, Weighted, describe, run_with,
};

/// The page explains every tool of a municipal-sized catalogue; the CSV has them all.
const PAGE_LIMITS: Limits = Limits { ranked: 100, excluded: 100 };

/// Requirement flags the form offers as knock-outs.
const FLAGS: [&str; 7] =
    ["open-source", "self-hosted", "saas", "hosted-in-germany", "processor-agreement", "multi-tenancy", "oidc-login"];
/// Weighted criteria of the form: (parameter, default weight points).
const WEIGHTS: [(&str, u32); 7] = [
    ("w_functions", 10),
    ("w_process", 10),
    ("w_training", 20),
    ("w_cost", 30),
    ("w_references", 10),
    ("w_languages", 10),
    ("w_interfaces", 10),
];
const LANGUAGES: [&str; 8] = ["de", "en", "fr", "tr", "ar", "uk", "pl", "es"];

/// The form's state, parsed from the query string with defaults.
pub struct Form {
    pub functions: Vec<(String, String)>, // (key, "must" | "should")
    pub flags: Vec<String>,
    pub accessibility: Option<WcagLevel>,
    pub interfaces: Vec<String>,
    pub language: Option<String>,
    pub process_types: Vec<String>,
    pub max_one_time: Option<f64>,
    pub max_yearly: Option<f64>,
    pub max_total: Option<f64>,
    pub years: u32,
    pub inhabitants: Option<u64>,
    pub administrators: u32,
    pub moderators: u32,
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
        let many = |name: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect()
        };
        let flags = many("must");
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
        let language = one(pairs, "language").map(str::to_owned);
        if language.as_deref().is_some_and(|l| !LANGUAGES.contains(&l)) {
            return Err(invalid("language", "is not a language the form offers"));
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
        Ok(Form {
            functions,
            flags,
            accessibility,
            interfaces: many("interfaces"),
            language,
            process_types: many("process_types"),
            max_one_time: number(pairs, "max_one_time", 1e9)?,
            max_yearly: number(pairs, "max_yearly", 1e9)?,
            max_total: number(pairs, "max_total", 1e10)?,
            years: number(pairs, "years", 30.0)?.unwrap_or(4).max(1),
            inhabitants: number(pairs, "inhabitants", 1e8)?,
            administrators: number(pairs, "administrators", 10_000.0)?.unwrap_or(1),
            moderators: number(pairs, "moderators", 10_000.0)?.unwrap_or(1),
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
        if let Some(tag) = &self.language {
            must.push(Criterion::Language { tag: tag.clone() });
        }
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
        add(self.weight("w_references"), Rule::References { full_at: 5 });
        add(self.weight("w_languages"), Rule::Languages { full_at: 5 });
        add(self.weight("w_interfaces"), Rule::Interfaces { full_at: 5 });
        Profile {
            must,
            should,
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
    pub weight: u32,
    pub cells: Vec<String>,
}

pub struct RankedView {
    pub slug: String,
    pub name: String,
    pub points: String,
    pub cost: Value,
    pub ratio: Value,
    pub equivalent: bool,
    pub reasons: Vec<String>,
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

pub struct ResultView {
    pub date: String,
    pub revision: i64,
    pub max_points: String,
    pub must: Vec<String>,
    pub context: Vec<(String, String)>,
    pub matrix_tools: Vec<String>,
    pub matrix: Vec<MatrixRow>,
    pub matrix_totals: Vec<String>,
    pub ranked: Vec<RankedView>,
    pub excluded: Vec<ExcludedView>,
    pub relaxations: Vec<RelaxationView>,
    pub toolkits: Vec<ToolkitView>,
    pub csv_url: String,
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
    pub languages: Vec<Choice>,
    pub process_types: Vec<Choice>,
    pub unknown: Vec<Choice>,
    pub numbers: Vec<(&'static str, String, String)>,
    pub weights: Vec<WeightField>,
    pub result: Option<ResultView>,
}

/// A weighted criterion in words, for the matrix on the page and the CSV header.
fn rule_label(w: &Weighted, catalogue: &Catalogue, t: &Messages) -> String {
    match &w.rule {
        Rule::Meets { criterion } => describe(criterion, catalogue).get(t.locale()).to_owned(),
        Rule::LowTrainingEffort { .. } => t.get("assistant.w_training").to_owned(),
        Rule::LowCost { .. } => t.get("assistant.w_cost").to_owned(),
        Rule::References { .. } => t.get("assistant.w_references").to_owned(),
        Rule::Languages { .. } => t.get("assistant.w_languages").to_owned(),
        Rule::Interfaces { .. } => t.get("assistant.w_interfaces").to_owned(),
    }
}

/// Columns of the matrix on the page; the CSV has all ranked tools.
const MATRIX_COLUMNS: usize = 5;

fn num(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 { format!("{}", x.round() as i64) } else { format!("{x:.1}") }
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
    let rule_label = |w: &Weighted| rule_label(w, catalogue, t);
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
    ResultView {
        date: view::date(locale, state.hub().now().date()),
        revision: result.catalogue_revision,
        max_points: num(result.max_points),
        must: profile.must.iter().map(|c| describe(c, catalogue).get(locale).to_owned()).collect(),
        context,
        matrix_tools: shown.iter().map(|r| r.name.clone()).collect(),
        matrix: profile
            .should
            .iter()
            .enumerate()
            .map(|(i, w)| MatrixRow {
                label: rule_label(w),
                weight: w.weight,
                cells: shown
                    .iter()
                    .map(|r| format!("{} × {} = {}", num(r.criteria[i].score), w.weight, num(r.criteria[i].points)))
                    .collect(),
            })
            .collect(),
        matrix_totals: shown.iter().map(|r| num(r.points)).collect(),
        ranked: result
            .ranked
            .iter()
            .map(|r| RankedView {
                slug: r.tool.clone(),
                name: r.name.clone(),
                points: num(r.points),
                cost: r.total_cost_eur.map_or_else(|| Value::unknown(t), |c| Value::text(locale.format_eur(c))),
                ratio: r.ratio.map_or_else(|| Value::unknown(t), |x| Value::text(format!("{x:.2}"))),
                equivalent: r.equivalent,
                reasons: r.criteria.iter().map(|c| c.explanation.get(locale).to_owned()).collect(),
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
        csv_url: view::url("/marktplatz/assistent/bewertungsmatrix.csv", &query),
        share_url: view::url("/marktplatz/assistent", &query),
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
    let (catalogue, index) = state.hub().matching();
    let pairs = params::pairs(raw.as_deref());
    let form = Form::parse(&pairs, &catalogue)?;
    let ctx = Ctx::new(&lang, path, raw.as_deref());
    let (t, locale) = (ctx.t, ctx.locale);
    let result = if form.run {
        let profile = form.profile();
        check_profile(&profile, &catalogue)?;
        let result = run_with(&profile, &catalogue, &index, PAGE_LIMITS);
        Some(result_view(&ctx, &state, &catalogue, &form, &profile, &result, raw.as_deref()))
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
        interfaces: choices(catalogue.interfaces().iter().map(|i| (i.slug.to_string(), i.name.clone())), |v| {
            form.interfaces.iter().any(|i| i == v)
        }),
        languages: choices(
            std::iter::once((String::new(), t.get("assistant.language.any").to_owned()))
                .chain(LANGUAGES.iter().map(|l| ((*l).to_owned(), view::language_name(locale, l)))),
            |v| form.language.as_deref().unwrap_or("") == v,
        ),
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

/// The evaluation matrix as CSV (semicolon-separated, UTF-8 with BOM, as German spreadsheet
/// programs open it), one row per ranked tool with every criterion's score and points, then the
/// excluded tools with the knock-outs they failed.
pub async fn matrix_csv(
    State(state): State<AppState>,
    lang: Lang,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let (catalogue, index) = state.hub().matching();
    let pairs = params::pairs(raw.as_deref());
    let profile = Form::parse(&pairs, &catalogue)?.profile();
    check_profile(&profile, &catalogue)?;
    let result = run_with(&profile, &catalogue, &index, Limits::ALL);
    let t: &Messages = mitsprache_i18n::messages(lang.locale);
    let locale = lang.locale;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = vec![
        t.get("csv.rank"),
        t.get("csv.tool"),
        t.get("csv.points"),
        t.get("csv.max-points"),
        t.get("csv.total-cost"),
        t.get("csv.ratio"),
        t.get("csv.equivalent"),
    ]
    .into_iter()
    .map(str::to_owned)
    .collect::<Vec<_>>();
    for w in &profile.should {
        let label = rule_label(w, &catalogue, t);
        header.push(format!("{label} ({} {})", w.weight, t.get("csv.weight")));
    }
    rows.push(header);
    for r in &result.ranked {
        let mut row = vec![
            r.rank.to_string(),
            r.name.clone(),
            num(r.points),
            num(result.max_points),
            r.total_cost_eur.map(num).unwrap_or_default(),
            r.ratio.map(|x| format!("{x:.2}")).unwrap_or_default(),
            t.get(if r.equivalent { "value.yes" } else { "value.no" }).to_owned(),
        ];
        row.extend(r.criteria.iter().map(|c| format!("{}/10 = {}", num(c.score), num(c.points))));
        rows.push(row);
    }
    for x in &result.excluded {
        rows.push(vec![
            t.get("csv.excluded").to_owned(),
            x.name.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            x.failed.iter().map(|f| f.explanation.get(locale).to_owned()).collect::<Vec<_>>().join(" | "),
        ]);
    }
    let mut body = String::from('\u{feff}');
    body.push_str(&format!(
        "# {} {} · {} {}\r\n",
        t.get("csv.date"),
        iso_date::format(state.hub().now().date()),
        t.get("csv.revision"),
        result.catalogue_revision
    ));
    for row in rows {
        body.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(";"));
        body.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"bewertungsmatrix.csv\"")),
        ],
        body,
    )
        .into_response())
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
