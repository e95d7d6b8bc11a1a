//! Texts for the administration's files, made from a profile and its result: a draft list of
//! requirements for a Leistungsbeschreibung (German, the language of German procurement) and the
//! enquiry to one vendor of a market survey (Markterkundungsanfrage).
//!
//! Drafts, marked as such: they put the profile into sentences and add nothing the profile does
//! not say.

use crate::evaluate::kind_name;
use crate::profile::{Criterion, Profile, Rule, Suitability};
use crate::{VendorQuestions, describe_rule};
use mitsprache_catalogue::{Catalogue, WcagLevel};
use mitsprache_domain::{Locale, iso_date};
use time::Date;

/// A knock-out criterion as a requirement sentence of a Leistungsbeschreibung.
pub fn requirement(c: &Criterion, catalogue: &Catalogue, language_name: &dyn Fn(&str) -> String) -> String {
    let function = |key: &str| catalogue.taxonomy.function(key).map_or(key, |t| t.label.de.as_str()).to_owned();
    let process = |key: &str| catalogue.taxonomy.process_type(key).map_or(key, |t| t.label.de.as_str()).to_owned();
    let eur = |x: f64| Locale::De.format_eur(x);
    match c {
        Criterion::Function { key } => format!("Die Software bietet die Funktion „{}“.", function(key)),
        Criterion::ProcessType { key } => format!("Die Software eignet sich für Verfahren der Art „{}“.", process(key)),
        Criterion::OpenSource => "Die Software steht unter einer von der OSI anerkannten Open-Source-Lizenz.".into(),
        Criterion::SelfHosted => {
            "Die Software kann von der Kommune oder ihrem IT-Dienstleister selbst betrieben werden.".into()
        }
        Criterion::Saas => "Der Anbieter betreibt die Software als Dienst (Software as a Service).".into(),
        Criterion::HostedInGermany => {
            "Die Daten werden ausschließlich in Rechenzentren in Deutschland verarbeitet.".into()
        }
        Criterion::ProcessorAgreement => {
            "Der Anbieter schließt einen Vertrag zur Auftragsverarbeitung nach Art. 28 DSGVO.".into()
        }
        Criterion::AccessibilityAtLeast { level } => format!(
            "Die Oberflächen für Bürger:innen und Verwaltung erfüllen die BITV 2.0 (WCAG 2.1) mindestens auf Stufe {}; \
             der Anbieter legt eine Erklärung zur Barrierefreiheit vor.",
            match level {
                WcagLevel::None | WcagLevel::A => "A",
                WcagLevel::AA => "AA",
                WcagLevel::AAA => "AAA",
            }
        ),
        Criterion::Interface { slug } => match catalogue.interface(slug) {
            Some(i) => format!("Die Software unterstützt die Schnittstelle {} ({}).", i.name, i.specification_url),
            None => format!("Die Software unterstützt die Schnittstelle {slug}."),
        },
        Criterion::InterfaceKind { kind } => {
            format!("Die Software unterstützt eine Schnittstelle der Art {}.", kind_name(*kind, Locale::De))
        }
        Criterion::Language { tag } => format!("Die Benutzeroberfläche ist auf {} verfügbar.", language_name(tag)),
        Criterion::MultiTenancy => "Die Software ist mandantenfähig.".into(),
        Criterion::MaxOneTimeCost { eur: x } => format!("Die einmaligen Kosten betragen höchstens {}.", eur(*x)),
        Criterion::MaxYearlyCost { eur: x } => format!("Die jährlichen Kosten betragen höchstens {}.", eur(*x)),
        Criterion::MaxTotalCost { eur: x } => {
            format!("Die Gesamtkosten über die Nutzungsdauer betragen höchstens {}.", eur(*x))
        }
    }
}

/// How a weighted criterion is scored, in the words of an evaluation scheme.
fn scoring(rule: &Rule) -> String {
    match rule {
        Rule::Meets { .. } => "10 Punkte, wenn erfüllt, sonst 0".into(),
        Rule::LowTrainingEffort { zero_at_hours } => format!(
            "10 Punkte bei 0 Stunden Schulung für die genannten Personen, linear fallend auf 0 Punkte bei {} Stunden",
            zero_at_hours
        ),
        Rule::LowCost { zero_at_eur } => format!(
            "10 Punkte bei 0 € Gesamtkosten, linear fallend auf 0 Punkte bei {}",
            Locale::De.format_eur(*zero_at_eur)
        ),
        Rule::Languages { .. } => "10 Punkte × Anteil der benötigten Sprachen, die angeboten werden".into(),
        Rule::Interfaces { .. } => "10 Punkte × Anteil der benötigten Schnittstellen, die unterstützt werden".into(),
    }
}

fn suitability_requirement(s: &Suitability) -> String {
    match s {
        Suitability::References { at_least } => format!(
            "Der Bieter benennt mindestens {at_least} Referenzen öffentlicher Auftraggeber, die die Software einsetzen."
        ),
        Suitability::Certification { name } => format!("Der Bieter weist das Zertifikat „{name}“ nach."),
    }
}

/// Replaces characters that would change the Markdown structure in a cell of a table.
fn cell(text: &str) -> String {
    text.replace('|', "/").replace('\n', " ")
}

