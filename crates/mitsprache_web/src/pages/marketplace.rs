//! The marketplace pages: the list with search and facets, a page per tool and per interface,
//! and the side-by-side comparison.

use super::view::{self, Source, Value};
use crate::error::WebError;
use crate::params;
use crate::render::{Ctx, Lang, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use mitsprache_catalogue::{
    Catalogue, CostBand, CostModel, Direction, Interface, InterfaceKind, LicenceFacet, SortOrder, Tool, WcagLevel,
    publiccode,
};
use mitsprache_domain::Locale;
use mitsprache_i18n::Messages;

// ---------------------------------------------------------------- list

pub struct FacetOption {
    pub value: String,
    pub label: String,
    pub count: usize,
    pub checked: bool,
    /// No tool would remain: shown, but not offered as a dead end.
    pub disabled: bool,
}

/// An active filter above the results, with the link that removes it.
pub struct Chip {
    pub label: String,
    pub remove_url: String,
}

pub struct FacetGroup {
    pub param: &'static str,
    pub legend: String,
    /// `radio` for single-choice filters, `checkbox` otherwise.
    pub input: &'static str,
    pub options: Vec<FacetOption>,
    /// Options few tools have, behind "more" (the languages).
    pub more: Vec<FacetOption>,
}

pub struct ToolCard {
    pub pick_label: String,
    pub slug: String,
    pub name: String,
    pub vendor: String,
    pub short: String,
    pub functions: Vec<String>,
    pub licence: Value,
    pub cost: String,
}

pub struct SortChoice {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "marketplace.html")]
pub struct MarketplacePage {
    pub ctx: Ctx,
    pub q: String,
    pub sorts: Vec<SortChoice>,
    pub facets: Vec<FacetGroup>,
    pub cards: Vec<ToolCard>,
    pub chips: Vec<Chip>,
    pub suggestions: Vec<(String, String)>,
    pub count_text: String,
    pub page_text: String,
    pub pages: usize,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
    pub any_filter: bool,
}

fn licence_label(t: &Messages, f: LicenceFacet) -> String {
    t.get(&format!("licence.{}", f.key())).to_owned()
}

/// SPDX identifiers as they are, except the marker for closed software, which people read as a word.
fn licence_text(t: &Messages, l: &mitsprache_catalogue::Licence) -> String {
    if l.spdx.starts_with("LicenseRef-") { licence_label(t, LicenceFacet::Proprietary) } else { l.spdx.clone() }
}

fn cost_label(t: &Messages, b: CostBand) -> String {
    t.get(&format!("cost.{}", b.key())).to_owned()
}

/// What a card says about costs: exactly what the record states, no more. A band is for
/// filtering; the card names the model and the vendor's published amounts, or says that none
/// are published and how many amounts public documents state.
pub(crate) fn card_cost(t: &Messages, locale: Locale, tool: &Tool) -> String {
    let Some(c) = tool.costs.as_option() else { return t.get("value.unknown").to_owned() };
    let model = t.get(&format!("cost-model.{}", cost_model_key(c.model))).to_owned();
    let mut parts = vec![model];
    if c.model != CostModel::Free {
        let mut amounts = Vec::new();
        if let Some(r) = c.yearly_eur.as_option() {
            amounts.push(t.fmt("card.yearly", &[("amount", &view::range(locale, r))]));
        }
        if let Some(r) = c.one_time_eur.as_option() {
            amounts.push(t.fmt("card.one-time", &[("amount", &view::range(locale, r))]));
        }
        if amounts.is_empty() && !matches!(c.model, CostModel::OpenSourceSelfOperated | CostModel::OnRequest) {
            amounts.push(t.get("card.no-prices").to_owned());
        }
        parts.extend(amounts);
        if !c.figures.is_empty() {
            parts.push(t.plural("card.figures", c.figures.len()));
        }
    }
    parts.join(" · ")
}

