//! The record types and their rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::fields::Fields;
use crate::{FieldError, Invalid, Kind, Text, check_ags, geo};

/// Fields of a newer minor version, kept as they came.
pub type Extra = BTreeMap<String, Value>;

/// A participation process: a consultation, a participatory budget, a planning procedure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Process {
    pub title: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    pub status: ProcessStatus,
    #[serde(default)]
    pub phases: Vec<Phase>,
    /// Free topics as the tool names them (`Verkehr`, `Klima`).
    #[serde(default)]
    pub topics: Vec<String>,
    /// A process type of the hub's catalogue vocabulary (`budget`, `urban-planning`, `consultation`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_type: Option<String>,
    /// The Amtlicher Gemeindeschlüssel (8 digits) of the municipality running it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9]{8}$")]
    pub municipality: Option<String>,
    /// The process's page in the tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = "uri")]
    pub url: Option<String>,
    /// A GeoJSON geometry (RFC 7946) of the area the process concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub geometry: Option<Value>,
    /// Where the process is a formal planning procedure: its identifiers in XBeteiligung.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xbeteiligung: Option<XBeteiligung>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProcessStatus {
    Upcoming,
    Open,
    Closed,
}

impl ProcessStatus {
    pub const ALL: [ProcessStatus; 3] = [ProcessStatus::Upcoming, ProcessStatus::Open, ProcessStatus::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            ProcessStatus::Upcoming => "upcoming",
            ProcessStatus::Open => "open",
            ProcessStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<ProcessStatus> {
        ProcessStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Phase {
    pub title: Text,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub start: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<OffsetDateTime>,
}

/// A formal planning procedure's identifiers as XBeteiligung (XLeitstelle) names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct XBeteiligung {
    /// `planID`.
    pub plan_id: String,
    /// `beteiligungsID`, when the procedure step has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beteiligung_id: Option<String>,
    /// The Verfahrensschritt code (e.g. `4000` Frühzeitige Öffentlichkeitsbeteiligung).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure_step: Option<String>,
}

/// What a person contributed to a process: an idea, a proposal, a comment, a formal statement,
/// a defect report, a survey response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contribution {
    /// The external id of its process at the same source.
    pub process: String,
    pub kind: ContributionKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// The pairwise `sub` the hub issued to this tool for its author; null when anonymous or
    /// not a hub login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The external id of the contribution this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// A GeoJSON Point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub location: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub votes: Option<Votes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ContributionStatus>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ContributionKind {
    Idea,
    Proposal,
    Comment,
    /// A formal statement (Stellungnahme) in a planning procedure.
    Statement,
    /// A defect report (Mängelmeldung, Open311 service request).
    DefectReport,
    SurveyResponse,
}

/// Where a contribution stands. The formal and defect-report vocabularies map onto it:
/// XBeteiligung `statusderstellungnahme` 1000 → `received`, 2000 → `in-review`, 3000 →
/// `processed`, 4000 → `answered`; Open311 `open`/`closed` as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ContributionStatus {
    Received,
    Open,
    InReview,
    Accepted,
    Rejected,
    Withdrawn,
    Processed,
    Answered,
    Implemented,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Votes {
    #[serde(default)]
    pub up: u64,
    #[serde(default)]
    pub down: u64,
}

/// A meeting, a workshop, an online session of a process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// The external id of its process at the same source, if it belongs to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    pub title: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub start: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
    /// The link to join online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = "uri")]
    pub online_url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Place {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// A GeoJSON Point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub location: Option<Value>,
}

/// What came of a process: the decision, the budget, how far it is implemented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProcessResult {
    /// The external id of its process at the same source.
    pub process: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation_status: Option<ImplementationStatus>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    pub amount: f64,
    /// ISO 4217 (`EUR`).
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ImplementationStatus {
    Planned,
    InProgress,
    Implemented,
    Rejected,
    Cancelled,
}

/// A municipality (or other body) with its key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Organisation {
    pub name: Text,
    /// The Amtlicher Gemeindeschlüssel (8 digits).
    #[schema(pattern = "^[0-9]{8}$")]
    pub municipality: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = "uri")]
    pub url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// A council paper (Drucksache, OParl `Paper`): the context a process is decided in, such as the
