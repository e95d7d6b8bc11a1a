//! Reading a JSON object field by field, so that each error names its field and every error of
//! a record is reported at once.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::FieldError;

pub(crate) struct Fields<'a> {
    prefix: &'a str,
    obj: Map<String, Value>,
    pub errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    pub fn new(prefix: &'a str, value: Value) -> Result<Fields<'a>, FieldError> {
        match value {
            Value::Object(obj) => Ok(Fields { prefix, obj, errors: Vec::new() }),
            _ => Err(FieldError::new(prefix, "must be a JSON object")),
        }
    }

    pub fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() { name.to_owned() } else { format!("{}.{name}", self.prefix) }
    }

    pub fn fail(&mut self, name: &str, message: impl Into<String>) {
        let field = self.path(name);
        self.errors.push(FieldError::new(field, message));
    }

    /// A field that must be there and not null.
    pub fn req<T: DeserializeOwned>(&mut self, name: &str) -> Option<T> {
        match self.obj.remove(name) {
            None | Some(Value::Null) => {
                self.fail(name, "is required");
                None
            }
            Some(v) => self.decode(name, v),
        }
    }

    /// A field that may be missing or null.
    pub fn opt<T: DeserializeOwned>(&mut self, name: &str) -> Option<T> {
        match self.obj.remove(name) {
            None | Some(Value::Null) => None,
            Some(v) => self.decode(name, v),
        }
    }

    /// A field kept as JSON (a geometry), missing or null being `None`.
    pub fn raw(&mut self, name: &str) -> Option<Value> {
        self.obj.remove(name).filter(|v| !v.is_null())
    }

    /// A nested object or list read by `read`, which gets this field's path.
    pub fn nested<T>(
        &mut self,
        name: &str,
        required: bool,
        read: impl FnOnce(&str, Value) -> Result<T, Vec<FieldError>>,
    ) -> Option<T> {
        let path = self.path(name);
        match self.obj.remove(name) {
            None | Some(Value::Null) => {
                if required {
                    self.fail(name, "is required");
                }
                None
            }
            Some(v) => match read(&path, v) {
                Ok(t) => Some(t),
                Err(errors) => {
                    self.errors.extend(errors);
                    None
                }
            },
        }
    }

    fn decode<T: DeserializeOwned>(&mut self, name: &str, v: Value) -> Option<T> {
        match serde_json::from_value(v) {
            Ok(t) => Some(t),
            Err(e) => {
                self.fail(name, clean(&e.to_string()));
                None
            }
        }
    }

    /// What is left: the fields this version does not know, kept as they came.
    pub fn rest(self) -> (BTreeMap<String, Value>, Vec<FieldError>) {
        (self.obj.into_iter().collect(), self.errors)
    }
}

/// serde_json's messages name a line and column of a value that was parsed already; drop them.
fn clean(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}