/// The language facet's options: the five languages the most tools offer first, then the rest
/// by their names in the page language.
fn languages_in_order(
    catalogue: &Catalogue,
    locale: Locale,
    counts: &[mitsprache_catalogue::FacetCount<'_>],
) -> Vec<(String, String, usize)> {
    let mut offered: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for tool in catalogue.tools() {
        for tag in tool.languages.as_option().map_or(&[][..], |l| &l.values[..]) {
            *offered.entry(tag.as_str()).or_default() += 1;
        }
    }
    let mut by_count: Vec<(&str, usize)> = offered.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let common: Vec<&str> = by_count.iter().take(5).map(|(t, _)| *t).collect();
    let mut tags: Vec<String> = counts.iter().map(|c| c.key.to_string()).collect();
    mitsprache_i18n::sort_languages(locale, &mut tags, &common);
    tags.into_iter()
        .map(|tag| {
            let count = counts.iter().find(|c| c.key == tag.as_str()).map_or(0, |c| c.count);
            (tag.clone(), view::language_name(locale, &tag), count)
        })
        .collect()
}

pub async fn list_page(
    State(state): State<AppState>,
    lang: Lang,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let path = "/marktplatz";
    let catalogue = state.hub().catalogue();
    let pairs = params::pairs(raw.as_deref());
    let query = match params::tool_query(&pairs, &catalogue, &["lang"]) {
        Ok(q) => q,
        Err(e) => return Err(e.into()),
    };
    let ctx = Ctx::new(&lang, path, raw.as_deref());
    let t = ctx.t;
    let locale = ctx.locale;
    let result = catalogue.search(&query);

    let checked = |param: &str, value: &str| {
        let mut given = pairs.iter().filter(|(k, _)| k == param).flat_map(|(_, v)| v.split(',')).map(str::trim);
        if value.is_empty() { given.all(str::is_empty) } else { given.any(|v| v == value) }
    };
    let group =
        |param: &'static str, legend: &str, input: &'static str, options: Vec<(String, String, usize)>| FacetGroup {
            param,
            legend: t.get(legend).to_owned(),
            input,
            options: options
                .into_iter()
                .map(|(value, label, count)| {
                    let checked = checked(param, &value);
                    FacetOption { disabled: count == 0 && !checked && !value.is_empty(), checked, value, label, count }
                })
                .collect(),
            more: Vec::new(),
        };
    let f = &result.facets;
    let facets = vec![
        group(
            "functions",
            "facet.functions",
            "checkbox",
            f.functions
                .iter()
                .map(|c| {
                    let label = catalogue
                        .taxonomy
                        .function(&c.key)
                        .map_or(c.key.to_string(), |t| t.label.get(locale).to_owned());
                    (c.key.to_string(), label, c.count)
                })
                .collect(),
        ),
        group(
            "licence",
            "facet.licence",
            "checkbox",
            f.licence
                .iter()
                .filter_map(|c| {
                    LicenceFacet::from_key(&c.key).map(|l| (c.key.to_string(), licence_label(t, l), c.count))
                })
                .collect(),
        ),
        group(
            "hosting",
            "facet.hosting",
            "checkbox",
            f.hosting
                .iter()
                .map(|c| (c.key.to_string(), t.get(&format!("hosting.{}", c.key)).to_owned(), c.count))
                .collect(),
        ),
        group(
            "cost",
            "facet.cost",
            "checkbox",
            f.cost
                .iter()
                .filter_map(|c| CostBand::from_key(&c.key).map(|b| (c.key.to_string(), cost_label(t, b), c.count)))
                .collect(),
        ),
        group(
            "accessibility",
            "facet.accessibility",
            "radio",
            // "at least" levels: the count is of tools claiming that level or more. The empty
            // choice lets a person clear the radio group without JavaScript.
            std::iter::once((String::new(), t.get("accessibility.any").to_owned(), result.total))
                .chain(["AA", "A"].iter().map(|level| {
                    let at_least = match *level {
                        "AA" => ["AA", "AAA"].as_slice(),
                        _ => ["A", "AA", "AAA"].as_slice(),
                    };
                    let count =
                        f.accessibility.iter().filter(|c| at_least.contains(&c.key.as_ref())).map(|c| c.count).sum();
                    ((*level).to_owned(), t.fmt("accessibility.at-least", &[("level", level)]), count)
                }))
                .collect(),
        ),
        group(
            "interfaces",
            "facet.interfaces",
            "checkbox",
            f.interfaces
                .iter()
                .map(|c| {
                    (
                        c.key.to_string(),
                        catalogue.interface(&c.key).map_or(c.key.to_string(), |i| i.name.clone()),
                        c.count,
                    )
                })
                .collect(),
        ),
        group("languages", "facet.languages", "checkbox", languages_in_order(&catalogue, locale, &f.languages)),
    ];
    let mut facets = facets;
    if let Some(languages) = facets.iter_mut().find(|g| g.param == "languages") {
        let offered = |tag: &str| {
            catalogue
                .tools()
                .iter()
                .filter(|t| t.languages.as_option().is_some_and(|l| l.values.iter().any(|v| v == tag)))
                .count()
        };
        let (common, more): (Vec<FacetOption>, Vec<FacetOption>) = std::mem::take(&mut languages.options)
            .into_iter()
            .partition(|o| o.checked || offered(&o.value) >= super::assistant::COMMON_FROM);
        languages.options = common;
        languages.more = more;
    }
    let label_of = |param: &str, value: &str| -> Option<String> {
        let g = facets.iter().find(|g| g.param == param)?;
        g.options.iter().chain(&g.more).find(|o| o.value == value).map(|o| o.label.clone())
    };
    let chips: Vec<Chip> = pairs
        .iter()
        .filter(|(k, v)| !matches!(k.as_str(), "lang" | "sort" | "page") && !v.trim().is_empty())
        .flat_map(|(k, v)| v.split(',').map(move |one| (k.as_str(), one.trim())))
        .filter(|(_, v)| !v.is_empty())
        .map(|(param, value)| {
            let label = if param == "q" {
                t.fmt("marketplace.chip-search", &[("q", &value)])
            } else {
                label_of(param, value).unwrap_or_else(|| value.to_owned())
            };
            let rest: Vec<(String, String)> = pairs
                .iter()
                .filter(|(k, _)| k != "page" && k != "lang")
                .filter_map(|(k, v)| {
                    if k != param {
                        return Some((k.clone(), v.clone()));
                    }
                    let kept: Vec<&str> =
                        v.split(',').map(str::trim).filter(|x| *x != value && !x.is_empty()).collect();
                    (!kept.is_empty()).then(|| (k.clone(), kept.join(",")))
                })
                .collect();
            Chip { label: t.fmt("marketplace.chip-remove", &[("filter", &label)]), remove_url: view::url(path, &rest) }
        })
        .collect();
    let suggestions = result
        .suggestions
        .iter()
        .map(|q| {
            let mut p: Vec<(String, String)> =
                pairs.iter().filter(|(k, _)| k != "q" && k != "page" && k != "lang").cloned().collect();
            p.push(("q".into(), q.clone()));
            (q.clone(), view::url(path, &p))
        })
        .collect();

    let cards = result
        .hits
        .iter()
        .map(|h| {
            let tool = h.tool;
            ToolCard {
                pick_label: t.fmt("marketplace.compare-pick", &[("name", &tool.name)]),
                slug: tool.slug.to_string(),
                name: tool.name.clone(),
                vendor: tool.vendor.name.clone(),
                short: tool.short_description.get(locale).to_owned(),
                functions: tool
                    .functions
                    .values
                    .iter()
                    .filter_map(|k| catalogue.taxonomy.function(k).map(|t| t.label.get(locale).to_owned()))
                    .collect(),
                licence: Value::of(t, &tool.licence, |l| licence_text(t, l)),
                cost: card_cost(t, locale, tool),
            }
        })
        .collect();

    let page_url = |page: usize| {
        let mut p: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "page" && k != "lang").cloned().collect();
        if page > 1 {
            p.push(("page".into(), page.to_string()));
        }
        view::url(path, &p)
    };
    let pages = result.pages();
    let page = result.page;
    let sorts = SortOrder::ALL
        .iter()
        .map(|s| SortChoice {
            value: s.key(),
            label: t.get(&format!("sort.{}", s.key())).to_owned(),
            selected: *s == query.sort,
        })
        .collect();
    let template = MarketplacePage {
        q: query.q.clone().unwrap_or_default(),
        sorts,
        facets,
        cards,
        chips,
        suggestions,
        count_text: t.plural("marketplace.results", result.total),
        page_text: t.fmt("marketplace.page-of", &[("page", &page), ("pages", &pages)]),
        pages,
        prev_url: (page > 1).then(|| page_url(page - 1)),
        next_url: (page < pages).then(|| page_url(page + 1)),
        any_filter: pairs.iter().any(|(k, v)| k != "lang" && k != "sort" && !v.is_empty()),
        ctx,
    };
    Ok(render(&template, &lang, StatusCode::OK))
}