/// draft resolution that starts a planning procedure or the decision that ends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Paper {
    pub title: Text,
    /// The paper's number in the council information system (`BV/2025/0815`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// What kind of paper it is, in the council's words (`Beschlussvorlage`, `Antrag`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_type: Option<String>,
    /// The day of the paper (ISO 8601 date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    pub date: Option<String>,
    /// The external id of a process at the same source it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9]{8}$")]
    pub municipality: Option<String>,
    /// The paper's page in the council information system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = "uri")]
    pub url: Option<String>,
    /// The paper's main document (usually a PDF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = "uri")]
    pub file_url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: Extra,
}

/// A record of any type.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Process(Process),
    Contribution(Contribution),
    Event(Event),
    Result(ProcessResult),
    Organisation(Organisation),
    Paper(Paper),
}

const TITLE_CHARS: usize = 1_000;
const TEXT_CHARS: usize = 100_000;

impl Record {
    /// Reads and checks a record of `kind` from its JSON, naming every invalid field.
    pub fn parse(kind: Kind, value: Value) -> Result<Record, Invalid> {
        let mut f = Fields::new("", value).map_err(|e| Invalid(vec![e]))?;
        let record = match kind {
            Kind::Process => read_process(&mut f).map(Record::Process),
            Kind::Contribution => read_contribution(&mut f).map(Record::Contribution),
            Kind::Event => read_event(&mut f).map(Record::Event),
            Kind::Result => read_result(&mut f).map(Record::Result),
            Kind::Organisation => read_organisation(&mut f).map(Record::Organisation),
            Kind::Paper => read_paper(&mut f).map(Record::Paper),
        };
        let (extra, errors) = f.rest();
        match record {
            Some(mut r) if errors.is_empty() => {
                *r.extra_mut() = extra;
                Ok(r)
            }
            _ => Err(Invalid(if errors.is_empty() {
                vec![FieldError::new("", "is not a valid record")]
            } else {
                errors
            })),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Record::Process(_) => Kind::Process,
            Record::Contribution(_) => Kind::Contribution,
            Record::Event(_) => Kind::Event,
            Record::Result(_) => Kind::Result,
            Record::Organisation(_) => Kind::Organisation,
            Record::Paper(_) => Kind::Paper,
        }
    }

    fn extra_mut(&mut self) -> &mut Extra {
        match self {
            Record::Process(r) => &mut r.extra,
            Record::Contribution(r) => &mut r.extra,
            Record::Event(r) => &mut r.extra,
            Record::Result(r) => &mut r.extra,
            Record::Organisation(r) => &mut r.extra,
            Record::Paper(r) => &mut r.extra,
        }
    }

    /// The record as JSON, in the standard's field names, unknown fields included.
    pub fn to_json(&self) -> Value {
        let v = match self {
            Record::Process(r) => serde_json::to_value(r),
            Record::Contribution(r) => serde_json::to_value(r),
            Record::Event(r) => serde_json::to_value(r),
            Record::Result(r) => serde_json::to_value(r),
            Record::Organisation(r) => serde_json::to_value(r),
            Record::Paper(r) => serde_json::to_value(r),
        };
        // The types serialise plain data only (no maps with non-string keys, no NaN: amounts
        // are checked finite), so this cannot fail.
        v.unwrap_or(Value::Null)
    }

    /// When the source last changed it.
    pub fn updated_at(&self) -> OffsetDateTime {
        match self {
            Record::Process(r) => r.updated_at,
            Record::Contribution(r) => r.updated_at,
            Record::Event(r) => r.updated_at,
            Record::Result(r) => r.updated_at,
            Record::Organisation(r) => r.updated_at,
            Record::Paper(r) => r.updated_at,
        }
    }

