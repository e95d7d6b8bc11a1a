//! The web forms of the fact groups: each group as inputs people fill (pre-filled from the
//! record), read back into the group's JSON value, which the hub stamps with its source and
//! checks against the catalogue's rules. And the field-by-field difference of two values, for
//! the editors' queue and the history.

use mitsprache_catalogue::Catalogue;
use mitsprache_catalogue::groups::FactGroup;
use mitsprache_hub::Error;
use mitsprache_i18n::Messages;
use serde_json::{Map, Value, json};

/// One input of a group's form.
pub enum Input {
    /// `kind`: `text`, `url`, `email` or `number`.
    Text {
        name: String,
        label: String,
        value: String,
        kind: &'static str,
    },
    Area {
        name: String,
        label: String,
        value: String,
    },
    /// One of a few values, e.g. yes / no / not stated.
    Select {
        name: String,
        label: String,
        options: Vec<(String, String)>,
        value: String,
    },
    /// Several of many.
    Checks {
        name: String,
        label: String,
        options: Vec<(String, String, bool)>,
    },
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) if s != "unknown" => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn localized(v: &Value, key: &str, lang: &str) -> String {
    v.get(key).and_then(|t| t.get(lang)).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn range(v: &Value, key: &str, end: &str) -> String {
    v.get(key).and_then(|r| r.get(end)).and_then(Value::as_f64).map(|x| x.to_string()).unwrap_or_default()
}

fn tri(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::Bool(true)) => "yes".into(),
        Some(Value::Bool(false)) => "no".into(),
        _ => "unknown".into(),
    }
}

fn tri_options(t: &Messages) -> Vec<(String, String)> {
    vec![
        ("unknown".into(), t.get("value.unknown").into()),
        ("yes".into(), t.get("value.yes").into()),
        ("no".into(), t.get("value.no").into()),
    ]
}

fn input_text(t: &Messages, name: &str, value: String, kind: &'static str) -> Input {
    Input::Text { name: name.into(), label: t.get(&format!("form.{name}")).into(), value, kind }
}

fn input_area(t: &Messages, name: &str, value: String) -> Input {
    Input::Area { name: name.into(), label: t.get(&format!("form.{name}")).into(), value }
}

fn input_tri(t: &Messages, name: &str, value: String) -> Input {
    Input::Select { name: name.into(), label: t.get(&format!("form.{name}")).into(), options: tri_options(t), value }
}