// ---------------------------------------------------------------- tool

pub struct Row {
    pub label: String,
    pub value: Value,
}

pub struct Section {
    pub id: &'static str,
    pub title: String,
    pub rows: Vec<Row>,
    pub source: Option<Source>,
    /// "beim Anbieter anfragen", when a fact of the section is unknown.
    pub ask: Option<String>,
    /// "Angabe des Anbieters vom …, geprüft am …", when the vendor stated the facts.
    pub vendor_note: Option<String>,
}

/// The record's group key of a section.
fn section_group(id: &str) -> Option<&'static str> {
    Some(match id {
        "functions" => "functions",
        "process-types" => "process_types",
        "licence" => "licence",
        "hosting" => "hosting",
        "costs" => "costs",
        "training" => "training",
        "accessibility" => "accessibility",
        "data-protection" => "data_protection",
        "languages" => "languages",
        "multi-tenancy" => "multi_tenancy",
        _ => return None,
    })
}

pub struct InterfaceLink {
    pub slug: String,
    pub name: String,
    pub direction: String,
    pub note: Option<String>,
    pub source: Source,
}

pub struct ReferenceView {
    pub name: String,
    pub url: Option<String>,
    pub source: Source,
}

#[derive(Template)]
#[template(path = "tool.html")]
pub struct ToolPage {
    pub ctx: Ctx,
    pub slug: String,
    pub name: String,
    pub vendor: String,
    pub vendor_url: Option<String>,
    pub short: String,
    pub description: String,
    pub description_fallback: bool,
    pub website: String,
    pub repository: Value,
    pub repository_url: Option<String>,
    pub publiccode: bool,
    pub sections: Vec<Section>,
    pub interfaces: Vec<InterfaceLink>,
    pub references: Vec<ReferenceView>,
}