    /// The external id of the process this record belongs to, at the same source.
    pub fn process(&self) -> Option<&str> {
        match self {
            Record::Contribution(r) => Some(&r.process),
            Record::Event(r) => r.process.as_deref(),
            Record::Result(r) => Some(&r.process),
            Record::Paper(r) => r.process.as_deref(),
            Record::Process(_) | Record::Organisation(_) => None,
        }
    }

    /// Every text of the record, for full-text search.
    pub fn search_text(&self) -> String {
        let texts: Vec<&Text> = match self {
            Record::Process(r) => [Some(&r.title), r.description.as_ref()].into_iter().flatten().collect(),
            Record::Contribution(r) => [r.title.as_ref(), r.text.as_ref()].into_iter().flatten().collect(),
            Record::Event(r) => [Some(&r.title), r.description.as_ref()].into_iter().flatten().collect(),
            Record::Result(r) => r.decision.iter().collect(),
            Record::Organisation(r) => vec![&r.name],
            Record::Paper(r) => vec![&r.title],
        };
        let mut out = String::new();
        for t in texts {
            for s in t.all() {
                out.push_str(s);
                out.push(' ');
            }
        }
        if let Record::Process(p) = self {
            out.push_str(&p.topics.join(" "));
        }
        if let Record::Paper(p) = self {
            out.push_str(p.reference.as_deref().unwrap_or_default());
        }
        out.to_lowercase()
    }
}

fn text(f: &mut Fields, name: &str, required: bool, max: usize) -> Option<Text> {
    let t: Option<Text> = if required { f.req(name) } else { f.opt(name) };
    match t {
        Some(t) => match t.check(max) {
            Ok(()) => Some(t),
            Err(e) => {
                f.fail(name, e);
                None
            }
        },
        None => None,
    }
}

fn url(f: &mut Fields, name: &str) -> Option<String> {
    let u: String = f.opt(name)?;
    let ok = u.len() <= 2_000
        && (u.starts_with("https://") || u.starts_with("http://"))
        && !u.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Some(u)
    } else {
        f.fail(name, "must be an absolute http(s) URL");
        None
    }
}

fn geometry(f: &mut Fields, name: &str, point: bool) -> Option<Value> {
    let g = f.raw(name)?;
    let checked = if point { geo::check_point(&g) } else { geo::check_geometry(&g) };
    match checked {
        Ok(()) => Some(g),
        Err(e) => {
            f.fail(name, e);
            None
        }
    }
}

fn reference(f: &mut Fields, name: &str, required: bool) -> Option<String> {
    let r: Option<String> = if required { f.req(name) } else { f.opt(name) };
    let r = r?;
    match crate::check_external_id(&r) {
        Ok(()) => Some(r),
        Err(e) => {
            f.fail(name, e.message);
            None
        }
    }
}

fn ags(f: &mut Fields, name: &str, required: bool) -> Option<String> {
    let a: Option<String> = if required { f.req(name) } else { f.opt(name) };
    let a = a?;
    if check_ags(&a) {
        Some(a)
    } else {
        f.fail(name, "must be an Amtlicher Gemeindeschlüssel: 8 digits, starting with a Land's 01–16");
        None
    }
}

fn ordered(f: &mut Fields, name: &str, start: Option<OffsetDateTime>, end: Option<OffsetDateTime>) {
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        f.fail(name, "ends before it starts");
    }
}

fn read_process(f: &mut Fields) -> Option<Process> {
    let title = text(f, "title", true, TITLE_CHARS);
    let description = text(f, "description", false, TEXT_CHARS);
    let status = f.req("status");
    let phases = f.nested("phases", false, read_phases).unwrap_or_default();
    let topics: Vec<String> = f.opt("topics").unwrap_or_default();
    if topics.len() > 50
        || topics.iter().any(|t| t.trim().is_empty() || t.chars().count() > 100 || t.chars().any(char::is_control))
    {
        f.fail("topics", "at most 50 topics of 1 to 100 characters, without control characters");
    }
    let process_type: Option<String> = f.opt("process_type");
    let municipality = ags(f, "municipality", false);
    let url = url(f, "url");
    let geometry = geometry(f, "geometry", false);
    let xbeteiligung: Option<XBeteiligung> = f.opt("xbeteiligung");
    let updated_at = f.req::<Timestamp>("updated_at");
    Some(Process {
        title: title?,
        description,
        status: status?,
        phases,
        topics,
        process_type,
        municipality,
        url,
        geometry,
        xbeteiligung,
        updated_at: updated_at?.0,
        extra: Extra::new(),
    })
}

