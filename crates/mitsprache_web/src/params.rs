//! Parsing of the marketplace filters, shared by the JSON API and the HTML pages so both accept
//! the same URLs. A filter may be repeated (`functions=a&functions=b`, as HTML checkboxes send
//! it) or comma-separated (`functions=a,b`). Unknown values are errors, not silently ignored,
//! so a mistyped filter never looks like "no tools match".

use mitsprache_catalogue::{Catalogue, CostBand, LicenceFacet, SortOrder, ToolQuery, WcagLevel};
use mitsprache_hub::Error;

pub const MAX_QUERY_CHARS: usize = 200;
pub const MAX_PAGE: usize = 10_000;

/// Key/value pairs of a query string, in order.
pub fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

fn invalid(name: &str, message: impl Into<String>) -> Error {
    Error::Invalid { field: name.to_owned(), message: message.into() }
}

fn values<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

fn single<'a>(pairs: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, Error> {
    let mut found = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let first = found.next();
    if found.next().is_some() {
        return Err(invalid(name, "may be given once"));
    }
    Ok(first)
}

fn number(pairs: &[(String, String)], name: &str, min: usize, max: usize) -> Result<Option<usize>, Error> {
    match single(pairs, name)? {
        None => Ok(None),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(invalid(name, format!("must be a whole number from {min} to {max}"))),
        },
    }
}

pub const TOOL_FILTERS: [&str; 11] = [
    "q",
    "functions",
    "licence",
    "hosting",
    "cost",
    "accessibility",
    "interfaces",
    "languages",
    "sort",
    "page",
    "per_page",
];