/// The profile as a draft list of requirements (Markdown, German).
pub fn requirements_draft(
    profile: &Profile,
    catalogue: &Catalogue,
    today: Date,
    language_name: &dyn Fn(&str) -> String,
) -> String {
    let ctx = &profile.context;
    let mut out = String::new();
    out.push_str("# Entwurf: Anforderungen an eine Software für digitale Beteiligung\n\n");
    out.push_str(&format!(
        "Stand {} · aus dem Anforderungsprofil des Matching-Assistenten von mitsprache. Ein Entwurf für die \
         Leistungsbeschreibung: vor der Verwendung fachlich und vergaberechtlich prüfen und ergänzen.\n\n",
        iso_date::format(today)
    ));
    out.push_str("## 1. Rahmen\n\n");
    if let Some(n) = ctx.inhabitants {
        out.push_str(&format!("- Einwohnerzahl: {n}\n"));
    }
    out.push_str(&format!("- Nutzungsdauer: {} Jahre\n", ctx.years));
    out.push_str(&format!(
        "- Zu schulen: {} Administrator:innen, {} Moderator:innen\n\n",
        ctx.administrators, ctx.moderators
    ));
    out.push_str("## 2. Mindestanforderungen (Ausschlusskriterien)\n\n");
    if profile.must.is_empty() {
        out.push_str("Keine.\n\n");
    } else {
        out.push_str("Ein Angebot, das eine dieser Anforderungen nicht erfüllt, wird nicht gewertet.\n\n");
        for (i, c) in profile.must.iter().enumerate() {
            out.push_str(&format!("{}. {}\n", i + 1, requirement(c, catalogue, language_name)));
        }
        out.push('\n');
    }
    out.push_str("## 3. Bewertete Anforderungen (Zuschlagskriterien)\n\n");
    if profile.should.is_empty() {
        out.push_str("Keine.\n\n");
    } else {
        out.push_str(
            "Jede Anforderung wird mit 0 bis 10 Punkten bewertet und mit ihren Gewichtungspunkten multipliziert \
             (Unterlage für Ausschreibungen und Bewertung von IT-Leistungen, UfAB). Der Zuschlag richtet sich nach dem \
             Verhältnis von Leistungspunkten zum Preis; Angebote innerhalb von 10 % des besten Verhältnisses gelten als \
             gleichwertig.\n\n",
        );
        out.push_str("| Nr. | Anforderung | Gewichtung | Bewertung |\n|---|---|---|---|\n");
        for (i, w) in profile.should.iter().enumerate() {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                i + 1,
                cell(describe_rule(&w.rule, catalogue).get(Locale::De)),
                w.weight,
                cell(&scoring(&w.rule))
            ));
        }
        out.push('\n');
    }
    out.push_str("## 4. Eignung der Bieter\n\n");
    if profile.suitability.is_empty() {
        out.push_str("Keine Anforderungen aus dem Profil.\n");
    } else {
        out.push_str("Die Eignung wird getrennt von der Wertung geprüft und nicht gewichtet.\n\n");
        for (i, s) in profile.suitability.iter().enumerate() {
            out.push_str(&format!("{}. {}\n", i + 1, suitability_requirement(s)));
        }
    }
    out
}

/// The enquiry to one vendor of a market survey: the facts the result assumed or lacked, as
/// questions, in the page's language. A market survey commits to nothing, and says so.
pub fn enquiry(questions: &VendorQuestions, today: Date, locale: Locale) -> String {
    let date = iso_date::format(today);
    let list: String =
        questions.questions.iter().enumerate().map(|(i, q)| format!("{}. {}\n", i + 1, q.get(locale))).collect();
    match locale {
        Locale::De => format!(
            "Betreff: Markterkundung digitale Beteiligung – Fragen zu {tool}\n\n\
             An: {vendor}\n\n\
             Sehr geehrte Damen und Herren,\n\n\
             wir erkunden den Markt für Software zur digitalen Beteiligung. Dies ist keine Ausschreibung und \
             verpflichtet zu nichts. Für {tool} fehlen uns in den öffentlichen Angaben (Stand {date}) folgende \
             Informationen:\n\n{list}\n\
             Wir danken Ihnen für eine Antwort bis zum ______ und für Quellen, die wir zitieren dürfen.\n\n\
             Mit freundlichen Grüßen\n",
            tool = questions.name,
            vendor = questions.vendor,
        ),
        Locale::En => format!(
            "Subject: Market survey on digital participation – questions about {tool}\n\n\
             To: {vendor}\n\n\
             Dear Sir or Madam,\n\n\
             we are surveying the market for digital participation software. This is not a call for tenders and \
             commits to nothing. For {tool}, the public information (as of {date}) lacks the following:\n\n{list}\n\
             We would be grateful for an answer by ______ and for sources we may cite.\n\n\
             Kind regards\n",
            tool = questions.name,
            vendor = questions.vendor,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Weighted, synthetic};

    #[test]
    fn the_draft_lists_every_criterion_in_its_section() {
        let catalogue = synthetic::catalogue(10, 1);
        let key = catalogue.taxonomy.functions[0].key.clone();
        let profile = Profile {
            must: vec![Criterion::Function { key }, Criterion::ProcessorAgreement],
            should: vec![Weighted { weight: 20, rule: Rule::LowCost { zero_at_eur: 50_000.0 } }],
            suitability: vec![Suitability::References { at_least: 3 }],
            ..Profile::default()
        };
        let text = requirements_draft(&profile, &catalogue, time::macros::date!(2026 - 12 - 01), &|t| t.to_owned());
        let section = |title: &str| {
            text.split(title).nth(1).unwrap_or_default().split("\n## ").next().unwrap_or_default().to_owned()
        };
        assert!(section("## 2.").contains("Auftragsverarbeitung"), "{text}");
        assert!(section("## 2.").matches("\n1. ").count() == 1 && section("## 2.").contains("\n2. "));
        assert!(section("## 3.").contains("| 1 | Geringe Gesamtkosten | 20 |"), "{text}");
        assert!(section("## 4.").contains("mindestens 3 Referenzen"));
        assert!(!section("## 3.").contains("Referenzen"), "references are suitability, not award criteria");
    }
}
