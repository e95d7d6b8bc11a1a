//! publiccode.yml (the metadata standard Open CoDE builds its software directory from):
//! import fills the fields the standard has, export writes a file that passes the standard's
//! rules, and [`check`] applies those rules (after `italia/publiccode-parser-go`, `v0.go`).
//!
//! The standard has no keys for costs, training effort, accessibility or interfaces; those stay
//! in the hub's own record and are neither read from nor written to publiccode.yml.

use crate::{FunctionList, Known, Languages, Licence, LocalizedText, PubliccodeInfo, Sourced, Taxonomy, Tool, Vendor};
use mitsprache_domain::{Locale, Slug};
use serde_yaml_ng::{Mapping, Value};
use time::Date;

pub const VERSION: &str = "0.7";
pub const DEVELOPMENT_STATUS: [&str; 5] = ["concept", "development", "beta", "stable", "obsolete"];
pub const SOFTWARE_TYPES: [&str; 10] = [
    "standalone/mobile",
    "standalone/iot",
    "standalone/desktop",
    "standalone/web",
    "standalone/backend",
    "standalone/other",
    "addon",
    "library",
    "configurationFiles",
    "other",
];
pub const MAINTENANCE_TYPES: [&str; 4] = ["internal", "contract", "community", "none"];
const SUPPORTED_VERSIONS: [&str; 10] = ["0", "0.2", "0.2.1", "0.2.2", "0.3", "0.4", "0.5", "0.6", "0.7", "1"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PubliccodeError {
    #[error("not valid YAML: {0}")]
    Syntax(String),
    #[error("publiccode.yml breaks the standard's rules: {}", .0.join("; "))]
    Rules(Vec<String>),
    #[error("the record lacks what publiccode.yml requires: {}", .0.join(", "))]
    Incomplete(Vec<&'static str>),
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

fn get_str<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(v, path).and_then(Value::as_str)
}

fn is_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://")) && !s.contains(char::is_whitespace) && s.len() > 10
}

/// The standard's mandatory keys, enums and lengths. Returns every rule broken.
pub fn check(text: &str) -> Result<Vec<String>, PubliccodeError> {
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| PubliccodeError::Syntax(e.to_string()))?;
    let mut errors = Vec::new();
    let mut require = |path: &[&str]| {
        if get(&doc, path).is_none() {
            errors.push(format!("`{}` is required", path.join("/")));
        }
    };
    for path in [
        &["publiccodeYmlVersion"][..],
        &["name"],
        &["url"],
        &["platforms"],
        &["developmentStatus"],
        &["softwareType"],
        &["description"],
        &["legal", "license"],
        &["maintenance", "type"],
        &["localisation", "localisationReady"],
        &["localisation", "availableLanguages"],
    ] {
        require(path);
    }
    if let Some(v) = get(&doc, &["publiccodeYmlVersion"]) {
        match v.as_str() {
            Some(v) if SUPPORTED_VERSIONS.contains(&v) => {}
            _ => errors.push("`publiccodeYmlVersion` must be a supported version string such as \"0.7\"".into()),
        }
    }
    if let Some(url) = get(&doc, &["url"])
        && !url.as_str().is_some_and(is_url)
    {
        errors.push("`url` must be the URL of the source repository".into());
    }
    if let Some(p) = get(&doc, &["platforms"])
        && p.as_sequence().is_none_or(|s| s.is_empty())
    {
        errors.push("`platforms` must be a non-empty list".into());
    }
    let enum_check = |errors: &mut Vec<String>, path: &[&str], allowed: &[&str]| {
        if let Some(v) = get(&doc, path)
            && !v.as_str().is_some_and(|s| allowed.contains(&s))
        {
            errors.push(format!("`{}` must be one of {}", path.join("/"), allowed.join(", ")));
        }
    };
    enum_check(&mut errors, &["developmentStatus"], &DEVELOPMENT_STATUS);
    enum_check(&mut errors, &["softwareType"], &SOFTWARE_TYPES);
    enum_check(&mut errors, &["maintenance", "type"], &MAINTENANCE_TYPES);
    match get_str(&doc, &["maintenance", "type"]) {
        Some("contract") => {
            let ok = get(&doc, &["maintenance", "contractors"]).and_then(Value::as_sequence).is_some_and(|s| {
                !s.is_empty() && s.iter().all(|c| c.get("name").is_some() && c.get("until").is_some())
            });
            if !ok {
                errors.push(
                    "`maintenance/contractors` with `name` and `until` is required when the type is contract".into(),
                );
            }
        }
        Some("internal" | "community") => {
            let ok = get(&doc, &["maintenance", "contacts"])
                .and_then(Value::as_sequence)
                .is_some_and(|s| !s.is_empty() && s.iter().all(|c| c.get("name").is_some()));
            if !ok {
                errors.push(
                    "`maintenance/contacts` with `name` is required when the type is internal or community".into(),
                );
            }
        }
        _ => {}
    }
    if let Some(l) = get(&doc, &["localisation", "availableLanguages"])
        && l.as_sequence().is_none_or(|s| s.is_empty() || s.iter().any(|x| x.as_str().is_none()))
    {
        errors.push("`localisation/availableLanguages` must be a non-empty list of language tags".into());
    }
    if let Some(v) = get(&doc, &["localisation", "localisationReady"])
        && !v.is_bool()
    {
        errors.push("`localisation/localisationReady` must be true or false".into());
    }
    if let Some(license) = get(&doc, &["legal", "license"])
        && license.as_str().is_none_or(|s| s.trim().is_empty())
    {
        errors.push("`legal/license` must be an SPDX expression".into());
    }
    if let Some(date) = get(&doc, &["releaseDate"]) {
        let ok = date
            .as_str()
            .is_some_and(|d| Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).is_ok());
        if !ok {
            errors.push("`releaseDate` must be a date YYYY-MM-DD".into());
        }
    }
    match get(&doc, &["description"]).and_then(Value::as_mapping) {
        Some(langs) if !langs.is_empty() => {
            let mut complete = false;
            for (lang, d) in langs {
                let lang = lang.as_str().unwrap_or("?");
                if let Some(short) = get_str(d, &["shortDescription"])
                    && short.chars().count() > 150
                {
                    errors.push(format!("`description/{lang}/shortDescription` must have at most 150 characters"));
                }
                if let Some(long) = get_str(d, &["longDescription"]) {
                    let n = long.chars().count();
                    if !(150..=10_000).contains(&n) {
                        errors.push(format!("`description/{lang}/longDescription` must have 150 to 10000 characters"));
                    }
                }
                let has_features = d.get("features").and_then(Value::as_sequence).is_some_and(|f| !f.is_empty());
                if d.get("shortDescription").is_some() && d.get("longDescription").is_some() && has_features {
                    complete = true;
                }
            }
            if !complete {
                errors.push(
                    "one language of `description` needs `shortDescription`, `longDescription` and `features`".into(),
                );
            }
        }
        Some(_) | None if get(&doc, &["description"]).is_some() => {
            errors.push("`description` must map language tags to descriptions".into());
        }
        _ => {}
    }
    Ok(errors)
}