fn direction_label(t: &Messages, d: Direction) -> String {
    t.get(match d {
        Direction::In => "direction.in",
        Direction::Out => "direction.out",
        Direction::Both => "direction.both",
    })
    .to_owned()
}

fn row(t: &Messages, key: &str, value: Value) -> Row {
    Row { label: t.get(key).to_owned(), value }
}

/// The fact groups of a tool, in the order of the record; shared by the tool page and the
/// comparison so both say the same thing about the same fact.
fn sections(catalogue: &Catalogue, tool: &Tool, t: &Messages, locale: Locale) -> Vec<Section> {
    let unknown_section = |id, title: &str, rows: Vec<Row>| Section {
        id,
        title: t.get(title).to_owned(),
        rows,
        source: None,
        ask: None,
        vendor_note: None,
    };
    let mut out = Vec::new();
    let labels = |keys: &[String], lookup: &dyn Fn(&str) -> Option<String>| -> String {
        keys.iter().map(|k| lookup(k).unwrap_or_else(|| k.clone())).collect::<Vec<_>>().join(", ")
    };
    let function_names =
        labels(&tool.functions.values, &|k| catalogue.taxonomy.function(k).map(|t| t.label.get(locale).to_owned()));
    out.push(Section {
        id: "functions",
        title: t.get("section.functions").to_owned(),
        rows: vec![row(
            t,
            "field.functions",
            if function_names.is_empty() { Value::unknown(t) } else { Value::text(function_names) },
        )],
        source: Some(Source::of(t, &tool.functions.sourced)),
        ask: None,
        vendor_note: None,
    });
    out.push(match tool.process_types.as_option() {
        Some(p) => Section {
            id: "process-types",
            title: t.get("section.process-types").to_owned(),
            rows: vec![row(
                t,
                "field.process-types",
                Value::text(labels(&p.values, &|k| {
                    catalogue.taxonomy.process_type(k).map(|t| t.label.get(locale).to_owned())
                })),
            )],
            source: Some(Source::of(t, &p.sourced)),
            ask: None,
            vendor_note: None,
        },
        None => unknown_section(
            "process-types",
            "section.process-types",
            vec![row(t, "field.process-types", Value::unknown(t))],
        ),
    });
    out.push(match tool.licence.as_option() {
        Some(l) => Section {
            id: "licence",
            title: t.get("section.licence").to_owned(),
            rows: vec![
                row(t, "field.licence", Value::text(licence_text(t, l))),
                row(t, "field.open-source", Value::text(view::yes_no(t, l.open_source))),
            ],
            source: Some(Source::of(t, &l.sourced)),
            ask: None,
            vendor_note: None,
        },
        None => unknown_section("licence", "section.licence", vec![row(t, "field.licence", Value::unknown(t))]),
    });
    let flag = |k: &mitsprache_catalogue::Known<bool>| Value::of(t, k, |b| view::yes_no(t, *b));
    out.push(match tool.hosting.as_option() {
        Some(h) => Section {
            id: "hosting",
            title: t.get("section.hosting").to_owned(),
            rows: vec![
                row(t, "hosting.saas", flag(&h.saas)),
                row(t, "hosting.self-hosted", flag(&h.self_hosted)),
                row(t, "hosting.hosted-in-germany", flag(&h.hosted_in_germany)),
            ],
            source: Some(Source::of(t, &h.sourced)),
            ask: None,
            vendor_note: None,
        },
        None => unknown_section("hosting", "section.hosting", vec![row(t, "field.hosting", Value::unknown(t))]),
    });
    out.push(match tool.costs.as_option() {
        Some(c) => Section {
            id: "costs",
            title: t.get("section.costs").to_owned(),
            rows: vec![
                row(t, "field.cost-model", Value::text(t.get(&format!("cost-model.{}", cost_model_key(c.model))))),
                row(t, "field.one-time", Value::of(t, &c.one_time_eur, |r| view::range(locale, r))),
                row(t, "field.yearly", Value::of(t, &c.yearly_eur, |r| view::range(locale, r))),
                row(t, "field.included", Value::of(t, &c.included, |x| x.get(locale).to_owned())),
            ],
            source: Some(Source::of(t, &c.sourced)),
            ask: None,
            vendor_note: None,
        },
        None => unknown_section("costs", "section.costs", vec![row(t, "field.costs", Value::unknown(t))]),
    });
    let hours = |k: &mitsprache_catalogue::Known<f64>| Value::of(t, k, |h| t.fmt("value.hours", &[("hours", h)]));
    out.push(match tool.training.as_option() {
        Some(tr) => Section {
            id: "training",
            title: t.get("section.training").to_owned(),
            rows: vec![
                row(t, "field.hours-admin", hours(&tr.hours_admin)),
                row(t, "field.hours-moderator", hours(&tr.hours_moderator)),
                row(t, "field.hours-citizen", hours(&tr.hours_citizen)),
                row(t, "field.materials", Value::of(t, &tr.materials, |x| x.get(locale).to_owned())),
            ],
            source: Some(Source::of(t, &tr.sourced)),
            ask: None,
            vendor_note: None,
        },
        None => unknown_section("training", "section.training", vec![row(t, "field.training", Value::unknown(t))]),
    });
    out.push(match tool.accessibility.as_option() {
        Some(a) => Section {
            id: "accessibility",
            title: t.get("section.accessibility").to_owned(),
            rows: vec![
                row(t, "field.standard", Value::text(&a.standard)),
                row(
                    t,
                    "field.claimed-level",
                    Value::text(match a.claimed_level {
                        WcagLevel::None => t.get("value.none").to_owned(),
                        l => l.key().to_owned(),
                    }),
                ),
                row(
                    t,
                    "field.statement",
                    Value::of(t, &a.statement_url, |u| u.clone().unwrap_or_else(|| t.get("value.none").to_owned())),
                ),
            ],
            source: Some(Source::of(t, &a.sourced)),
            ask: None,
            vendor_note: None,
        },
        None => unknown_section(
            "accessibility",
            "section.accessibility",
            vec![row(t, "field.claimed-level", Value::unknown(t))],
        ),
    });
    out.push(match tool.data_protection.as_option() {
        Some(d) => Section {
            id: "data-protection",
            title: t.get("section.data-protection").to_owned(),
            rows: vec![
                row(t, "field.data-location", Value::of(t, &d.data_location, Clone::clone)),
                row(t, "field.processor-agreement", flag(&d.processor_agreement)),
            ],
            source: Some(Source::of(t, &d.sourced)),
            ask: None,
            vendor_note: None,
        },
        None => unknown_section(
            "data-protection",
            "section.data-protection",
            vec![row(t, "field.data-protection", Value::unknown(t))],
        ),
    });
    out.push(match tool.languages.as_option() {
        Some(l) => Section {
            id: "languages",
            title: t.get("section.languages").to_owned(),
            rows: vec![row(
                t,
                "field.languages",
                Value::text(l.values.iter().map(|x| view::language_name(locale, x)).collect::<Vec<_>>().join(", ")),
            )],
            source: Some(Source::of(t, &l.sourced)),
            ask: None,
            vendor_note: None,
        },
        None => unknown_section("languages", "section.languages", vec![row(t, "field.languages", Value::unknown(t))]),
    });
    out.push(match tool.multi_tenancy.as_option() {
        Some(m) => {
            let mut rows = vec![row(t, "field.multi-tenancy", Value::text(view::yes_no(t, m.supported)))];
            if let Some(n) = &m.note {
                rows.push(row(t, "field.note", Value::text(n.get(locale))));
            }
            Section {
                id: "multi-tenancy",
                title: t.get("section.multi-tenancy").to_owned(),
                rows,
                source: Some(Source::of(t, &m.sourced)),
                ask: None,
                vendor_note: None,
            }
        }
        None => unknown_section(
            "multi-tenancy",
            "section.multi-tenancy",
            vec![row(t, "field.multi-tenancy", Value::unknown(t))],
        ),
    });
    // Every section with an unknown fact offers to ask the vendor for it.
    for section in &mut out {
        if section.rows.iter().any(|r| r.value.unknown)
            && let Some(group) = section_group(section.id)
        {
            section.ask = Some(format!("/marktplatz/werkzeuge/{}/anfragen?feld={group}", tool.slug));
        }
    }
    out
}