/// Reads a tool search from query pairs. `allowed_extra` names further parameters the caller
/// handles itself (e.g. `lang` on pages); any other name is rejected.
pub fn tool_query(
    pairs: &[(String, String)],
    catalogue: &Catalogue,
    allowed_extra: &[&str],
) -> Result<ToolQuery, Error> {
    if let Some((k, _)) =
        pairs.iter().find(|(k, _)| !TOOL_FILTERS.contains(&k.as_str()) && !allowed_extra.contains(&k.as_str()))
    {
        return Err(invalid(k, "is not a known parameter"));
    }
    let q = single(pairs, "q")?.map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
        return Err(invalid("q", format!("may have at most {MAX_QUERY_CHARS} characters")));
    }
    let functions = values(pairs, "functions");
    if let Some(f) = functions.iter().find(|f| catalogue.taxonomy.function(f).is_none()) {
        return Err(invalid("functions", format!("`{f}` is not a function of the taxonomy")));
    }
    let licence = values(pairs, "licence")
        .into_iter()
        .map(|v| {
            LicenceFacet::from_key(v)
                .ok_or_else(|| invalid("licence", format!("`{v}` is not one of open-source, proprietary, unknown")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let hosting = values(pairs, "hosting");
    if let Some(h) = hosting.iter().find(|h| !mitsprache_catalogue::search_hosting_keys().contains(h)) {
        return Err(invalid("hosting", format!("`{h}` is not one of saas, self-hosted, hosted-in-germany")));
    }
    let cost = values(pairs, "cost")
        .into_iter()
        .map(|v| {
            CostBand::from_key(v)
                .ok_or_else(|| invalid("cost", format!("`{v}` is not one of no-fee, low, medium, high, unknown")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let accessibility = match single(pairs, "accessibility")? {
        None | Some("") => None,
        Some("A") => Some(WcagLevel::A),
        Some("AA") => Some(WcagLevel::AA),
        Some("AAA") => Some(WcagLevel::AAA),
        Some(v) => return Err(invalid("accessibility", format!("`{v}` is not one of A, AA, AAA"))),
    };
    let interfaces = values(pairs, "interfaces");
    if let Some(i) = interfaces.iter().find(|i| catalogue.interface(i).is_none()) {
        return Err(invalid("interfaces", format!("`{i}` is not an interface of the catalogue")));
    }
    let languages = values(pairs, "languages");
    if let Some(l) = languages.iter().find(|l| !is_language_tag(l)) {
        return Err(invalid("languages", format!("`{l}` is not a language tag")));
    }
    let sort = match single(pairs, "sort")? {
        None | Some("") => SortOrder::Relevance,
        Some(v) => {
            SortOrder::from_key(v).ok_or_else(|| invalid("sort", "must be one of relevance, name, functions"))?
        }
    };
    Ok(ToolQuery {
        q: q.map(str::to_owned),
        functions: functions.into_iter().map(str::to_owned).collect(),
        licence,
        hosting: hosting.into_iter().map(str::to_owned).collect(),
        cost,
        accessibility,
        interfaces: interfaces.into_iter().map(str::to_owned).collect(),
        languages: languages.into_iter().map(str::to_owned).collect(),
        sort,
        page: number(pairs, "page", 1, MAX_PAGE)?.unwrap_or(1),
        per_page: number(pairs, "per_page", 1, ToolQuery::MAX_PER_PAGE)?.unwrap_or(ToolQuery::DEFAULT_PER_PAGE),
    })
}

/// A BCP 47 tag in the shape the catalogue uses: a 2–3 letter language, then subtags of 1–8
/// letters or digits (`de`, `pt-BR`, `ca-ES-valencia`). Mirrors the pattern in the OpenAPI document.
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary_ok =
        parts.next().is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    primary_ok && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The filters of the data lists (`/api/v1/processes`, `/api/v1/contributions`, …).
pub const DATA_FILTERS: [&str; 12] = [
    "source",
    "municipality",
    "status",
    "topic",
    "process_type",
    "near",
    "radius",
    "q",
    "process",
    "modified_since",
    "page",
    "per_page",
];

/// The most a "near me" radius may be, in kilometres.
pub const MAX_RADIUS_KM: f64 = 200.0;

/// The least "near me" radius, in kilometres.
pub const MIN_RADIUS_KM: f64 = 0.1;

/// `near` as `latitude,longitude` in WGS 84 (what a browser's geolocation gives), in exactly the
/// shape the OpenAPI document's pattern allows: digits, an optional sign and decimals, no spaces.
pub fn coordinates(v: &str) -> Option<(f64, f64)> {
    fn number(s: &str, max_int_digits: usize) -> Option<f64> {
        let unsigned = s.strip_prefix('-').unwrap_or(s);
        let (int, frac) = match unsigned.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (unsigned, None),
        };
        let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
        (digits(int) && int.len() <= max_int_digits && frac.is_none_or(digits)).then(|| s.parse().ok()).flatten()
    }
    let (lat, lon) = v.split_once(',')?;
    let (lat, lon) = (number(lat, 2)?, number(lon, 3)?);
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

/// A radius in kilometres, between [`MIN_RADIUS_KM`] and [`MAX_RADIUS_KM`].
pub fn radius(v: &str) -> Option<f64> {
    v.parse::<f64>().ok().filter(|r| r.is_finite() && (MIN_RADIUS_KM..=MAX_RADIUS_KM).contains(r))
}

/// Reads a data list's filters. `process` is the hub's id of a process; the caller resolves it.
/// Which filters apply depends on the record type; one that does not apply is rejected.
pub fn data_query(
    pairs: &[(String, String)],
    kind: mitsprache_standard::Kind,
) -> Result<mitsprache_hub::data::DataFilter, Error> {
    use mitsprache_standard::{Kind, ProcessStatus};
    let applies = |name: &str| match name {
        "status" | "topic" | "process_type" => kind == Kind::Process,
        "near" | "radius" => matches!(kind, Kind::Process | Kind::Contribution),
        "municipality" => matches!(kind, Kind::Process | Kind::Organisation | Kind::Paper),
        "process" => matches!(kind, Kind::Contribution | Kind::Event | Kind::Result | Kind::Paper),
        _ => true,
    };
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !DATA_FILTERS.contains(&k.as_str()) || !applies(k)) {
        return Err(invalid(
            k,
            format!(
                "is not a filter of this list ({})",
                DATA_FILTERS.iter().filter(|f| applies(f)).copied().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let text = |name: &str, max: usize| -> Result<Option<String>, Error> {
        match single(pairs, name)?.map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) if v.chars().count() > max => Err(invalid(name, format!("is longer than {max} characters"))),
            Some(v) if v.chars().any(char::is_control) => Err(invalid(name, "must not contain control characters")),
            v => Ok(v.map(str::to_owned)),
        }
    };
    let municipality = text("municipality", 8)?;
    if municipality.as_deref().is_some_and(|m| !mitsprache_standard::check_ags(m)) {
        return Err(invalid("municipality", "must be an Amtlicher Gemeindeschlüssel (8 digits)"));
    }
    // One status or several, comma-separated (`open,upcoming`).
    let status = text("status", 40)?;
    if status.as_deref().is_some_and(|s| s.split(',').any(|s| ProcessStatus::parse(s).is_none())) {
        return Err(invalid("status", "must be upcoming, open or closed, or several of them separated by commas"));
    }
    // Unlike a form's filters, an empty `modified_since` is a client's mistake, not "no filter":
    // a sync that sent it would silently lose its tombstones.
    let modified_since = match single(pairs, "modified_since")? {
        None => None,
        Some(v) => Some(
            time::OffsetDateTime::parse(v.trim(), &time::format_description::well_known::Rfc3339)
                .map_err(|_| invalid("modified_since", "must be an RFC 3339 date-time, e.g. 2026-05-01T00:00:00Z"))?,
        ),
    };
    // Unlike the text filters, an empty `near` is not "no filter": it does not match the
    // documented pattern.
    let near = match single(pairs, "near")? {
        None if single(pairs, "radius")?.is_some() => return Err(invalid("radius", "needs near")),
        None => None,
        Some(v) => {
            let (lat, lon) = coordinates(v)
                .ok_or_else(|| invalid("near", "must be latitude,longitude in WGS 84, e.g. 50.94,6.96"))?;
            let radius_km = match single(pairs, "radius")? {
                None => 10.0,
                Some(r) => {
                    radius(r).ok_or_else(|| invalid("radius", "must be a number of kilometres from 0.1 to 200"))?
                }
            };
            Some(mitsprache_hub::data::Near { lat, lon, radius_km })
        }
    };
    Ok(mitsprache_hub::data::DataFilter {
        process_type: text("process_type", 100)?,
        near,
        source: text("source", 200)?,
        municipality,
        status,
        topic: text("topic", 100)?,
        q: text("q", MAX_QUERY_CHARS)?,
        process: text("process", 64)?,
        modified_since,
        page: number(pairs, "page", 1, MAX_PAGE)?.unwrap_or(1) as u64,
        per_page: number(pairs, "per_page", 1, 100)?.unwrap_or(20) as u64,
        closing_first: false,
    })
}

#[cfg(test)]
mod tests {
    use super::{coordinates, radius};

    #[test]
    fn near_takes_only_what_the_openapi_pattern_allows() {
        assert_eq!(coordinates("50.94,6.96"), Some((50.94, 6.96)));
        assert_eq!(coordinates("-33,151.2"), Some((-33.0, 151.2)));
        for bad in ["50.94, 6.96", "1e1,2", "91,0", "0,181", "50.,6", ",6", "50", "+50,6", "NaN,1", "500,1"] {
            assert_eq!(coordinates(bad), None, "{bad}");
        }
        assert_eq!(radius("0.1"), Some(0.1));
        for bad in ["0.05", "0", "200.5", "inf", "NaN", "-3", "zehn"] {
            assert_eq!(radius(bad), None, "{bad}");
        }
    }
}
