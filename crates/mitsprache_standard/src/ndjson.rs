//! One line of a bulk import (`application/x-ndjson`): a record with its type and external id,
//! or a deletion.

use serde_json::Value;

use crate::{FieldError, Invalid, Kind, Record, check_external_id};

/// What one line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// `{"type": "process", "id": "rad-2026", "title": …}`: create or replace.
    Put { id: String, record: Box<Record> },
    /// `{"type": "process", "id": "rad-2026", "deleted": true}`: a tombstone.
    Delete { kind: Kind, id: String },
}

/// A rejected line: its number (from 1) and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LineError {
    pub line: usize,
    pub errors: Vec<FieldError>,
}

pub fn parse_line(text: &str) -> Result<Line, Invalid> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| Invalid(vec![FieldError::new("", format!("is not JSON: {e}"))]))?;
    let Value::Object(mut obj) = value else {
        return Err(Invalid(vec![FieldError::new("", "must be a JSON object")]));
    };
    let kind = obj.remove("type");
    let kind = kind.as_ref().and_then(Value::as_str).and_then(Kind::parse);
    let id = obj.remove("id");
    let id = id.as_ref().and_then(Value::as_str).map(str::to_owned);
    let mut errors = Vec::new();
    if kind.is_none() {
        errors.push(FieldError::new("type", "must be process, contribution, event, result or organisation"));
    }
    match &id {
        None => errors.push(FieldError::new("id", "is required: the record's id at the source")),
        Some(id) => errors.extend(check_external_id(id).err()),
    }
    let (Some(kind), Some(id), true) = (kind, id, errors.is_empty()) else {
        return Err(Invalid(errors));
    };
    match obj.remove("deleted") {
        Some(Value::Bool(true)) => return Ok(Line::Delete { kind, id }),
        None | Some(Value::Bool(false)) => {}
        Some(_) => return Err(Invalid(vec![FieldError::new("deleted", "must be true or false")])),
    }
    Ok(Line::Put { id, record: Box::new(Record::parse(kind, Value::Object(obj))?) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let put = r#"{"type":"organisation","id":"bonn","name":{"de":"Bonn"},"municipality":"05314000","updated_at":"2026-01-01T00:00:00Z"}"#;
        assert!(matches!(parse_line(put), Ok(Line::Put { ref id, .. }) if id == "bonn"));
        assert_eq!(
            parse_line(r#"{"type":"process","id":"x","deleted":true}"#),
            Ok(Line::Delete { kind: Kind::Process, id: "x".into() })
        );
        let fields = |s: &str| parse_line(s).unwrap_err().0.into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(fields(r#"{"type":"poll","id":""}"#), vec!["type", "id"]);
        assert_eq!(fields("{not json"), vec![""]);
        assert_eq!(fields(r#"{"type":"process","id":"x","status":"open"}"#), vec!["title", "updated_at"]);
    }
}