/// The source of a fact group, by its key in the record.
fn group_sourced<'a>(tool: &'a Tool, key: &str) -> Option<&'a mitsprache_catalogue::Sourced> {
    match key {
        "functions" => Some(&tool.functions.sourced),
        "process_types" => tool.process_types.as_option().map(|x| &x.sourced),
        "licence" => tool.licence.as_option().map(|x| &x.sourced),
        "hosting" => tool.hosting.as_option().map(|x| &x.sourced),
        "costs" => tool.costs.as_option().map(|x| &x.sourced),
        "training" => tool.training.as_option().map(|x| &x.sourced),
        "accessibility" => tool.accessibility.as_option().map(|x| &x.sourced),
        "data_protection" => tool.data_protection.as_option().map(|x| &x.sourced),
        "languages" => tool.languages.as_option().map(|x| &x.sourced),
        "multi_tenancy" => tool.multi_tenancy.as_option().map(|x| &x.sourced),
        _ => None,
    }
}

fn cost_model_key(m: CostModel) -> &'static str {
    match m {
        CostModel::Free => "free",
        CostModel::OpenSourceSelfOperated => "open-source-self-operated",
        CostModel::Subscription => "subscription",
        CostModel::Licence => "licence",
        CostModel::OnRequest => "on-request",
    }
}