/// The inputs of a group's form, filled with `current` (the group's value in the record).
pub fn inputs(group: FactGroup, current: &Value, catalogue: &Catalogue, t: &Messages) -> Vec<Input> {
    let locale = t.locale();
    let v = current;
    match group {
        FactGroup::Costs => vec![
            Input::Select {
                name: "model".into(),
                label: t.get("form.model").into(),
                options: std::iter::once(("".to_owned(), t.get("value.unknown").to_owned()))
                    .chain(
                        ["free", "open-source-self-operated", "subscription", "licence", "on-request"]
                            .iter()
                            .map(|m| ((*m).to_owned(), t.get(&format!("cost-model.{m}")).to_owned())),
                    )
                    .collect(),
                value: text(v, "model"),
            },
            input_text(t, "one_time_min", range(v, "one_time_eur", "min"), "number"),
            input_text(t, "one_time_max", range(v, "one_time_eur", "max"), "number"),
            input_text(t, "yearly_min", range(v, "yearly_eur", "min"), "number"),
            input_text(t, "yearly_max", range(v, "yearly_eur", "max"), "number"),
            input_area(t, "included_de", localized(v, "included", "de")),
            input_area(t, "included_en", localized(v, "included", "en")),
        ],
        FactGroup::Training => vec![
            input_text(t, "hours_admin", text(v, "hours_admin"), "number"),
            input_text(t, "hours_moderator", text(v, "hours_moderator"), "number"),
            input_text(t, "hours_citizen", text(v, "hours_citizen"), "number"),
            input_area(t, "materials_de", localized(v, "materials", "de")),
            input_area(t, "materials_en", localized(v, "materials", "en")),
            Input::Select {
                name: "offer_kind".into(),
                label: t.get("form.offer_kind").into(),
                options: std::iter::once(("".to_owned(), t.get("form.no-new-offer").to_owned()))
                    .chain(
                        ["course", "webinar", "manual", "video", "academy", "onboarding", "helpdesk"]
                            .iter()
                            .map(|k| ((*k).to_owned(), t.get(&format!("training-kind.{k}")).to_owned())),
                    )
                    .collect(),
                value: String::new(),
            },
            Input::Checks {
                name: "offer_roles".into(),
                label: t.get("form.offer_roles").into(),
                options: ["admin", "moderator", "citizen"]
                    .iter()
                    .map(|r| ((*r).to_owned(), t.get(&format!("training-role.{r}")).to_owned(), false))
                    .collect(),
            },
            input_text(t, "offer_title_de", String::new(), "text"),
            input_text(t, "offer_title_en", String::new(), "text"),
            input_text(t, "offer_hours", String::new(), "number"),
            input_tri(t, "offer_free", "unknown".into()),
            input_text(t, "offer_url", String::new(), "url"),
        ],
        FactGroup::Hosting => vec![
            input_tri(t, "saas", tri(v, "saas")),
            input_tri(t, "self_hosted", tri(v, "self_hosted")),
            input_tri(t, "hosted_in_germany", tri(v, "hosted_in_germany")),
        ],
        FactGroup::DataProtection => vec![
            input_text(t, "data_location", text(v, "data_location"), "text"),
            input_tri(t, "processor_agreement", tri(v, "processor_agreement")),
        ],
        FactGroup::Accessibility => vec![
            input_text(t, "standard", text(v, "standard"), "text"),
            Input::Select {
                name: "claimed_level".into(),
                label: t.get("form.claimed_level").into(),
                options: vec![
                    ("".into(), t.get("value.unknown").into()),
                    ("none".into(), t.get("value.none").into()),
                    ("A".into(), "A".into()),
                    ("AA".into(), "AA".into()),
                    ("AAA".into(), "AAA".into()),
                ],
                value: text(v, "claimed_level"),
            },
            input_text(t, "statement_url", text(v, "statement_url"), "url"),
        ],
        FactGroup::Languages => vec![input_text(
            t,
            "tags",
            v.get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
            "text",
        )],
        FactGroup::Licence => {
            vec![input_text(t, "spdx", text(v, "spdx"), "text"), input_tri(t, "open_source", tri(v, "open_source"))]
        }
        FactGroup::Functions | FactGroup::ProcessTypes => {
            let terms = if group == FactGroup::Functions {
                &catalogue.taxonomy.functions
            } else {
                &catalogue.taxonomy.process_types
            };
            let chosen: Vec<&str> = v
                .get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            vec![Input::Checks {
                name: "values".into(),
                label: t.get(&format!("group.{}", group.key())).into(),
                options: terms
                    .iter()
                    .map(|term| {
                        (term.key.clone(), term.label.get(locale).to_owned(), chosen.contains(&term.key.as_str()))
                    })
                    .collect(),
            }]
        }
        FactGroup::MultiTenancy => vec![
            input_tri(t, "supported", tri(v, "supported")),
            input_area(t, "note_de", localized(v, "note", "de")),
            input_area(t, "note_en", localized(v, "note", "en")),
        ],
        FactGroup::Contact => {
            vec![input_text(t, "email", text(v, "email"), "email"), input_text(t, "url", text(v, "url"), "url")]
        }
    }
}

type Pairs = [(String, String)];

fn one<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs.iter().rev().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim())
}

fn all<'a>(pairs: &'a Pairs, name: &str) -> Vec<&'a str> {
    pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()).collect()
}

fn invalid(field: &str, message: &str) -> Error {
    Error::Invalid { field: field.into(), message: message.into() }
}

fn number(pairs: &Pairs, name: &str) -> Result<Option<f64>, Error> {
    let v = one(pairs, name).replace(',', ".");
    if v.is_empty() {
        return Ok(None);
    }
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
        _ => Err(invalid(name, "must be a number ≥ 0")),
    }
}

fn known(x: Option<Value>) -> Value {
    x.unwrap_or_else(|| Value::String("unknown".into()))
}

fn tri_value(pairs: &Pairs, name: &str) -> Result<Value, Error> {
    match one(pairs, name) {
        "yes" => Ok(Value::Bool(true)),
        "no" => Ok(Value::Bool(false)),
        "unknown" | "" => Ok(Value::String("unknown".into())),
        _ => Err(invalid(name, "must be yes, no or unknown")),
    }
}

fn text_de_en(pairs: &Pairs, de: &str, en: &str) -> Option<Value> {
    let (d, e) = (one(pairs, de), one(pairs, en));
    if d.is_empty() {
        return None;
    }
    Some(if e.is_empty() { json!({ "de": d }) } else { json!({ "de": d, "en": e }) })
}