fn read_phases(path: &str, value: Value) -> Result<Vec<Phase>, Vec<FieldError>> {
    let Value::Array(items) = value else {
        return Err(vec![FieldError::new(path, "must be a list of phases")]);
    };
    let mut phases = Vec::new();
    let mut errors = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let prefix = format!("{path}[{i}]");
        let mut f = match Fields::new(&prefix, item) {
            Ok(f) => f,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let title = text(&mut f, "title", true, TITLE_CHARS);
        let start = f.opt::<Timestamp>("start").map(|t| t.0);
        let end = f.opt::<Timestamp>("end").map(|t| t.0);
        ordered(&mut f, "end", start, end);
        let (rest, errs) = f.rest();
        errors.extend(errs);
        errors.extend(rest.keys().map(|k| FieldError::new(format!("{prefix}.{k}"), "is not a field of a phase")));
        if let Some(title) = title {
            phases.push(Phase { title, start, end });
        }
    }
    if errors.is_empty() { Ok(phases) } else { Err(errors) }
}

fn read_contribution(f: &mut Fields) -> Option<Contribution> {
    let process = reference(f, "process", true);
    let kind = f.req("kind");
    let title = text(f, "title", false, TITLE_CHARS);
    let body = text(f, "text", false, TEXT_CHARS);
    let author: Option<String> = f.opt("author");
    if author.as_ref().is_some_and(|a| a.is_empty() || a.len() > 255) {
        f.fail("author", "must be the pairwise subject the hub issued (1 to 255 characters) or null");
    }
    let parent = reference(f, "parent", false);
    let location = geometry(f, "location", true);
    let votes: Option<Votes> = f.opt("votes");
    let status = f.opt("status");
    let created_at = f.req::<Timestamp>("created_at");
    let updated_at = f.req::<Timestamp>("updated_at");
    if let (Some(c), Some(u)) = (&created_at, &updated_at)
        && u.0 < c.0
    {
        f.fail("updated_at", "lies before created_at");
    }
    if title.is_none() && body.is_none() && !matches!(kind, Some(ContributionKind::SurveyResponse)) {
        f.fail("text", "a contribution needs a title or a text");
    }
    Some(Contribution {
        process: process?,
        kind: kind?,
        title,
        text: body,
        author,
        parent,
        location,
        votes,
        status,
        created_at: created_at?.0,
        updated_at: updated_at?.0,
        extra: Extra::new(),
    })
}

fn read_event(f: &mut Fields) -> Option<Event> {
    let process = reference(f, "process", false);
    let title = text(f, "title", true, TITLE_CHARS);
    let description = text(f, "description", false, TEXT_CHARS);
    let start = f.req::<Timestamp>("start").map(|t| t.0);
    let end = f.opt::<Timestamp>("end").map(|t| t.0);
    ordered(f, "end", start, end);
    let place = f.nested("place", false, read_place);
    let online_url = url(f, "online_url");
    let updated_at = f.req::<Timestamp>("updated_at");
    Some(Event {
        process,
        title: title?,
        description,
        start: start?,
        end,
        place,
        online_url,
        updated_at: updated_at?.0,
        extra: Extra::new(),
    })
}

