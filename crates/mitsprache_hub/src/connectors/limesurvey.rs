//! LimeSurvey through RemoteControl 2 (JSON-RPC at `BASE/index.php/admin/remotecontrol`), with
//! the account in the source's credentials file (`{"username", "password"}`).
//!
//! Mapping: a survey → process (`surveyls_title`, status from `startdate`, `expires` and
//! `active`, `BASE/index.php/{sid}` → url) with the extension field `responses`
//! (`{"completed", "incomplete"}` from `get_summary`). Responses themselves are not taken: they
//! are personal data, and nothing in them links to a hub login. A survey never activated is a
//! draft and not public. LimeSurvey's times have no offset (the server's zone); they are read as
//! UTC.
//!
//! RemoteControl has no filter by time: every sync lists the surveys and asks for each one's
//! summary; a survey no longer listed is deleted.

use super::{Client, Walk, datetime, id_of, text};
use crate::ports::HttpRequest;
use mitsprache_standard::Kind;
use mitsprache_store::SourceRecord;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(super) const MAPPING: super::Mapping = super::Mapping {
    tool: "LimeSurvey",
    api: "RemoteControl 2, JSON-RPC at BASE/index.php/admin/remotecontrol (an account's credentials)",
    fields: &[
        ("sid", "process id"),
        ("surveyls_title", "process.title"),
        (
            "startdate, expires, active",
            "process.status: upcoming before startdate, closed after expires or when not active, else open",
        ),
        ("BASE/index.php/{sid}", "process.url"),
        ("get_summary: completed_responses, incomplete_responses", "extension field responses {completed, incomplete}"),
        ("expires when passed, else startdate", "process.updated_at"),
        ("never activated", "not taken (a draft)"),
        ("no longer listed", "tombstone at the next sync"),
    ],
    unmapped: &["the responses themselves (personal data)", "questions", "participant tables", "quotas"],
    authors: (
        "Nicht möglich: Antworten sind anonym oder an Zugangsschlüssel gebunden, nicht an eine Anmeldung am Hub.",
        "Not possible: responses are anonymous or tied to access tokens, not to a hub login.",
    ),
};

#[derive(serde::Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

struct Rpc<'c, 'h> {
    client: &'c mut Client<'h>,
    url: String,
    id: u64,
}

impl Rpc<'_, '_> {
    /// One call; its `result`. LimeSurvey answers errors of a method as `{"status": …}` in the
    /// result, which the caller reads.
    async fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.id += 1;
        let body = json!({"method": method, "params": params, "id": self.id});
        let response = self.client.send(HttpRequest::post_json(&self.url, body).max_body(16 * 1024 * 1024)).await?;
        let answer: Value = response.json().map_err(|e| format!("{method}: {e}"))?;
        if let Some(error) = answer.get("error").filter(|e| !e.is_null()) {
            return Err(format!(
                "{method}: {}",
                error.as_str().map(str::to_owned).unwrap_or_else(|| error.to_string())
            ));
        }
        Ok(answer.get("result").cloned().unwrap_or(Value::Null))
    }
}

/// `{"status": "…"}`, LimeSurvey's way to say a call failed.
fn status(v: &Value) -> Option<&str> {
    v.as_object()?.get("status")?.as_str()
}

/// Counts and ids are strings on older PHP with MySQL, integers elsewhere.
fn number(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) async fn walk(client: &mut Client<'_>, source: &SourceRecord, now: OffsetDateTime) -> Result<Walk, String> {
    let credentials: Credentials = source
        .credentials
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .ok_or("LimeSurvey needs a credentials file with username and password")?;
    let mut rpc = Rpc { client, url: format!("{}/index.php/admin/remotecontrol", source.url), id: 0 };
    let key = rpc.call("get_session_key", json!([credentials.username, credentials.password])).await?;
    let key = match key.as_str() {
        Some(k) => k.to_owned(),
        None => return Err(format!("LimeSurvey refused the login: {}", status(&key).unwrap_or("no session key"))),
    };
    let result = surveys(&mut rpc, &key, source, now).await;
    // The key expires on its own; releasing it is good manners, not needed for the result.
    if let Err(e) = rpc.call("release_session_key", json!([key])).await {
        tracing::debug!(error = %e, "cannot release the LimeSurvey session key");
    }
    result
}

async fn surveys(rpc: &mut Rpc<'_, '_>, key: &str, source: &SourceRecord, now: OffsetDateTime) -> Result<Walk, String> {
    let listed = rpc.call("list_surveys", json!([key])).await?;
    let surveys = match (&listed, status(&listed)) {
        (Value::Array(a), _) => a.clone(),
        (_, Some("No surveys found")) => Vec::new(),
        // Any other status (an expired key, no permission) must not read as "every survey is gone".
        (_, other) => return Err(format!("list_surveys: {}", other.unwrap_or("not a list"))),
    };
    rpc.client.counted(surveys.len());
    let mut walk = Walk::default();
    for survey in &surveys {
        let Some(sid) = id_of(survey.get("sid")) else {
            walk.reject("?", "a survey without sid");
            continue;
        };
        let summary = rpc.call("get_summary", json!([key, sid.parse::<u64>().unwrap_or_default(), "all"])).await?;
        if let Some(s) = status(&summary) {
            return Err(format!("get_summary {sid}: {s}"));
        }
        let responses = (number(summary.get("completed_responses")), number(summary.get("incomplete_responses")));
        let active = survey.get("active").and_then(Value::as_str) == Some("Y");
        // Only an activated survey has a responses table: without one and inactive, it is a draft.
        if !active && responses == (None, None) {
            continue;
        }
        walk.add(Kind::Process, sid.clone(), process(survey, &sid, responses, active, source, now));
    }
    walk.complete = vec![Kind::Process];
    Ok(walk)
}

fn process(
    s: &Value,
    sid: &str,
    (completed, incomplete): (Option<u64>, Option<u64>),
    active: bool,
    source: &SourceRecord,
    now: OffsetDateTime,
) -> Value {
    let at = |k: &str| {
        s.get(k).and_then(Value::as_str).and_then(datetime).and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok())
    };
    let (start, expires) = (at("startdate"), at("expires"));
    let status = if start.is_some_and(|t| t > now) {
        "upcoming"
    } else if expires.is_some_and(|t| t <= now) || !active {
        "closed"
    } else {
        "open"
    };
    let updated = expires.filter(|t| *t <= now).or(start).unwrap_or(source.created_at);
    let mut out = json!({
        "status": status,
        "url": format!("{}/index.php/{sid}", source.url),
        "updated_at": updated.format(&Rfc3339).unwrap_or_default(),
        "responses": {"completed": completed.unwrap_or(0), "incomplete": incomplete.unwrap_or(0)},
    });
    if let Some(t) = text("de", s.get("surveyls_title").and_then(Value::as_str)) {
        out["title"] = t;
    }
    if let Some(m) = &source.municipality {
        out["municipality"] = json!(m);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_ids_are_read_as_strings_or_numbers() {
        assert_eq!(number(Some(&json!("12"))), Some(12));
        assert_eq!(number(Some(&json!(12))), Some(12));
        assert_eq!(id_of(Some(&json!(482913))).as_deref(), Some("482913"));
        assert_eq!(id_of(Some(&json!("482913"))).as_deref(), Some("482913"));
        assert_eq!(status(&json!({"status": "Invalid session key"})), Some("Invalid session key"));
        assert_eq!(status(&json!([])), None);
    }
}