fn euro_range(pairs: &Pairs, min: &str, max: &str) -> Result<Value, Error> {
    match (number(pairs, min)?, number(pairs, max)?) {
        (None, None) => Ok(known(None)),
        (Some(a), None) => Ok(json!({ "min": a, "max": a })),
        (None, Some(b)) => Ok(json!({ "min": b, "max": b })),
        (Some(a), Some(b)) => Ok(json!({ "min": a, "max": b })),
    }
}

/// Reads a group's form back into its value. Lists the form does not show (cost figures,
/// training offers, references) are kept from `current`; a new training offer is added.
/// Everything left empty is `"unknown"`; a group with no fact at all is `"unknown"` as a whole.
pub fn value(group: FactGroup, pairs: &Pairs, current: &Value) -> Result<Value, Error> {
    let keep = |key: &str| current.get(key).cloned();
    let mut v: Map<String, Value> = Map::new();
    match group {
        FactGroup::Costs => {
            let model = one(pairs, "model");
            if model.is_empty() {
                return Ok(known(None));
            }
            v.insert("model".into(), Value::String(model.into()));
            v.insert("one_time_eur".into(), euro_range(pairs, "one_time_min", "one_time_max")?);
            v.insert("yearly_eur".into(), euro_range(pairs, "yearly_min", "yearly_max")?);
            v.insert("included".into(), known(text_de_en(pairs, "included_de", "included_en")));
            if let Some(figures) = keep("figures") {
                v.insert("figures".into(), figures);
            }
        }
        FactGroup::Training => {
            for key in ["hours_admin", "hours_moderator", "hours_citizen"] {
                v.insert(key.into(), known(number(pairs, key)?.map(|h| json!(h))));
            }
            v.insert("materials".into(), known(text_de_en(pairs, "materials_de", "materials_en")));
            let mut offers: Vec<Value> = keep("offers").and_then(|o| o.as_array().cloned()).unwrap_or_default();
            let kind = one(pairs, "offer_kind");
            if !kind.is_empty() {
                let title = text_de_en(pairs, "offer_title_de", "offer_title_en")
                    .ok_or_else(|| invalid("offer_title_de", "name the offer"))?;
                let mut offer = json!({
                    "kind": kind,
                    "roles": all(pairs, "offer_roles"),
                    "title": title,
                    "hours": known(number(pairs, "offer_hours")?.map(|h| json!(h))),
                    "free_of_charge": tri_value(pairs, "offer_free")?,
                });
                let url = one(pairs, "offer_url");
                if !url.is_empty() {
                    offer["url"] = Value::String(url.into());
                }
                offers.push(offer);
            }
            let nothing = ["hours_admin", "hours_moderator", "hours_citizen", "materials"]
                .iter()
                .all(|k| v.get(*k) == Some(&Value::String("unknown".into())));
            if nothing && offers.is_empty() {
                return Ok(known(None));
            }
            if !offers.is_empty() {
                v.insert("offers".into(), Value::Array(offers));
            }
        }
        FactGroup::Hosting => {
            for key in ["saas", "self_hosted", "hosted_in_germany"] {
                v.insert(key.into(), tri_value(pairs, key)?);
            }
            if v.values().all(|x| x == "unknown") {
                return Ok(known(None));
            }
        }
        FactGroup::DataProtection => {
            let location = one(pairs, "data_location");
            v.insert("data_location".into(), known((!location.is_empty()).then(|| json!(location))));
            v.insert("processor_agreement".into(), tri_value(pairs, "processor_agreement")?);
            if v.values().all(|x| x == "unknown") {
                return Ok(known(None));
            }
        }
        FactGroup::Accessibility => {
            let standard = one(pairs, "standard");
            let level = one(pairs, "claimed_level");
            if standard.is_empty() && level.is_empty() {
                return Ok(known(None));
            }
            if standard.is_empty() || level.is_empty() {
                return Err(invalid(if standard.is_empty() { "standard" } else { "claimed_level" }, "name both"));
            }
            v.insert("standard".into(), json!(standard));
            v.insert("claimed_level".into(), json!(level));
            let url = one(pairs, "statement_url");
            v.insert("statement_url".into(), known((!url.is_empty()).then(|| json!(url))));
        }
        FactGroup::Languages => {
            let tags: Vec<&str> =
                one(pairs, "tags").split([',', ' ']).map(str::trim).filter(|t| !t.is_empty()).collect();
            if tags.is_empty() {
                return Ok(known(None));
            }
            v.insert("values".into(), json!(tags));
        }
        FactGroup::Licence => {
            let spdx = one(pairs, "spdx");
            if spdx.is_empty() {
                return Ok(known(None));
            }
            v.insert("spdx".into(), json!(spdx));
            v.insert(
                "open_source".into(),
                match tri_value(pairs, "open_source")? {
                    Value::Bool(b) => Value::Bool(b),
                    _ => return Err(invalid("open_source", "say whether it is an open-source licence")),
                },
            );
        }
        FactGroup::Functions | FactGroup::ProcessTypes => {
            let values = all(pairs, "values");
            if values.is_empty() && group == FactGroup::ProcessTypes {
                return Ok(known(None));
            }
            v.insert("values".into(), json!(values));
        }
        FactGroup::MultiTenancy => {
            let supported = match tri_value(pairs, "supported")? {
                Value::Bool(b) => b,
                _ => return Ok(known(None)),
            };
            v.insert("supported".into(), Value::Bool(supported));
            if let Some(note) = text_de_en(pairs, "note_de", "note_en") {
                v.insert("note".into(), note);
            }
        }
        FactGroup::Contact => {
            for key in ["email", "url"] {
                let x = one(pairs, key);
                if !x.is_empty() {
                    v.insert(key.into(), json!(x));
                }
            }
            if v.is_empty() {
                return Ok(Value::Null);
            }
        }
    }
    Ok(Value::Object(v))
}