/// Reads a publiccode.yml into a tool record. When `existing` is given, only the fields the
/// standard has are replaced; the participation facts of the hub record are kept.
pub fn import(text: &str, existing: Option<&Tool>, today: Date) -> Result<Tool, PubliccodeError> {
    let errors = check(text)?;
    if !errors.is_empty() {
        return Err(PubliccodeError::Rules(errors));
    }
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| PubliccodeError::Syntax(e.to_string()))?;
    let s = |path: &[&str]| get_str(&doc, path).map(str::to_owned);
    let name = s(&["name"]).unwrap_or_default();
    let url = s(&["url"]).unwrap_or_default();
    let sourced = Sourced::research(url.clone(), today);

    let descriptions = get(&doc, &["description"]).and_then(Value::as_mapping).cloned().unwrap_or_default();
    let text_for = |key: &str| -> LocalizedText {
        let pick = |lang: &str| {
            descriptions
                .iter()
                .find(|(l, _)| l.as_str().and_then(Locale::from_tag).map(Locale::tag) == Some(lang))
                .and_then(|(_, d)| get_str(d, &[key]))
                .map(|s| s.trim().to_owned())
        };
        let first = descriptions.values().find_map(|d| get_str(d, &[key])).map(|s| s.trim().to_owned());
        LocalizedText { de: pick("de").or(first).unwrap_or_default(), en: pick("en") }
    };
    let features = descriptions
        .iter()
        .filter_map(|(lang, d)| {
            let list: Vec<String> =
                d.get("features")?.as_sequence()?.iter().filter_map(|f| f.as_str().map(str::to_owned)).collect();
            Some((lang.as_str()?.to_owned(), list))
        })
        .collect();
    let strings = |path: &[&str]| -> Vec<String> {
        get(&doc, path)
            .and_then(Value::as_sequence)
            .map(|s| s.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    let maintainers: Vec<String> = ["contacts", "contractors"]
        .iter()
        .flat_map(|k| get(&doc, &["maintenance", k]).and_then(Value::as_sequence).cloned().unwrap_or_default())
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let spdx = s(&["legal", "license"]).unwrap_or_default();
    let vendor_name = s(&["organisation", "name"])
        .or_else(|| s(&["legal", "mainCopyrightOwner"]))
        .or_else(|| maintainers.first().cloned())
        .unwrap_or_else(|| name.clone());

    let info = PubliccodeInfo {
        development_status: s(&["developmentStatus"]).unwrap_or_default(),
        software_type: s(&["softwareType"]).unwrap_or_default(),
        platforms: strings(&["platforms"]),
        categories: strings(&["categories"]),
        features,
        maintenance_type: s(&["maintenance", "type"]).unwrap_or_default(),
        maintainers,
        sourced: sourced.clone(),
    };
    let licence =
        Known::Known(Licence { open_source: !spdx.starts_with("LicenseRef-"), spdx, sourced: sourced.clone() });
    let languages =
        Known::Known(Languages { values: strings(&["localisation", "availableLanguages"]), sourced: sourced.clone() });
    let website = s(&["landingURL"]).unwrap_or_else(|| url.clone());
    let short_description = text_for("shortDescription");
    let description = text_for("longDescription");

    let mut tool = match existing {
        Some(t) => t.clone(),
        None => Tool {
            slug: slugify(&name).ok_or_else(|| PubliccodeError::Rules(vec!["`name` gives no usable slug".into()]))?,
            name: String::new(),
            vendor: Vendor { name: String::new(), url: None, contact: None },
            short_description: LocalizedText::default(),
            description: LocalizedText::default(),
            website: String::new(),
            source_repository: Known::Unknown,
            licence: Known::Unknown,
            functions: FunctionList { values: Vec::new(), sourced: sourced.clone() },
            process_types: Known::Unknown,
            hosting: Known::Unknown,
            costs: Known::Unknown,
            training: Known::Unknown,
            accessibility: Known::Unknown,
            data_protection: Known::Unknown,
            languages: Known::Unknown,
            multi_tenancy: Known::Unknown,
            interfaces: Vec::new(),
            references: Vec::new(),
            certifications: Vec::new(),
            publiccode: None,
        },
    };
    tool.name = name;
    if existing.is_none() {
        tool.vendor =
            Vendor { name: vendor_name, url: s(&["organisation", "uri"]).filter(|u| is_url(u)), contact: None };
    }
    tool.short_description = short_description;
    tool.description = description;
    tool.website = website;
    tool.source_repository = Known::Known(Some(url));
    tool.licence = licence;
    tool.languages = languages;
    tool.publiccode = Some(info);
    Ok(tool)
}

/// The slug of the record a publiccode.yml describes (from its `name`), to find the stored record
/// an import updates.
pub fn record_slug(text: &str) -> Option<Slug> {
    let doc: Value = serde_yaml_ng::from_str(text).ok()?;
    slugify(get_str(&doc, &["name"])?)
}

/// A slug from a name: "CONSUL Democracy" → `consul-democracy`, "Mängelmelder" → `maengelmelder`.
pub fn slugify(name: &str) -> Option<Slug> {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c if c.is_ascii_alphanumeric() => out.push(c),
            _ if !out.ends_with('-') && !out.is_empty() => out.push('-'),
            _ => {}
        }
    }
    let out = out.trim_end_matches('-');
    Slug::parse(out.chars().take(Slug::MAX_LEN).collect::<String>().trim_end_matches('-')).ok()
}

