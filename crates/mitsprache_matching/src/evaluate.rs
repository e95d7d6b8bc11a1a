//! One criterion against one tool: a verdict (met, not met, unknown) or a 0–10 score, each with
//! a sentence in German and English that says why.

use crate::CriterionScore;
use crate::profile::{Context, Criterion, Rule, Suitability, Weighted};
use mitsprache_catalogue::{
    Catalogue, CostFigure, CostFigureKind, CostModel, CostPeriod, Costs, Direction, InterfaceKind, LocalizedText, Tool,
    TrainingKind, TrainingRole, WcagLevel,
};
use mitsprache_domain::Locale;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Met,
    NotMet,
    /// The fact is not published.
    Unknown,
}

impl Verdict {
    pub fn fails(self, policy: crate::UnknownPolicy) -> bool {
        match self {
            Verdict::Met => false,
            Verdict::NotMet => true,
            Verdict::Unknown => policy == crate::UnknownPolicy::Fail,
        }
    }

    fn of(b: Option<bool>) -> Verdict {
        match b {
            Some(true) => Verdict::Met,
            Some(false) => Verdict::NotMet,
            None => Verdict::Unknown,
        }
    }
}

/// What a tool costs, from the lower end of the published ranges. `None` where not published.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CostFacts {
    pub one_time: Option<f64>,
    pub yearly: Option<f64>,
    /// One-time plus yearly over the years of use.
    pub total: Option<f64>,
    /// Set when an amount comes from a cost figure (a council paper, an award, a report)
    /// because the vendor publishes no price: an assumption, named in the result.
    pub estimated_from: Option<LocalizedText>,
}