pub async fn tool_page(
    State(state): State<AppState>,
    lang: Lang,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let path = format!("/marktplatz/werkzeuge/{slug}");
    let catalogue = state.hub().catalogue();
    let Some(tool) = catalogue.tool(&slug) else {
        return Err(WebError(mitsprache_hub::Error::NotFound));
    };
    let ctx = Ctx::new(&lang, &path, raw.as_deref());
    let (t, locale) = (ctx.t, ctx.locale);
    let repository_url = tool.source_repository.as_option().and_then(|r| r.clone());
    let mut sections = sections(&catalogue, tool, t, locale);
    // The vendor's own statements say so, with the day an editor published them.
    let history = state.hub().tool_history(&slug).await?;
    for section in &mut sections {
        let Some(key) = section_group(section.id) else { continue };
        let Some(sourced) = group_sourced(tool, key).filter(|s| !s.origin.is_research()) else { continue };
        let reviewed = history.iter().find(|e| e.origin == "vendor" && e.fields.iter().any(|f| f == key));
        let stated = view::date(locale, sourced.as_of);
        section.vendor_note = Some(match reviewed {
            Some(e) => {
                t.fmt("tool.vendor-note", &[("date", &stated), ("reviewed", &view::date(locale, e.created_at.date()))])
            }
            None => t.fmt("tool.vendor-note-unreviewed", &[("date", &stated)]),
        });
    }
    let template = ToolPage {
        slug: tool.slug.to_string(),
        name: tool.name.clone(),
        vendor: tool.vendor.name.clone(),
        vendor_url: tool.vendor.url.clone(),
        short: tool.short_description.get(locale).to_owned(),
        description: tool.description.get(locale).to_owned(),
        description_fallback: !tool.description.has(locale),
        website: tool.website.clone(),
        repository: match tool.source_repository.as_option() {
            None => Value::unknown(t),
            Some(None) => Value::text(t.get("value.closed-source")),
            Some(Some(url)) => Value::text(url),
        },
        repository_url,
        publiccode: publiccode::export(tool, &catalogue.taxonomy).is_ok(),
        sections,
        interfaces: tool
            .interfaces
            .iter()
            .map(|l| InterfaceLink {
                slug: l.interface.clone(),
                name: catalogue.interface(&l.interface).map_or(l.interface.clone(), |i| i.name.clone()),
                direction: direction_label(t, l.direction),
                note: l.note.as_ref().map(|n| n.get(locale).to_owned()),
                source: Source::of(t, &l.sourced),
            })
            .collect(),
        references: tool
            .references
            .iter()
            .map(|r| ReferenceView { name: r.name.clone(), url: r.url.clone(), source: Source::of(t, &r.sourced) })
            .collect(),
        ctx,
    };
    Ok(render(&template, &lang, StatusCode::OK))
}

// ---------------------------------------------------------------- interfaces

pub struct InterfaceRow {
    pub slug: String,
    pub name: String,
    pub kind: String,
    pub description: String,
    pub tools: usize,
}

#[derive(Template)]
#[template(path = "interfaces.html")]
pub struct InterfacesPage {
    pub ctx: Ctx,
    pub rows: Vec<InterfaceRow>,
}

fn kind_label(t: &Messages, k: InterfaceKind) -> String {
    t.get(&format!("kind.{}", k.key())).to_owned()
}

