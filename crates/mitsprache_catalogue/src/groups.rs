//! The fact groups of a tool record as units of change: what a vendor proposes and an editor
//! reviews is one group (its costs, its training, …), read from and written into the record by
//! its key, with its source stamped on every fact the change adds.

use crate::{Sourced, Tool};
use serde_json::Value;

/// A fact group that vendors and editors change through the forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FactGroup {
    Costs,
    Training,
    Hosting,
    DataProtection,
    Accessibility,
    Languages,
    Licence,
    Functions,
    ProcessTypes,
    MultiTenancy,
    /// `vendor.contact`.
    Contact,
}

impl FactGroup {
    pub const ALL: [FactGroup; 11] = [
        FactGroup::Costs,
        FactGroup::Training,
        FactGroup::Hosting,
        FactGroup::DataProtection,
        FactGroup::Accessibility,
        FactGroup::Languages,
        FactGroup::Licence,
        FactGroup::Functions,
        FactGroup::ProcessTypes,
        FactGroup::MultiTenancy,
        FactGroup::Contact,
    ];

    /// The group's key in the record (`contact` for `vendor.contact`).
    pub fn key(self) -> &'static str {
        match self {
            FactGroup::Costs => "costs",
            FactGroup::Training => "training",
            FactGroup::Hosting => "hosting",
            FactGroup::DataProtection => "data_protection",
            FactGroup::Accessibility => "accessibility",
            FactGroup::Languages => "languages",
            FactGroup::Licence => "licence",
            FactGroup::Functions => "functions",
            FactGroup::ProcessTypes => "process_types",
            FactGroup::MultiTenancy => "multi_tenancy",
            FactGroup::Contact => "contact",
        }
    }

    pub fn from_key(key: &str) -> Option<FactGroup> {
        FactGroup::ALL.into_iter().find(|g| g.key() == key)
    }

    /// The group as its JSON value in the record (`"unknown"` or an object; `null` for no contact).
    pub fn value(self, tool: &Tool) -> Value {
        let record = serde_json::to_value(tool).unwrap_or(Value::Null);
        match self {
            FactGroup::Contact => record.pointer("/vendor/contact").cloned().unwrap_or(Value::Null),
            g => record.get(g.key()).cloned().unwrap_or(Value::Null),
        }
    }

    /// The record with this group replaced by `value`; `Err` names what does not fit the
    /// record format.
    pub fn apply(self, tool: &Tool, value: Value) -> Result<Tool, String> {
        let mut record = serde_json::to_value(tool).map_err(|e| e.to_string())?;
        let Some(object) = record.as_object_mut() else { return Err("the record is not an object".into()) };
        match self {
            FactGroup::Contact => {
                let vendor =
                    object.get_mut("vendor").and_then(Value::as_object_mut).ok_or("the record has no vendor")?;
                if value.is_null() {
                    vendor.remove("contact");
                } else {
                    vendor.insert("contact".into(), value);
                }
            }
            g => {
                object.insert(g.key().into(), value);
            }
        }
        serde_json::from_value(record).map_err(|e| e.to_string())
    }
}

/// Stamps `sourced` on the facts a change adds: on the group itself, and on each item of its
/// lists (cost figures, training offers) that is not in `base` already. Unchanged items keep
/// the source they had.
pub fn stamp(value: &mut Value, base: &Value, sourced: &Sourced) {
    let Some(object) = value.as_object_mut() else { return };
    let stamp_object = |o: &mut serde_json::Map<String, Value>| {
        o.insert("source".into(), Value::String(sourced.source.clone()));
        o.insert("as_of".into(), Value::String(mitsprache_domain::iso_date::format(sourced.as_of)));
        if sourced.origin.is_research() {
            o.remove("origin");
        } else {
            o.insert("origin".into(), serde_json::to_value(sourced.origin).unwrap_or(Value::Null));
        }
    };
    for list in ["figures", "offers"] {
        let before: Vec<Value> =
            base.get(list).and_then(Value::as_array).map(|a| a.iter().map(unsourced).collect()).unwrap_or_default();
        if let Some(items) = object.get_mut(list).and_then(Value::as_array_mut) {
            for item in items.iter_mut() {
                if !before.contains(&unsourced(item))
                    && let Some(o) = item.as_object_mut()
                {
                    stamp_object(o);
                }
            }
        }
    }
    stamp_object(object);
}

/// An item without its source fields, to tell a new fact from a kept one.
fn unsourced(item: &Value) -> Value {
    let mut item = item.clone();
    if let Some(o) = item.as_object_mut() {
        for k in ["source", "as_of", "origin"] {
            o.remove(k);
        }
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundled;
    use mitsprache_domain::Origin;

    fn consul() -> Tool {
        bundled::document().unwrap().tools.into_iter().find(|t| t.slug.as_str() == "consul-democracy").unwrap()
    }

    #[test]
    fn a_group_is_read_and_written_by_its_key() {
        let tool = consul();
        let costs = FactGroup::Costs.value(&tool);
        assert!(costs.is_object());
        let cleared = FactGroup::Costs.apply(&tool, Value::String("unknown".into())).unwrap();
        assert!(!cleared.costs.is_known());
        let contact =
            serde_json::json!({"email": "info@example.org", "source": "https://example.org", "as_of": "2026-12-01"});
        let with = FactGroup::Contact.apply(&tool, contact).unwrap();
        assert_eq!(with.vendor.contact.unwrap().email.as_deref(), Some("info@example.org"));
        assert!(FactGroup::Hosting.apply(&tool, serde_json::json!({"saas": "perhaps"})).is_err());
    }

    #[test]
    fn only_added_facts_get_the_new_source() {
        let tool = consul();
        let base = FactGroup::Costs.value(&tool);
        let mut value = base.clone();
        let kept = value["figures"][0].clone();
        value["figures"].as_array_mut().unwrap().push(serde_json::json!({
            "kind": "vendor-statement", "min": 100.0, "max": 100.0, "currency": "EUR", "per": "month",
            "included": {"de": "Hosting"}
        }));
        let sourced = Sourced {
            source: "https://hub.example/marktplatz/werkzeuge/consul-democracy/verlauf".into(),
            as_of: time::macros::date!(2026 - 12 - 01),
            origin: Origin::Vendor,
        };
        stamp(&mut value, &base, &sourced);
        assert_eq!(value["figures"][0], kept, "an unchanged figure keeps its source");
        let added = value["figures"].as_array().unwrap().last().unwrap();
        assert_eq!(added["origin"], "vendor");
        assert_eq!(added["as_of"], "2026-12-01");
        assert_eq!(value["origin"], "vendor");
        assert!(FactGroup::Costs.apply(&tool, value).is_ok());
    }
}