/// The lowest amount in euro the tool's cost figures state per `period`, with the figure.
fn lowest_figure<'a>(costs: &'a Costs, per: &[CostPeriod]) -> Option<(f64, &'a CostFigure)> {
    costs
        .figures
        .iter()
        // Other currencies are not converted: an exchange rate would be a fact of its own.
        .filter(|f| f.currency == "EUR" && per.contains(&f.per))
        .map(|f| (if f.per == CostPeriod::Month { f.min * 12.0 } else { f.min }, f))
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

fn figure_label(f: &CostFigure) -> LocalizedText {
    let (de, en) = match f.kind {
        CostFigureKind::PriceList => ("Preisliste", "price list"),
        CostFigureKind::TenderAward => ("Zuschlag", "tender award"),
        CostFigureKind::CouncilPaper => ("Ratsunterlage", "council paper"),
        CostFigureKind::FundingReport => ("Förderbericht", "funding report"),
        CostFigureKind::PressReport => ("Pressebericht", "press report"),
        CostFigureKind::VendorStatement => ("Angabe des Anbieters", "vendor statement"),
    };
    let who = f.municipality.as_deref().or(f.offer.as_deref()).map(|w| format!(", {w}")).unwrap_or_default();
    let date = mitsprache_domain::iso_date::format(f.sourced.as_of);
    text(format!("{de}{who}, Stand {date}"), format!("{en}{who}, as of {date}"))
}

/// What a tool costs: the vendor's list prices (lower ends), or, where it publishes none, the
/// lowest euro figure a public document states for that period, marked as an estimate.
pub fn costs(tool: &Tool, years: u32) -> CostFacts {
    let Some(c) = tool.costs.as_option() else { return CostFacts::default() };
    if c.model == CostModel::Free {
        // "Free" means free of charge for the municipality; the amounts are then zero.
        return CostFacts { one_time: Some(0.0), yearly: Some(0.0), total: Some(0.0), estimated_from: None };
    }
    let mut estimated: Vec<LocalizedText> = Vec::new();
    let mut pick = |listed: Option<f64>, per: &[CostPeriod]| {
        listed.or_else(|| {
            let (amount, figure) = lowest_figure(c, per)?;
            estimated.push(figure_label(figure));
            Some(amount)
        })
    };
    let one_time = pick(c.one_time_eur.as_option().map(|r| r.min), &[CostPeriod::OneTime]);
    let yearly = pick(c.yearly_eur.as_option().map(|r| r.min), &[CostPeriod::Year, CostPeriod::Month]);
    let total = match (one_time, yearly) {
        (Some(o), Some(y)) => Some(o + y * f64::from(years)),
        _ => None,
    };
    let estimated_from = (!estimated.is_empty()).then(|| {
        text(
            estimated.iter().map(|e| e.get(Locale::De)).collect::<Vec<_>>().join("; "),
            estimated.iter().map(|e| e.get(Locale::En)).collect::<Vec<_>>().join("; "),
        )
    });
    CostFacts { one_time, yearly, total, estimated_from }
}

/// Training hours per administrator and per moderator: the record's figures, or the length of
/// the published courses for that role.
pub fn training_per_role(tool: &Tool) -> (Option<f64>, Option<f64>) {
    let Some(t) = tool.training.as_option() else { return (None, None) };
    let from_offers = |role: TrainingRole| {
        let hours: Vec<f64> = t
            .offers
            .iter()
            .filter(|o| matches!(o.kind, TrainingKind::Course | TrainingKind::Webinar | TrainingKind::Onboarding))
            .filter(|o| o.roles.contains(&role))
            .filter_map(|o| o.hours.as_option().copied())
            .collect();
        (!hours.is_empty()).then(|| hours.iter().sum())
    };
    (
        t.hours_admin.as_option().copied().or_else(|| from_offers(TrainingRole::Admin)),
        t.hours_moderator.as_option().copied().or_else(|| from_offers(TrainingRole::Moderator)),
    )
}

/// Training hours for the staff in the context: administrators and moderators times the hours
/// per role. `None` when either figure is not published.
pub fn training_hours(tool: &Tool, ctx: &Context) -> Option<f64> {
    let (admin, moderator) = training_per_role(tool);
    Some(admin? * f64::from(ctx.administrators) + moderator? * f64::from(ctx.moderators))
}

fn text(de: impl Into<String>, en: impl Into<String>) -> LocalizedText {
    LocalizedText::new(de, en)
}

/// The criterion in words, e.g. „Funktion: Bürgerhaushalt“.
pub fn describe(c: &Criterion, catalogue: &Catalogue) -> LocalizedText {
    let function = |key: &str| catalogue.taxonomy.function(key).map_or_else(|| text(key, key), |t| t.label.clone());
    let process = |key: &str| catalogue.taxonomy.process_type(key).map_or_else(|| text(key, key), |t| t.label.clone());
    let both = |f: &dyn Fn(Locale) -> String| text(f(Locale::De), f(Locale::En));
    match c {
        Criterion::Function { key } => {
            let l = function(key);
            text(format!("Funktion: {}", l.get(Locale::De)), format!("Function: {}", l.get(Locale::En)))
        }
        Criterion::ProcessType { key } => {
            let l = process(key);
            text(format!("Verfahrensart: {}", l.get(Locale::De)), format!("Process type: {}", l.get(Locale::En)))
        }
        Criterion::OpenSource => text("Open-Source-Lizenz", "Open-source licence"),
        Criterion::SelfHosted => text("Selbst betreibbar", "Can be self-hosted"),
        Criterion::Saas => text("Als Dienst (SaaS) angeboten", "Offered as a service (SaaS)"),
        Criterion::HostedInGermany => text("Hosting in Deutschland", "Hosted in Germany"),
        Criterion::ProcessorAgreement => text("Auftragsverarbeitungsvertrag angeboten", "Processor agreement offered"),
        Criterion::AccessibilityAtLeast { level } => text(
            format!("Barrierefreiheit mindestens WCAG-Stufe {}", level.key()),
            format!("Accessibility at least WCAG level {}", level.key()),
        ),
        Criterion::Interface { slug } => {
            let name = catalogue.interface(slug).map_or(slug.as_str(), |i| i.name.as_str());
            text(format!("Schnittstelle: {name}"), format!("Interface: {name}"))
        }
        Criterion::InterfaceKind { kind } => text(
            format!("Schnittstelle der Art {}", kind_name(*kind, Locale::De)),
            format!("Interface of the kind {}", kind_name(*kind, Locale::En)),
        ),
        Criterion::Language { tag } => text(format!("Sprache: {tag}"), format!("Language: {tag}")),
        Criterion::MultiTenancy => text("Mandantenfähig", "Multi-tenant"),
        Criterion::MaxOneTimeCost { eur } => both(&|l| match l {
            Locale::De => format!("Einmalige Kosten höchstens {}", l.format_eur(*eur)),
            Locale::En => format!("One-time costs at most {}", l.format_eur(*eur)),
        }),
        Criterion::MaxYearlyCost { eur } => both(&|l| match l {
            Locale::De => format!("Jährliche Kosten höchstens {}", l.format_eur(*eur)),
            Locale::En => format!("Yearly costs at most {}", l.format_eur(*eur)),
        }),
        Criterion::MaxTotalCost { eur } => both(&|l| match l {
            Locale::De => format!("Gesamtkosten über die Nutzungsdauer höchstens {}", l.format_eur(*eur)),
            Locale::En => format!("Total costs over the years of use at most {}", l.format_eur(*eur)),
        }),
    }
}

pub(crate) fn kind_name(kind: InterfaceKind, locale: Locale) -> &'static str {
    match (kind, locale) {
        (InterfaceKind::LoginOidc, _) => "OpenID Connect",
        (InterfaceKind::LoginOauth2, _) => "OAuth 2.0",
        (InterfaceKind::LoginSaml, _) => "SAML",
        (InterfaceKind::ProvisioningScim, _) => "SCIM",
        (InterfaceKind::DataStandard, Locale::De) => "Datenstandard des Hubs",
        (InterfaceKind::DataStandard, Locale::En) => "hub data standard",
        (InterfaceKind::DataOpen311, _) => "Open311",
        (InterfaceKind::DataOparl, _) => "OParl",
        (InterfaceKind::DataXbeteiligung, _) => "XBeteiligung",
        (InterfaceKind::DataExportFile, Locale::De) => "Datei-Export",
        (InterfaceKind::DataExportFile, Locale::En) => "file export",
        (InterfaceKind::DataApi, _) => "API",
        (InterfaceKind::Webhooks, _) => "Webhooks",
    }
}