pub async fn interfaces_page(
    State(state): State<AppState>,
    lang: Lang,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let catalogue = state.hub().catalogue();
    let ctx = Ctx::new(&lang, "/marktplatz/schnittstellen", raw.as_deref());
    let rows = catalogue
        .interfaces()
        .iter()
        .map(|i| InterfaceRow {
            slug: i.slug.to_string(),
            name: i.name.clone(),
            kind: kind_label(ctx.t, i.kind),
            description: i.description.get(ctx.locale).to_owned(),
            tools: catalogue.implementers(i.slug.as_str()).count(),
        })
        .collect();
    Ok(render(&InterfacesPage { ctx, rows }, &lang, StatusCode::OK))
}

pub struct Implementer {
    pub slug: String,
    pub name: String,
    pub direction: String,
    pub note: Option<String>,
}

#[derive(Template)]
#[template(path = "interface.html")]
pub struct InterfacePage {
    pub ctx: Ctx,
    pub name: String,
    pub kind: String,
    pub description: String,
    pub specification_url: String,
    pub direction: String,
    pub source: Source,
    pub implementers: Vec<Implementer>,
}

pub async fn interface_page(
    State(state): State<AppState>,
    lang: Lang,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let path = format!("/marktplatz/schnittstellen/{slug}");
    let catalogue = state.hub().catalogue();
    let Some(interface): Option<&Interface> = catalogue.interface(&slug) else {
        return Err(WebError(mitsprache_hub::Error::NotFound));
    };
    let ctx = Ctx::new(&lang, &path, raw.as_deref());
    let (t, locale) = (ctx.t, ctx.locale);
    let template = InterfacePage {
        name: interface.name.clone(),
        kind: kind_label(t, interface.kind),
        description: interface.description.get(locale).to_owned(),
        specification_url: interface.specification_url.clone(),
        direction: direction_label(t, interface.direction),
        source: Source::of(t, &interface.sourced),
        implementers: catalogue
            .implementers(&slug)
            .map(|(tool, link)| Implementer {
                slug: tool.slug.to_string(),
                name: tool.name.clone(),
                direction: direction_label(t, link.direction),
                note: link.note.as_ref().map(|n| n.get(locale).to_owned()),
            })
            .collect(),
        ctx,
    };
    Ok(render(&template, &lang, StatusCode::OK))
}

// ---------------------------------------------------------------- comparison

pub struct CompareRow {
    pub label: String,
    pub values: Vec<Value>,
    pub differs: bool,
}

pub struct CompareGroup {
    pub title: String,
    pub rows: Vec<CompareRow>,
}

pub struct CompareTool {
    pub slug: String,
    pub name: String,
    /// The comparison without this tool.
    pub remove_url: String,
}

#[derive(Template)]
#[template(path = "compare.html")]
pub struct ComparePage {
    pub ctx: Ctx,
    pub tools: Vec<CompareTool>,
    pub groups: Vec<CompareGroup>,
    pub differences: String,
    pub only_differences: bool,
    /// The link that switches between all rows and only the differing ones.
    pub toggle_url: String,
    /// Tools that can still be added (at most four are compared).
    pub addable: Vec<(String, String)>,
    pub problem: Option<String>,
}

/// At most this many tools side by side (what fits a printed page).
const MAX_COMPARED: usize = 4;

/// Which tools to compare, from `tools` (repeated or comma-separated), with what was wrong in
/// the page language: unknown slugs are left out, more than four cut to four.
fn compare_selection(pairs: &[(String, String)], catalogue: &Catalogue, t: &Messages) -> (Vec<String>, Option<String>) {
    let mut slugs: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for s in pairs.iter().filter(|(k, _)| k == "tools").flat_map(|(_, v)| v.split(',')).map(str::trim) {
        if s.is_empty() || slugs.iter().any(|x| x == s) {
            continue;
        }
        if catalogue.tool(s).is_some() {
            slugs.push(s.to_owned());
        } else if !unknown.iter().any(|u| u == s) {
            unknown.push(s.chars().take(64).collect());
        }
    }
    let mut problems = Vec::new();
    if !unknown.is_empty() {
        problems.push(t.fmt("compare.unknown", &[("tools", &unknown.join(", "))]));
    }
    if slugs.len() > MAX_COMPARED {
        slugs.truncate(MAX_COMPARED);
        problems.push(t.fmt("compare.too-many", &[("max", &MAX_COMPARED)]));
    }
    (slugs, (!problems.is_empty()).then(|| problems.join(" ")))
}