fn read_place(path: &str, value: Value) -> Result<Place, Vec<FieldError>> {
    let mut f = Fields::new(path, value).map_err(|e| vec![e])?;
    let name: Option<String> = f.opt("name");
    let address: Option<String> = f.opt("address");
    let location = geometry(&mut f, "location", true);
    let (rest, mut errors) = f.rest();
    errors.extend(rest.keys().map(|k| FieldError::new(format!("{path}.{k}"), "is not a field of a place")));
    if errors.is_empty() { Ok(Place { name, address, location }) } else { Err(errors) }
}

fn read_result(f: &mut Fields) -> Option<ProcessResult> {
    let process = reference(f, "process", true);
    let decision = text(f, "decision", false, TEXT_CHARS);
    let budget: Option<Budget> = f.opt("budget");
    if let Some(b) = &budget
        && (!b.amount.is_finite()
            || b.amount < 0.0
            || b.currency.len() != 3
            || !b.currency.bytes().all(|c| c.is_ascii_uppercase()))
    {
        f.fail("budget", "needs a non-negative amount and an ISO 4217 currency (EUR)");
    }
    let implementation_status = f.opt("implementation_status");
    let updated_at = f.req::<Timestamp>("updated_at");
    Some(ProcessResult {
        process: process?,
        decision,
        budget,
        implementation_status,
        updated_at: updated_at?.0,
        extra: Extra::new(),
    })
}

fn read_organisation(f: &mut Fields) -> Option<Organisation> {
    let name = text(f, "name", true, TITLE_CHARS);
    let municipality = ags(f, "municipality", true);
    let url = url(f, "url");
    let updated_at = f.req::<Timestamp>("updated_at");
    Some(Organisation { name: name?, municipality: municipality?, url, updated_at: updated_at?.0, extra: Extra::new() })
}

fn read_paper(f: &mut Fields) -> Option<Paper> {
    let title = text(f, "title", true, TITLE_CHARS);
    let number = short(f, "reference");
    let paper_type = short(f, "paper_type");
    let date = f.opt::<Day>("date").map(|d| d.0);
    let process = reference(f, "process", false);
    let municipality = ags(f, "municipality", false);
    let url_ = url(f, "url");
    let file_url = url(f, "file_url");
    let updated_at = f.req::<Timestamp>("updated_at");
    Some(Paper {
        title: title?,
        reference: number,
        paper_type,
        date,
        process,
        municipality,
        url: url_,
        file_url,
        updated_at: updated_at?.0,
        extra: Extra::new(),
    })
}

/// A short text (a number, a type's name): at most 200 characters.
fn short(f: &mut Fields, name: &str) -> Option<String> {
    let value: Option<String> = f.opt(name);
    match value {
        Some(v) if v.chars().count() > 200 => {
            f.fail(name, "must be at most 200 characters");
            None
        }
        v => v.filter(|v| !v.trim().is_empty()),
    }
}

/// An ISO 8601 calendar date (`2025-09-30`).
struct Day(String);

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        time::Date::parse(&s, time::macros::format_description!("[year]-[month]-[day]"))
            .map(|_| Day(s.clone()))
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a date (YYYY-MM-DD)")))
    }
}