const ANY_DIRECTION: [Direction; 3] = [Direction::In, Direction::Out, Direction::Both];

fn has_kind(tool: &Tool, catalogue: &Catalogue, kind: InterfaceKind, directions: &[Direction]) -> bool {
    tool.interfaces
        .iter()
        .any(|l| directions.contains(&l.direction) && catalogue.interface(&l.interface).is_some_and(|i| i.kind == kind))
}

fn met(c: &Criterion, tool: &Tool, catalogue: &Catalogue, costs: &CostFacts) -> Verdict {
    let hosting =
        |f: fn(&mitsprache_catalogue::Hosting) -> Option<bool>| Verdict::of(tool.hosting.as_option().and_then(f));
    match c {
        Criterion::Function { key } => Verdict::of(Some(tool.functions.values.contains(key))),
        Criterion::ProcessType { key } => Verdict::of(tool.process_types.as_option().map(|p| p.values.contains(key))),
        Criterion::OpenSource => Verdict::of(tool.licence.as_option().map(|l| l.open_source)),
        Criterion::SelfHosted => hosting(|h| h.self_hosted.as_option().copied()),
        Criterion::Saas => hosting(|h| h.saas.as_option().copied()),
        Criterion::HostedInGermany => hosting(|h| h.hosted_in_germany.as_option().copied()),
        Criterion::ProcessorAgreement => {
            Verdict::of(tool.data_protection.as_option().and_then(|d| d.processor_agreement.as_option().copied()))
        }
        Criterion::AccessibilityAtLeast { level } => Verdict::of(
            tool.accessibility.as_option().map(|a| a.claimed_level >= *level && a.claimed_level != WcagLevel::None),
        ),
        Criterion::Interface { slug } => Verdict::of(Some(tool.interfaces.iter().any(|l| &l.interface == slug))),
        Criterion::InterfaceKind { kind } => Verdict::of(Some(has_kind(tool, catalogue, *kind, &ANY_DIRECTION))),
        Criterion::Language { tag } => Verdict::of(tool.languages.as_option().map(|l| l.values.contains(tag))),
        Criterion::MultiTenancy => Verdict::of(tool.multi_tenancy.as_option().map(|m| m.supported)),
        Criterion::MaxOneTimeCost { eur } => Verdict::of(costs.one_time.map(|c| c <= *eur)),
        Criterion::MaxYearlyCost { eur } => Verdict::of(costs.yearly.map(|c| c <= *eur)),
        Criterion::MaxTotalCost { eur } => Verdict::of(costs.total.map(|c| c <= *eur)),
    }
}

/// The verdict on a knock-out with its sentence.
pub fn evaluate(c: &Criterion, tool: &Tool, catalogue: &Catalogue, costs: &CostFacts) -> (Verdict, LocalizedText) {
    evaluate_described(c, &describe(c, catalogue), tool, catalogue, costs)
}

