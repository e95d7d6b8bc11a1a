//! The catalogue file format: one JSON file holds a whole catalogue document, a single tool or a
//! single interface. `catalogue import` reads these and publiccode.yml files.

use crate::{Interface, Taxonomy, Tool};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogueDocument {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy: Option<Taxonomy>,
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    #[serde(default)]
    pub tools: Vec<Tool>,
}

/// What one catalogue file contributes.
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogueItem {
    Document(CatalogueDocument),
    Tool(Box<Tool>),
    Interface(Interface),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not valid JSON: {0}")]
    Syntax(String),
    #[error("not a catalogue document, tool or interface (expected keys `tools`, `vendor` or `kind`)")]
    UnknownShape,
    #[error("{what}: {message}")]
    Invalid { what: &'static str, message: String },
}

/// Recognises the file's shape by its keys, then parses it strictly so that an error names the
/// field that is wrong instead of "did not match any variant".
pub fn parse_document(text: &str) -> Result<CatalogueItem, ParseError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ParseError::Syntax(e.to_string()))?;
    let object = value.as_object().ok_or(ParseError::UnknownShape)?;
    let invalid = |what| move |e: serde_json::Error| ParseError::Invalid { what, message: e.to_string() };
    // A tool also has an `interfaces` key (its links), so tools are recognised first.
    if object.contains_key("vendor") {
        serde_json::from_value(value).map(|t| CatalogueItem::Tool(Box::new(t))).map_err(invalid("tool"))
    } else if object.contains_key("tools") || object.contains_key("interfaces") || object.contains_key("taxonomy") {
        serde_json::from_value(value).map(CatalogueItem::Document).map_err(invalid("catalogue document"))
    } else if object.contains_key("kind") {
        serde_json::from_value(value).map(CatalogueItem::Interface).map_err(invalid("interface"))
    } else {
        Err(ParseError::UnknownShape)
    }
}