pub async fn compare_page(
    State(state): State<AppState>,
    lang: Lang,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let path = "/marktplatz/vergleich";
    let catalogue = state.hub().catalogue();
    let pairs = params::pairs(raw.as_deref());
    let ctx = Ctx::new(&lang, path, raw.as_deref());
    let (t, locale) = (ctx.t, ctx.locale);
    let (slugs, problem) = compare_selection(&pairs, &catalogue, t);
    let only_differences = pairs.iter().any(|(k, v)| k == "nur" && v == "unterschiede");
    let tools: Vec<&Tool> = slugs.iter().filter_map(|s| catalogue.tool(s)).collect();
    let per_tool: Vec<Vec<Section>> = tools.iter().map(|tool| sections(&catalogue, tool, t, locale)).collect();
    let url_for = |selection: &[String], only: bool| {
        let mut p: Vec<(String, String)> = selection.iter().map(|s| ("tools".to_owned(), s.clone())).collect();
        if only {
            p.push(("nur".into(), "unterschiede".into()));
        }
        view::url(path, &p)
    };

    let mut groups = vec![CompareGroup {
        title: t.get("section.overview").to_owned(),
        rows: vec![
            compare_row(t.get("field.vendor"), tools.iter().map(|x| Value::text(&x.vendor.name)).collect()),
            compare_row(t.get("facet.cost"), tools.iter().map(|x| Value::text(card_cost(t, locale, x))).collect()),
            compare_row(
                t.get("section.interfaces"),
                tools
                    .iter()
                    .map(|x| {
                        let names: Vec<String> = x
                            .interfaces
                            .iter()
                            .map(|l| catalogue.interface(&l.interface).map_or(l.interface.clone(), |i| i.name.clone()))
                            .collect();
                        if names.is_empty() { Value::text(t.get("value.none")) } else { Value::text(names.join(", ")) }
                    })
                    .collect(),
            ),
        ],
    }];
    // One yes/no row per function any of the tools offers, in the taxonomy's order.
    let function_rows: Vec<CompareRow> = catalogue
        .taxonomy
        .functions
        .iter()
        .filter(|f| tools.iter().any(|x| x.functions.values.contains(&f.key)))
        .map(|f| {
            compare_row(
                f.label.get(locale),
                tools
                    .iter()
                    .map(|x| {
                        let has = x.functions.values.contains(&f.key);
                        Value::text(format!("{} {}", if has { "✓" } else { "✗" }, view::yes_no(t, has)))
                    })
                    .collect(),
            )
        })
        .collect();
    if !function_rows.is_empty() {
        groups.push(CompareGroup { title: t.get("section.functions").to_owned(), rows: function_rows });
    }
    // Row by row: the same section and row index holds the same fact for every tool, except
    // where a group is known for one tool and unknown for another; rows are matched by label.
    if let Some(first) = per_tool.first() {
        for (si, section) in first.iter().enumerate().filter(|(_, s)| s.id != "functions") {
            let mut labels: Vec<String> = Vec::new();
            for secs in &per_tool {
                for r in &secs[si].rows {
                    if !labels.contains(&r.label) {
                        labels.push(r.label.clone());
                    }
                }
            }
            let rows = labels
                .into_iter()
                .map(|label| {
                    let values = per_tool
                        .iter()
                        .map(|secs| {
                            secs[si].rows.iter().find(|r| r.label == label).map_or_else(
                                || Value::unknown(t),
                                |r| Value { text: r.value.text.clone(), unknown: r.value.unknown },
                            )
                        })
                        .collect();
                    compare_row(&label, values)
                })
                .collect();
            groups.push(CompareGroup { title: section.title.clone(), rows });
        }
    }
    let count = groups.iter().flat_map(|g| &g.rows).filter(|r| r.differs).count();
    if only_differences {
        for g in &mut groups {
            g.rows.retain(|r| r.differs);
        }
        groups.retain(|g| !g.rows.is_empty());
    }
    let addable = if slugs.len() < MAX_COMPARED {
        catalogue
            .tools()
            .iter()
            .filter(|x| !slugs.iter().any(|s| s == x.slug.as_str()))
            .map(|x| (x.slug.to_string(), x.name.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let status = if problem.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let template = ComparePage {
        tools: tools
            .iter()
            .map(|x| CompareTool {
                slug: x.slug.to_string(),
                name: x.name.clone(),
                remove_url: url_for(
                    &slugs.iter().filter(|s| *s != x.slug.as_str()).cloned().collect::<Vec<_>>(),
                    only_differences,
                ),
            })
            .collect(),
        groups,
        differences: t.plural("compare.differences", count),
        only_differences,
        toggle_url: url_for(&slugs, !only_differences),
        addable,
        problem,
        ctx,
    };
    Ok(render(&template, &lang, status))
}

/// Lists are compared as sets: the same process types in another order are the same fact.
fn normalized(text: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = text.split(", ").map(str::trim).collect();
    parts.sort_unstable();
    parts
}

fn compare_row(label: &str, values: Vec<Value>) -> CompareRow {
    let differs = values.windows(2).any(|w| normalized(&w[0].text) != normalized(&w[1].text));
    CompareRow { label: label.to_owned(), values, differs }
}
