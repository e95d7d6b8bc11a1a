//! The JSON Schemas of the standard (draft 2020-12), generated from the types so that the
//! published schema and what the hub accepts cannot drift apart.

use serde_json::{Map, Value, json};
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::{Kind, records::*};

/// The JSON Schema of one record type, self-contained: every referenced type is in `$defs`.
/// `base` is where the schemas are published (`https://hub.example/standard/v1`).
pub fn json_schema(kind: Kind, base: &str) -> Value {
    let (root, defs) = match kind {
        Kind::Process => collect::<Process>(),
        Kind::Contribution => collect::<Contribution>(),
        Kind::Event => collect::<Event>(),
        Kind::Result => collect::<ProcessResult>(),
        Kind::Organisation => collect::<Organisation>(),
        Kind::Paper => collect::<Paper>(),
    };
    let mut schema = match rewrite(root) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    schema.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    schema.insert("$id".into(), json!(format!("{base}/{}.schema.json", kind.as_str())));
    schema.insert("title".into(), json!(format!("mitsprache {} {}", kind.as_str(), crate::VERSION)));
    schema.insert("$defs".into(), Value::Object(defs.into_iter().map(|(k, v)| (k, rewrite(v))).collect()));
    Value::Object(schema)
}

/// Every record type's schema, by file name.
pub fn schemas(base: &str) -> Vec<(String, Value)> {
    Kind::ALL.into_iter().map(|k| (format!("{}.schema.json", k.as_str()), json_schema(k, base))).collect()
}

fn collect<T: ToSchema + PartialSchema>() -> (Value, Vec<(String, Value)>) {
    let mut nested: Vec<(String, RefOr<Schema>)> = Vec::new();
    T::schemas(&mut nested);
    let root = serde_json::to_value(T::schema()).unwrap_or(Value::Null);
    let defs = nested.into_iter().map(|(name, s)| (name, serde_json::to_value(s).unwrap_or(Value::Null))).collect();
    (root, defs)
}

/// OpenAPI's `#/components/schemas/X` become `#/$defs/X`, and OpenAPI 3.1 keeps JSON Schema
/// 2020-12 otherwise.
fn rewrite(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => (k, Value::String(r.replace("#/components/schemas/", "#/$defs/"))),
                    (_, v) => (k, rewrite(v)),
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(rewrite).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves_inside_the_schema() {
        for (name, schema) in schemas("https://hub.example/standard/v1") {
            let mut found = Vec::new();
            refs(&schema, &mut found);
            for r in found {
                let def = r.strip_prefix("#/$defs/").unwrap_or_else(|| panic!("{name}: {r}"));
                assert!(schema["$defs"].get(def).is_some(), "{name}: {r} unresolved");
            }
            assert!(schema["required"].as_array().is_some_and(|r| r.contains(&json!("updated_at"))), "{name}");
        }
    }
}