/// One changed fact: its path and both values as text.
pub struct Change {
    pub path: String,
    pub before: String,
    pub after: String,
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                flatten(&if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, x, out);
            }
        }
        Value::Array(a) if a.iter().any(|x| x.is_object()) => {
            for (i, x) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{}]", i + 1), x, out);
            }
        }
        Value::Array(a) => out.push((
            prefix.to_owned(),
            a.iter().map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned)).collect::<Vec<_>>().join(", "),
        )),
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        Value::Null => out.push((prefix.to_owned(), "—".into())),
        // 1200, not 1200.0: amounts as people write them.
        Value::Number(n) => out.push((
            prefix.to_owned(),
            match n.as_f64() {
                Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
                _ => n.to_string(),
            },
        )),
        x => out.push((prefix.to_owned(), x.to_string())),
    }
}

/// The facts that differ between two values of a group, path by path.
pub fn diff(before: &Value, after: &Value) -> Vec<Change> {
    let (mut b, mut a) = (Vec::new(), Vec::new());
    flatten("", before, &mut b);
    flatten("", after, &mut a);
    let mut paths: Vec<&String> = b.iter().map(|(p, _)| p).chain(a.iter().map(|(p, _)| p)).collect();
    paths.sort();
    paths.dedup();
    let get = |list: &[(String, String)], p: &str| list.iter().find(|(q, _)| q == p).map(|(_, v)| v.clone());
    paths
        .into_iter()
        .filter_map(|p| {
            let (x, y) = (get(&b, p), get(&a, p));
            (x != y).then(|| Change {
                path: if p.is_empty() { "·".into() } else { p.clone() },
                before: x.unwrap_or_else(|| "—".into()),
                after: y.unwrap_or_else(|| "—".into()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn an_empty_form_is_unknown_and_a_filled_one_is_the_group() {
        let hosting = value(FactGroup::Hosting, &pairs(&[("saas", "unknown")]), &Value::Null).unwrap();
        assert_eq!(hosting, json!("unknown"));
        let costs = value(
            FactGroup::Costs,
            &pairs(&[("model", "subscription"), ("yearly_min", "1200"), ("yearly_max", "4800,50")]),
            &json!({"figures": [{"kind": "council-paper"}]}),
        )
        .unwrap();
        assert_eq!(costs["yearly_eur"], json!({"min": 1200.0, "max": 4800.5}));
        assert_eq!(costs["one_time_eur"], json!("unknown"));
        assert_eq!(costs["figures"][0]["kind"], "council-paper", "figures are kept");
        assert!(value(FactGroup::Costs, &pairs(&[("model", "licence"), ("yearly_min", "-1")]), &Value::Null).is_err());
    }

    #[test]
    fn the_diff_names_each_changed_fact() {
        let before = json!({"saas": true, "self_hosted": "unknown"});
        let after = json!({"saas": true, "self_hosted": false, "source": "https://x.example"});
        let changes = diff(&before, &after);
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["self_hosted", "source"]);
        assert_eq!(changes[0].before, "unknown");
        assert_eq!(changes[0].after, "false");
    }
}