/// [`evaluate`] with the criterion's description already at hand: it depends on the criterion
/// only, so a run describes each criterion once instead of once per tool.
pub(crate) fn evaluate_described(
    c: &Criterion,
    what: &LocalizedText,
    tool: &Tool,
    catalogue: &Catalogue,
    costs: &CostFacts,
) -> (Verdict, LocalizedText) {
    let verdict = met(c, tool, catalogue, costs);
    let (de, en) = match verdict {
        Verdict::Met => ("erfüllt", "met"),
        Verdict::NotMet => ("nicht erfüllt", "not met"),
        Verdict::Unknown => ("keine Angabe, beim Anbieter zu prüfen", "not stated, to be checked with the vendor"),
    };
    (verdict, text(format!("{}: {de}", what.get(Locale::De)), format!("{}: {en}", what.get(Locale::En))))
}

pub(crate) fn linear_down(value: f64, zero_at: f64) -> f64 {
    (10.0 * (1.0 - value / zero_at)).clamp(0.0, 10.0)
}

pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Scores one weighted criterion from 0 to 10 and says how.
pub(crate) fn score(
    index: usize,
    w: &Weighted,
    described: Option<&LocalizedText>,
    tool: &Tool,
    catalogue: &Catalogue,
    costs: &CostFacts,
    training: Option<f64>,
) -> CriterionScore {
    let (score, unknown, explanation): (f64, bool, LocalizedText) = match &w.rule {
        Rule::Meets { criterion } => {
            let (verdict, sentence) = match described {
                Some(what) => evaluate_described(criterion, what, tool, catalogue, costs),
                None => evaluate(criterion, tool, catalogue, costs),
            };
            let s = if verdict == Verdict::Met { 10.0 } else { 0.0 };
            (s, verdict == Verdict::Unknown, sentence)
        }
        Rule::LowTrainingEffort { zero_at_hours } => match training {
            Some(h) => {
                let s = linear_down(h, *zero_at_hours);
                (
                    s,
                    false,
                    text(
                        format!(
                            "Schulungsaufwand: {} Stunden (0 Stunden = 10 Punkte, ab {} Stunden 0)",
                            round1(h),
                            round1(*zero_at_hours)
                        ),
                        format!(
                            "Training effort: {} hours (0 hours = 10 points, 0 from {} hours)",
                            round1(h),
                            round1(*zero_at_hours)
                        ),
                    ),
                )
            }
            None => (
                0.0,
                true,
                text(
                    "Schulungsaufwand: keine Angabe, zählt 0 Punkte, beim Anbieter zu prüfen",
                    "Training effort: not stated, counts 0 points, to be checked with the vendor",
                ),
            ),
        },
        Rule::LowCost { zero_at_eur } => match costs.total {
            Some(c) => {
                let s = linear_down(c, *zero_at_eur);
                (
                    s,
                    false,
                    text(
                        format!(
                            "Gesamtkosten: {} (0 € = 10 Punkte, ab {} 0)",
                            Locale::De.format_eur(c),
                            Locale::De.format_eur(*zero_at_eur)
                        ),
                        format!(
                            "Total costs: {} (EUR 0 = 10 points, 0 from {})",
                            Locale::En.format_eur(c),
                            Locale::En.format_eur(*zero_at_eur)
                        ),
                    ),
                )
            }
            None => (
                0.0,
                true,
                text(
                    "Gesamtkosten: keine Angabe, zählt 0 Punkte, beim Anbieter zu prüfen",
                    "Total costs: not stated, counts 0 points, to be checked with the vendor",
                ),
            ),
        },
        Rule::Languages { tags } => match tool.languages.as_option() {
            Some(l) => {
                let offered: Vec<&str> = tags.iter().filter(|t| l.values.contains(t)).map(String::as_str).collect();
                (
                    10.0 * offered.len() as f64 / tags.len().max(1) as f64,
                    false,
                    text(
                        format!("Sprachen: {} von {} benötigten ({})", offered.len(), tags.len(), tags.join(", ")),
                        format!("Languages: {} of {} needed ({})", offered.len(), tags.len(), tags.join(", ")),
                    ),
                )
            }
            None => (
                0.0,
                true,
                text(
                    "Sprachen: keine Angabe, zählt 0 Punkte, beim Anbieter zu prüfen",
                    "Languages: not stated, counts 0 points, to be checked with the vendor",
                ),
            ),
        },
        Rule::Interfaces { slugs, kinds } => {
            let needs = slugs.len() + kinds.len();
            let met = slugs.iter().filter(|s| tool.interfaces.iter().any(|l| &l.interface == *s)).count()
                + kinds.iter().filter(|k| has_kind(tool, catalogue, **k, &ANY_DIRECTION)).count();
            let names: Vec<String> = slugs
                .iter()
                .map(|s| catalogue.interface(s).map_or(s.clone(), |i| i.name.clone()))
                .chain(kinds.iter().map(|k| kind_name(*k, Locale::De).to_owned()))
                .collect();
            let names_en: Vec<String> = slugs
                .iter()
                .map(|s| catalogue.interface(s).map_or(s.clone(), |i| i.name.clone()))
                .chain(kinds.iter().map(|k| kind_name(*k, Locale::En).to_owned()))
                .collect();
            (
                10.0 * met as f64 / needs.max(1) as f64,
                false,
                text(
                    format!("Schnittstellen: {met} von {needs} benötigten ({})", names.join(", ")),
                    format!("Interfaces: {met} of {needs} needed ({})", names_en.join(", ")),
                ),
            )
        }
    };
    let score = round1(score);
    let points = round1(score * f64::from(w.weight));
    let explanation = text(
        format!("{} → {}/10 × {} Gewichtungspunkte = {}", explanation.get(Locale::De), score, w.weight, points),
        format!("{} → {}/10 × {} weight points = {}", explanation.get(Locale::En), score, w.weight, points),
    );
    CriterionScore { criterion: index, weight: w.weight, score, points, explanation, unknown }
}