/// RFC 3339 as a value of its own, so the field reader can decode it like any other type.
struct Timestamp(OffsetDateTime);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
            .map(Timestamp)
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not an RFC 3339 date-time with an offset")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn process() -> Value {
        json!({
            "title": {"de": "Radverkehrskonzept", "en": "Cycling plan"},
            "status": "open",
            "phases": [{"title": {"de": "Ideen"}, "start": "2026-05-01T00:00:00+02:00", "end": "2026-06-30T23:59:59+02:00"}],
            "topics": ["Verkehr"],
            "municipality": "05315000",
            "url": "https://beteiligung.example/processes/rad",
            "geometry": {"type": "Point", "coordinates": [6.95, 50.94]},
            "updated_at": "2026-05-02T10:00:00Z"
        })
    }

    fn fields(e: Invalid) -> Vec<String> {
        e.0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_valid_process_round_trips() {
        let r = Record::parse(Kind::Process, process()).unwrap();
        let again = Record::parse(Kind::Process, r.to_json()).unwrap();
        assert_eq!(r, again);
        assert!(r.search_text().contains("radverkehrskonzept") && r.search_text().contains("verkehr"));
    }

    #[test]
    fn every_invalid_field_is_named() {
        let mut p = process();
        p["status"] = json!("running");
        p["municipality"] = json!("5315000");
        p["phases"][0]["end"] = json!("2026-04-01T00:00:00+02:00");
        p["geometry"] = json!({"type": "Point", "coordinates": [50.94, 96.0]});
        p["title"] = json!({"German": "x"});
        p.as_object_mut().unwrap().remove("updated_at");
        let f = fields(Record::parse(Kind::Process, p).unwrap_err());
        for name in ["title", "status", "phases[0].end", "municipality", "geometry", "updated_at"] {
            assert!(f.contains(&name.to_owned()), "{name} in {f:?}");
        }
    }

    #[test]
    fn unknown_fields_of_a_newer_version_are_kept() {
        let mut p = process();
        p["accessibility_notes"] = json!({"de": "Stufenlos"});
        let r = Record::parse(Kind::Process, p).unwrap();
        assert_eq!(r.to_json()["accessibility_notes"], json!({"de": "Stufenlos"}));
    }

    #[test]
    fn contributions_need_a_process_a_time_and_some_text() {
        let c = json!({
            "process": "rad", "kind": "idea", "text": {"de": "Mehr Bügel am Bahnhof"},
            "location": {"type": "Point", "coordinates": [6.95, 50.94]}, "votes": {"up": 3},
            "status": "in-review",
            "created_at": "2026-05-03T08:00:00Z", "updated_at": "2026-05-03T08:00:00Z"
        });
        let r = Record::parse(Kind::Contribution, c.clone()).unwrap();
        assert_eq!(r.process(), Some("rad"));
        let mut bad = c.clone();
        bad["kind"] = json!("tweet");
        bad["updated_at"] = json!("2026-05-01T08:00:00Z");
        bad.as_object_mut().unwrap().remove("text");
        bad["location"] = json!({"type": "Polygon", "coordinates": []});
        let f = fields(Record::parse(Kind::Contribution, bad).unwrap_err());
        assert!(f.contains(&"kind".into()) && f.contains(&"location".into()), "{f:?}");
        let mut early = c;
        early["updated_at"] = json!("2026-05-01T08:00:00Z");
        assert_eq!(fields(Record::parse(Kind::Contribution, early).unwrap_err()), vec!["updated_at"]);
    }

    #[test]
    fn events_results_and_organisations() {
        let e = json!({"title": {"de": "Werkstatt"}, "start": "2026-05-10T18:00:00+02:00",
            "end": "2026-05-10T20:00:00+02:00", "place": {"name": "Rathaus", "location": {"type": "Point", "coordinates": [7, 50]}},
            "online_url": "https://meet.example/x", "updated_at": "2026-05-01T00:00:00Z"});
        assert!(Record::parse(Kind::Event, e.clone()).is_ok());
        let mut bad = e;
        bad["place"]["room"] = json!("3");
        assert_eq!(fields(Record::parse(Kind::Event, bad).unwrap_err()), vec!["place.room"]);
        let r = json!({"process": "haushalt-2026", "budget": {"amount": 250000, "currency": "EUR"},
            "implementation_status": "in-progress", "updated_at": "2026-05-01T00:00:00Z"});
        assert!(Record::parse(Kind::Result, r).is_ok());
        let r =
            json!({"process": "h", "budget": {"amount": -1, "currency": "euro"}, "updated_at": "2026-05-01T00:00:00Z"});
        assert_eq!(fields(Record::parse(Kind::Result, r).unwrap_err()), vec!["budget"]);
        let o = json!({"name": {"de": "Stadt Bonn"}, "municipality": "05314000", "updated_at": "2026-05-01T00:00:00Z"});
        assert!(Record::parse(Kind::Organisation, o).is_ok());
        assert!(Record::parse(Kind::Organisation, json!([])).is_err());
    }
}