/// Writes the tool as publiccode.yml. Fails, naming the fields, when the record lacks something
/// the standard requires; it never fills a gap with a guess.
pub fn export(tool: &Tool, taxonomy: &Taxonomy) -> Result<String, PubliccodeError> {
    let mut missing = Vec::new();
    let repo = match tool.source_repository.as_option() {
        Some(Some(r)) => Some(r.clone()),
        _ => {
            missing.push("source_repository");
            None
        }
    };
    let licence = tool.licence.as_option().or_else(|| {
        missing.push("licence");
        None
    });
    let languages = tool.languages.as_option().filter(|l| !l.values.is_empty()).or_else(|| {
        missing.push("languages");
        None
    });
    let info = tool.publiccode.as_ref().or_else(|| {
        missing.push("publiccode (development status, software type, maintenance)");
        None
    });
    let (Some(repo), Some(licence), Some(languages), Some(info)) = (repo, licence, languages, info) else {
        return Err(PubliccodeError::Incomplete(missing));
    };

    let mut description = Mapping::new();
    for locale in Locale::ALL {
        if !tool.description.has(locale) || !tool.short_description.has(locale) {
            continue;
        }
        let features: Vec<String> = match info.features.get(locale.tag()) {
            Some(f) if !f.is_empty() => f.clone(),
            _ => tool
                .functions
                .values
                .iter()
                .filter_map(|k| taxonomy.function(k).map(|t| t.label.get(locale).to_owned()))
                .collect(),
        };
        let mut d = Mapping::new();
        d.insert("shortDescription".into(), tool.short_description.get(locale).into());
        d.insert("longDescription".into(), tool.description.get(locale).into());
        d.insert("features".into(), Value::Sequence(features.into_iter().map(Value::from).collect()));
        description.insert(locale.tag().into(), Value::Mapping(d));
    }

    let mut maintenance = Mapping::new();
    maintenance.insert("type".into(), info.maintenance_type.as_str().into());
    let people: Vec<Value> = info
        .maintainers
        .iter()
        .map(|name| {
            let mut m = Mapping::new();
            m.insert("name".into(), name.as_str().into());
            Value::Mapping(m)
        })
        .collect();
    match info.maintenance_type.as_str() {
        "internal" | "community" => {
            maintenance.insert("contacts".into(), Value::Sequence(people));
        }
        // The record does not know until when a contract runs; the standard requires it, so a
        // contract-maintained tool is exported as such only when it has that fact (it never has
        // it today), otherwise the check below reports the gap.
        "contract" => {
            maintenance.insert("contractors".into(), Value::Sequence(people));
        }
        _ => {}
    }

    let mut root = Mapping::new();
    root.insert("publiccodeYmlVersion".into(), VERSION.into());
    root.insert("name".into(), tool.name.as_str().into());
    root.insert("url".into(), repo.into());
    if tool.website.as_str() != tool.source_repository.as_option().and_then(|r| r.as_deref()).unwrap_or_default() {
        root.insert("landingURL".into(), tool.website.as_str().into());
    }
    root.insert(
        "platforms".into(),
        Value::Sequence(if info.platforms.is_empty() {
            vec!["web".into()]
        } else {
            info.platforms.iter().map(|p| p.as_str().into()).collect()
        }),
    );
    if !info.categories.is_empty() {
        root.insert("categories".into(), Value::Sequence(info.categories.iter().map(|c| c.as_str().into()).collect()));
    }
    root.insert("developmentStatus".into(), info.development_status.as_str().into());
    root.insert("softwareType".into(), info.software_type.as_str().into());
    root.insert("description".into(), Value::Mapping(description));
    let mut legal = Mapping::new();
    legal.insert("license".into(), licence.spdx.as_str().into());
    root.insert("legal".into(), Value::Mapping(legal));
    root.insert("maintenance".into(), Value::Mapping(maintenance));
    let mut localisation = Mapping::new();
    localisation.insert("localisationReady".into(), (languages.values.len() > 1).into());
    localisation.insert(
        "availableLanguages".into(),
        Value::Sequence(languages.values.iter().map(|l| l.as_str().into()).collect()),
    );
    root.insert("localisation".into(), Value::Mapping(localisation));

    let text = serde_yaml_ng::to_string(&Value::Mapping(root)).map_err(|e| PubliccodeError::Syntax(e.to_string()))?;
    let errors = check(&text)?;
    if errors.is_empty() { Ok(text) } else { Err(PubliccodeError::Rules(errors)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../tests/fixtures/publiccode.yml");

    fn day() -> Date {
        time::macros::date!(2026 - 11 - 26)
    }

    #[test]
    fn the_research_example_passes_the_rules() {
        assert_eq!(check(EXAMPLE).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn missing_required_keys_and_bad_enums_are_reported() {
        let errors = check("publiccodeYmlVersion: \"0.7\"\nname: X\ndevelopmentStatus: ready\n").unwrap();
        let all = errors.join("\n");
        assert!(all.contains("`url` is required"), "{all}");
        assert!(all.contains("`developmentStatus` must be one of"), "{all}");
        assert!(all.contains("`legal/license` is required"), "{all}");
    }

    #[test]
    fn import_fills_the_standard_fields_only() {
        let tool = import(EXAMPLE, None, day()).unwrap();
        assert_eq!(tool.slug.as_str(), "beteiligungs-hub");
        assert_eq!(tool.licence.as_option().unwrap().spdx, "EUPL-1.2");
        assert_eq!(tool.languages.as_option().unwrap().values, vec!["de", "en"]);
        assert!(!tool.costs.is_known(), "costs are not in publiccode.yml and stay unknown");
        assert!(!tool.training.is_known());
        assert_eq!(tool.publiccode.as_ref().unwrap().features["de"].len(), 6);
    }

    #[test]
    fn import_keeps_the_participation_facts_of_an_existing_record() {
        let mut existing = import(EXAMPLE, None, day()).unwrap();
        existing.costs = Known::Known(crate::Costs {
            model: crate::CostModel::Free,
            one_time_eur: Known::Unknown,
            yearly_eur: Known::Unknown,
            included: Known::Unknown,
            sourced: Sourced::research("https://example.org", day()),
            figures: Vec::new(),
        });
        let again = import(EXAMPLE, Some(&existing), day()).unwrap();
        assert!(again.costs.is_known());
    }

    #[test]
    fn slugs_fold_umlauts() {
        assert_eq!(slugify("Mängelmelder").unwrap().as_str(), "maengelmelder");
        assert_eq!(slugify("CONSUL Democracy").unwrap().as_str(), "consul-democracy");
        assert!(slugify("!!!").is_none());
    }
}