/// The suitability requirement in words.
pub fn describe_suitability(s: &Suitability) -> LocalizedText {
    match s {
        Suitability::References { at_least } => text(
            format!("Mindestens {at_least} Referenzen (Nutzer:innen, die eine Quelle nennt)"),
            format!("At least {at_least} references (users a source names)"),
        ),
        Suitability::Certification { name } => text(format!("Zertifikat: {name}"), format!("Certificate: {name}")),
    }
}

/// A suitability requirement against a tool: met, or to be proven by the vendor. The catalogue
/// holds what sources name; it cannot show that a vendor lacks a reference or a certificate, so
/// what is not recorded is `Unknown`, never `NotMet`.
pub fn suitability(s: &Suitability, tool: &Tool) -> (Verdict, LocalizedText) {
    let what = describe_suitability(s);
    let met = match s {
        Suitability::References { at_least } => tool.references.len() >= *at_least as usize,
        Suitability::Certification { name } => {
            let wanted = name.trim().to_lowercase();
            tool.certifications.iter().any(|c| c.name.to_lowercase().contains(&wanted))
        }
    };
    let (verdict, de, en) = if met {
        (Verdict::Met, "belegt".to_owned(), "shown".to_owned())
    } else {
        let n = tool.references.len();
        match s {
            Suitability::References { .. } => (
                Verdict::Unknown,
                format!("{n} belegt, Nachweis beim Anbieter zu erfragen"),
                format!("{n} on record, proof to be asked of the vendor"),
            ),
            Suitability::Certification { .. } => (
                Verdict::Unknown,
                "nicht belegt, Nachweis beim Anbieter zu erfragen".to_owned(),
                "not on record, proof to be asked of the vendor".to_owned(),
            ),
        }
    };
    (verdict, text(format!("{}: {de}", what.get(Locale::De)), format!("{}: {en}", what.get(Locale::En))))
}

/// Whether the tool's record has the data a weighted criterion scores (functions and interface
/// lists always do; the other facts may be unpublished).
pub fn has_data(rule: &Rule, tool: &Tool, catalogue: &Catalogue, ctx: &Context) -> bool {
    match rule {
        Rule::Meets { criterion } => met(criterion, tool, catalogue, &costs(tool, ctx.years)) != Verdict::Unknown,
        Rule::LowTrainingEffort { .. } => training_hours(tool, ctx).is_some(),
        Rule::LowCost { .. } => costs(tool, ctx.years).total.is_some(),
        Rule::Languages { .. } => tool.languages.is_known(),
        Rule::Interfaces { .. } => true,
    }
}
