//! "Meine Beteiligung": a person's contributions across tools, found through the pairwise
//! subjects the hub issued to each tool (a tool pushes a contribution with the `sub` it knows
//! as `author`); the processes they follow; what changed (status changes, phases that began)
//! in the portal and as an e-mail digest with a one-click unsubscribe (RFC 8058); and the way
//! into a tool signed in (OIDC Core §4, third-party initiated login with `login_hint`).

use crate::jobs::{SendMail, new_job};
use crate::{Error, Hub, Result};
use mitsprache_domain::{Account, Locale};
use mitsprache_store::StoredRecord;
pub use mitsprache_store::{DeletionDelivery, Digest, NotificationSettings, StatusChange};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Contributions shown per person; the export has them all.
const SHOWN: u64 = 200;
/// Digests read and sent per statement.
const DIGEST_BATCH: i64 = 500;
/// How far back the portal's notifications go.
const NOTIFICATION_DAYS: i64 = 90;

#[derive(Debug, Clone)]
pub struct MyContribution {
    pub record: StoredRecord,
    /// The pushing tool's name.
    pub tool: String,
    /// Its process, when the hub has it (the tool's external id, in the same source).
    pub process: Option<StoredRecord>,
    pub changes: Vec<StatusChange>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Status {
        old: Option<String>,
        new: Option<String>,
    },
    /// The phase at this index of the process's phases began.
    PhaseBegan {
        phase: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Notification {
    pub at: OffsetDateTime,
    /// The process or contribution that changed.
    pub record: StoredRecord,
    pub change: Change,
    /// Newer than what the person last saw in the portal.
    pub unseen: bool,
}

#[derive(Debug, Clone)]
pub struct MyParticipation {
    pub contributions: Vec<MyContribution>,
    pub followed: Vec<StoredRecord>,
    pub notifications: Vec<Notification>,
    pub settings: Option<NotificationSettings>,
}

/// What the person follows and wrote, read once for a list of notifications.
struct Watched {
    /// Followed records with the time of following.
    followed: Vec<(StoredRecord, OffsetDateTime)>,
    own: Vec<StoredRecord>,
}

fn doc(r: &StoredRecord) -> Option<Value> {
    serde_json::from_str(r.doc.as_deref()?).ok()
}

fn phase_starts(r: &StoredRecord) -> Vec<(usize, OffsetDateTime)> {
    let Some(d) = doc(r) else { return Vec::new() };
    d.get("phases")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .enumerate()
                .filter_map(|(i, p)| Some((i, OffsetDateTime::parse(p.get("start")?.as_str()?, &Rfc3339).ok()?)))
                .collect()
        })
        .unwrap_or_default()
}

impl Hub {
    /// The (source, author) pairs under which tools push this person's contributions: one per
    /// client, with the subject that client's sector was issued.
    pub(crate) async fn author_pairs_of(&self, account_id: &str) -> Result<Vec<(String, String)>> {
        Ok(self
            .clients()
            .await?
            .iter()
            // Only a tool that may push data can be the source of a contribution.
            .filter(|c| crate::connectors::pushes_data(c))
            .map(|c| (c.id.clone(), self.subject_for(c, account_id)))
            .collect())
    }

    async fn watched(&self, account_id: &str, limit: u64) -> Result<Watched> {
        let store = self.store().participation();
        let follows = store.follows(account_id).await?;
        let ids: Vec<String> = follows.iter().map(|f| f.record_id.clone()).collect();
        let mut records: HashMap<String, StoredRecord> =
            store.records(&ids).await?.into_iter().map(|r| (r.id.clone(), r)).collect();
        let followed =
            follows.into_iter().filter_map(|f| Some((records.remove(&f.record_id)?, f.created_at))).collect();
        let own = store.authored(&self.author_pairs_of(account_id).await?, limit).await?;
        Ok(Watched { followed, own })
    }

    /// What changed for the person in `(since, until]`: status changes of followed records and
    /// of their own contributions, and phases of followed processes that began. Oldest first.
    async fn changes(&self, w: &Watched, since: OffsetDateTime, until: OffsetDateTime) -> Result<Vec<Notification>> {
        let mut out = Vec::new();
        let mut from: HashMap<&str, (OffsetDateTime, &StoredRecord)> = HashMap::new();
        for (r, followed_at) in &w.followed {
            from.insert(&r.id, (since.max(*followed_at), r));
        }
        for r in &w.own {
            from.entry(&r.id).or_insert((since, r));
        }
        let ids: Vec<String> = from.keys().map(|k| (*k).to_owned()).collect();
        for c in self.store().participation().status_changes(&ids, since).await? {
            let Some((start, r)) = from.get(c.record_id.as_str()) else { continue };
            if c.changed_at > *start && c.changed_at <= until {
                out.push(Notification {
                    at: c.changed_at,
                    record: (*r).clone(),
                    change: Change::Status { old: c.old_status, new: c.new_status },
                    unseen: false,
                });
            }
        }
        for (r, followed_at) in &w.followed {
            let start = since.max(*followed_at);
            for (phase, at) in phase_starts(r) {
                if at > start && at <= until {
                    out.push(Notification {
                        at,
                        record: r.clone(),
                        change: Change::PhaseBegan { phase },
                        unseen: false,
                    });
                }
            }
        }
        out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.record.id.cmp(&b.record.id)));
        Ok(out)
    }

    pub async fn my_participation(&self, account: &Account) -> Result<MyParticipation> {
        let now = self.now();
        let w = self.watched(&account.id, SHOWN).await?;
        let store = self.store().participation();
        let settings = store.settings(&account.id).await?;
        let seen = settings.as_ref().map(|s| s.seen_at);
        let mut notifications = self.changes(&w, now - time::Duration::days(NOTIFICATION_DAYS), now).await?;
        for n in &mut notifications {
            n.unseen = seen.is_some_and(|s| n.at > s);
        }
        notifications.reverse();
        if settings.is_some() {
            store.mark_seen(&account.id, now).await?;
        }
        let own_ids: Vec<String> = w.own.iter().map(|r| r.id.clone()).collect();
        let mut history: HashMap<String, Vec<StatusChange>> = HashMap::new();
        for c in store.status_changes(&own_ids, OffsetDateTime::UNIX_EPOCH).await? {
            history.entry(c.record_id.clone()).or_default().push(c);
        }
        // The process of each contribution: the hub's id of (process, source, external id).
        let own: Vec<(StoredRecord, Option<String>)> = w
            .own
            .into_iter()
            .map(|r| {
                let process = doc(&r)
                    .and_then(|d| d.get("process")?.as_str().map(str::to_owned))
                    .map(|p| crate::data::record_id(mitsprache_standard::Kind::Process, &r.source, &p));
                (r, process)
            })
            .collect();
        let process_ids: Vec<String> =
            own.iter().filter_map(|(_, p)| p.clone()).collect::<HashSet<_>>().into_iter().collect();
        let processes: HashMap<String, StoredRecord> =
            store.records(&process_ids).await?.into_iter().map(|r| (r.id.clone(), r)).collect();
        let names = self.source_names().await?;
        let contributions = own
            .into_iter()
            .map(|(r, process)| MyContribution {
                tool: names.get(&r.source).cloned().unwrap_or_else(|| r.source.clone()),
                changes: history.remove(&r.id).unwrap_or_default(),
                process: process.and_then(|id| processes.get(&id).cloned()),
                record: r,
            })
            .collect();
        Ok(MyParticipation {
            contributions,
            followed: w.followed.into_iter().map(|(r, _)| r).collect(),
            notifications,
            settings,
        })
    }

    /// Every contribution pushed in the person's name, for the data export.
    pub(crate) async fn all_contributions(&self, account_id: &str) -> Result<Vec<StoredRecord>> {
        Ok(self.store().participation().authored(&self.author_pairs_of(account_id).await?, 100_000).await?)
    }

    /// The name of every source: a connector's name, or a pushing tool's client name.
    async fn source_names(&self) -> Result<HashMap<String, String>> {
        Ok(self.portal_facets().await?.sources.iter().cloned().collect())
    }

    /// Follows a process; an unknown or deleted one is `NotFound`.
    pub async fn follow(&self, account_id: &str, record_id: &str) -> Result<()> {
        let record = self.store().data().get(record_id).await?;
        if record.is_none_or(|r| r.deleted || r.kind != "process") {
            return Err(Error::NotFound);
        }
        Ok(self.store().participation().follow(account_id, record_id, self.now()).await?)
    }

    pub async fn unfollow(&self, account_id: &str, record_id: &str) -> Result<()> {
        Ok(self.store().participation().unfollow(account_id, record_id).await?)
    }

    pub async fn is_following(&self, account_id: &str, record_id: &str) -> Result<bool> {
        Ok(self.store().participation().follows(account_id).await?.iter().any(|f| f.record_id == record_id))
    }

    pub async fn set_digest(&self, account_id: &str, digest: Digest) -> Result<()> {
        Ok(self.store().participation().set_digest(account_id, digest, self.now()).await?)
    }

    /// The token of an unsubscribe link: the account id with an HMAC under the hub's secret, so
    /// that the link works without a login (a mail client's one-click POST carries no cookie)
    /// and names nobody to whoever reads it.
    pub fn unsubscribe_token(&self, account_id: &str) -> String {
        format!("{account_id}.{}", self.mac("unsubscribe digest", account_id))
    }

    /// The account an unsubscribe token names, if its HMAC holds.
    fn unsubscribe_account(&self, token: &str) -> Option<String> {
        let (id, mac) = token.split_once('.')?;
        mitsprache_oidc::random::constant_time_eq(&self.mac("unsubscribe digest", id), mac).then(|| id.to_owned())
    }

    /// Whether the token is a valid unsubscribe link (for the confirmation page).
    pub fn unsubscribe_valid(&self, token: &str) -> bool {
        self.unsubscribe_account(token).is_some()
    }

    /// Stops the e-mail digest of the token's account. False for a token that does not hold.
    pub async fn unsubscribe(&self, token: &str) -> Result<bool> {
        let Some(account_id) = self.unsubscribe_account(token) else { return Ok(false) };
        if self.store().accounts().find(&account_id).await?.is_none() {
            // The account is gone, and with it every digest: nothing left to stop.
            return Ok(true);
        }
        self.set_digest(&account_id, Digest::None).await?;
        tracing::info!("digest unsubscribed");
        Ok(true)
    }

    /// Sends the digests that are due: one mail per person with what changed since the last,
    /// none when nothing did. Returns how many mails were queued.
    pub async fn send_digests(&self) -> Result<usize> {
        let now = self.now();
        let mut sent = 0;
        // A batch at a time until none is due: each one handled moves its window past `now`.
        loop {
            let due = self.store().participation().due_digests(now, DIGEST_BATCH).await?;
            let last = due.len() < DIGEST_BATCH as usize;
            for s in due {
                let Some(account) = self.store().accounts().find(&s.account_id).await? else { continue };
                let w = self.watched(&account.id, 10_000).await?;
                let changes = self.changes(&w, s.digest_until, now).await?;
                let mail = if changes.is_empty() || !account.email_verified {
                    None
                } else {
                    Some(new_job(self, &self.digest_mail(&account, &changes), now))
                };
                if self.store().participation().digest_done(&account.id, s.digest_until, now, mail.as_ref()).await?
                    && mail.is_some()
                {
                    sent += 1;
                }
            }
            if last {
                break;
            }
        }
        if sent > 0 {
            self.jobs_queued();
        }
        Ok(sent)
    }

    fn digest_mail(&self, account: &Account, changes: &[Notification]) -> SendMail {
        let de = account.locale == Locale::De;
        let base = &self.config().issuer;
        let mut body = String::from(if de {
            "Guten Tag,\n\nseit der letzten Zusammenfassung hat sich in Ihrer Beteiligung Folgendes geändert:\n\n"
        } else {
            "Hello,\n\nsince the last summary, this changed in your participation:\n\n"
        });
        for n in changes {
            body.push_str(&format!("- {}\n  {base}/beteiligung/{}\n", describe(n, account.locale), process_link_id(n)));
        }
        let unsubscribe = format!("{base}/benachrichtigungen/abbestellen/{}", self.unsubscribe_token(&account.id));
        body.push_str(&if de {
            format!(
                "\nAlles im Überblick: {base}/meine-beteiligung\nDiese Zusammenfassung abbestellen: {unsubscribe}\n"
            )
        } else {
            format!(
                "\nEverything at a glance: {base}/meine-beteiligung\nUnsubscribe from this summary: {unsubscribe}\n"
            )
        });
        body.push_str(&self.mail_footer(account.locale));
        SendMail {
            to: account.email.to_string(),
            subject: if de { "Neues aus Ihrer Beteiligung" } else { "News from your participation" }.to_owned(),
            body,
            reply_to: None,
            list_unsubscribe: Some(unsubscribe),
        }
    }

    /// Where "Mitmachen" leads: the process's page in its tool, through the tool's
    /// `initiate_login_uri` with the person's subject as `login_hint` when they are signed in
    /// and the tool registered one (OIDC Core §4), so that they arrive signed in.
    pub async fn participate_link(&self, record: &StoredRecord, account_id: Option<&str>) -> Result<Option<String>> {
        let Some(target) = doc(record).and_then(|d| d.get("url")?.as_str().map(str::to_owned)) else {
            return Ok(None);
        };
        let (Some(account_id), Some(client)) = (account_id, self.client(&record.source).await?) else {
            return Ok(Some(target));
        };
        let Some(initiate) = &client.initiate_login_uri else { return Ok(Some(target)) };
        let Ok(mut url) = url::Url::parse(initiate) else { return Ok(Some(target)) };
        url.query_pairs_mut()
            .append_pair("iss", &self.config().issuer)
            .append_pair("login_hint", &self.subject_for(&client, account_id))
            .append_pair("target_link_uri", &target);
        Ok(Some(url.into()))
    }
}

/// What the portal's filters offer: the tools with data, by name, and the municipalities with
/// processes. Read from the whole table, so kept for a while instead of per page.
#[derive(Debug, Clone, Default)]
pub struct PortalFacets {
    /// (source, name)
    pub sources: Vec<(String, String)>,
    /// (key, name) to choose from, sorted by name: the municipalities with processes, named
    /// by the operator's list where it names them, and every municipality of that list.
    pub municipality_choices: Vec<(String, String)>,
}

impl PortalFacets {
    /// A tool's name, else its source key.
    pub fn source_name<'a>(&'a self, source: &'a str) -> &'a str {
        self.sources.iter().find(|(s, _)| s == source).map_or(source, |(_, name)| name.as_str())
    }
}

fn municipality_choices(with_processes: &[String], named: &[(String, String)]) -> Vec<(String, String)> {
    let names: HashMap<&str, &str> = named.iter().map(|(a, n)| (a.as_str(), n.as_str())).collect();
    let mut out: Vec<(String, String)> = with_processes
        .iter()
        .map(|ags| (ags.clone(), names.get(ags.as_str()).map_or_else(|| ags.clone(), |n| format!("{n} ({ags})"))))
        .collect();
    let listed: HashSet<&str> = with_processes.iter().map(String::as_str).collect();
    out.extend(
        named.iter().filter(|(a, _)| !listed.contains(a.as_str())).map(|(a, n)| (a.clone(), format!("{n} ({a})"))),
    );
    out.sort_by_cached_key(|m| m.1.to_lowercase());
    out
}

/// A language map's texts in the document's order, read once for the portal's pages.
#[derive(Debug, Clone, Default)]
pub struct Texts(Vec<(String, String)>);

impl Texts {
    fn of(v: Option<&Value>, max_chars: usize) -> Texts {
        let Some(map) = v.and_then(Value::as_object) else { return Texts::default() };
        Texts(
            map.iter()
                .filter_map(|(tag, t)| {
                    let t = t.as_str()?;
                    // Cut after `max_chars` characters without counting a shorter text twice.
                    let t = t.char_indices().nth(max_chars).map_or(t, |(end, _)| &t[..end]).to_owned();
                    Some((tag.clone(), t))
                })
                .collect(),
        )
    }

    /// The text in `locale`, else German, else English, else any, with the language it is in;
    /// empty for no text.
    pub fn get(&self, locale: Locale) -> (&str, &str) {
        [locale.tag(), "de", "en"]
            .iter()
            .find_map(|tag| self.0.iter().find(|(t, _)| t == tag))
            .or(self.0.first())
            .map_or(("", ""), |(tag, t)| (t.as_str(), tag.as_str()))
    }
}

/// A process as the portal's lists show it. Read from the document when the list is read,
/// not on every page that shows the kept list.
#[derive(Debug, Clone)]
pub struct ProcessCard {
    /// The hub's id, for the process's own page.
    pub id: String,
    pub source: String,
    pub title: Texts,
    /// The description's first 300 characters.
    pub summary: Texts,
    pub status: String,
    pub municipality: String,
    /// The day the last phase ends, in the phase's own offset.
    pub ends: Option<time::Date>,
    pub url: String,
}

impl ProcessCard {
    fn of(r: &StoredRecord) -> Option<ProcessCard> {
        let d = doc(r)?;
        let text = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let ends = d
            .get("phases")
            .and_then(Value::as_array)
            .and_then(|ps| {
                ps.iter()
                    .filter_map(|p| p.get("end")?.as_str().and_then(|e| OffsetDateTime::parse(e, &Rfc3339).ok()))
                    .max()
            })
            .map(OffsetDateTime::date);
        Some(ProcessCard {
            id: r.id.clone(),
            source: r.source.clone(),
            title: Texts::of(d.get("title"), usize::MAX),
            summary: Texts::of(d.get("description"), 300),
            status: text("status"),
            municipality: text("municipality"),
            ends,
            url: text("url"),
        })
    }
}

/// A page of the portal's list: the number of all matches and the page's processes.
#[derive(Debug, Clone)]
pub struct PortalList {
    pub total: u64,
    pub processes: Vec<ProcessCard>,
}

/// How long an instance keeps the facets, and the lists and municipality pages of the portal
/// (see `recent`): writes through this instance clear them at once, another instance's show
/// after this long.
pub(crate) const FACETS_FOR: time::Duration = time::Duration::seconds(30);
pub(crate) const LISTS_FOR: time::Duration = time::Duration::seconds(5);
/// Lists kept at most: each holds a page of records (up to 100).
pub(crate) const LISTS_KEPT: usize = 256;

/// A page of records and the number of all matches.
pub type Page = (u64, Vec<StoredRecord>);

/// What a process's portal page shows of the store.
#[derive(Debug, Clone)]
pub struct PortalProcess {
    pub record: StoredRecord,
    /// The latest contributions, and how many there are.
    pub contributions: Page,
    pub events: Page,
}

impl Hub {
    pub async fn portal_facets(&self) -> Result<std::sync::Arc<PortalFacets>> {
        let read = async {
            let municipalities = self.data_municipalities().await?;
            Ok::<_, Error>(PortalFacets {
                sources: self.data_sources().await?,
                municipality_choices: municipality_choices(&municipalities, &self.config().portal.municipalities),
            })
        };
        self.inner.facets.get_or_read("", self.now(), read).await
    }

    /// A list of processes as the portal shows it: the same as `data_list`, read again when
    /// records were written through this instance or after `LISTS_FOR`.
    pub async fn portal_list(&self, f: &crate::data::DataFilter) -> Result<std::sync::Arc<PortalList>> {
        let read = async {
            let (total, records) = self.data_list(mitsprache_standard::Kind::Process, f).await?;
            Ok::<_, Error>(PortalList { total, processes: records.iter().filter_map(ProcessCard::of).collect() })
        };
        self.inner.lists.get_or_read(&format!("{f:?}"), self.now(), read).await
    }

    /// A process as its portal page shows it, kept like the lists: the record, its latest five
    /// contributions with their number, and its events.
    pub async fn portal_process(&self, id: &str) -> Result<std::sync::Arc<PortalProcess>> {
        let read = async {
            let record = self.data_get(mitsprache_standard::Kind::Process, id).await?;
            let of_process = |per_page| crate::data::DataFilter {
                source: Some(record.source.clone()),
                process: Some(record.external_id.clone()),
                page: 1,
                per_page,
                ..crate::data::DataFilter::default()
            };
            let contributions = self.data_list(mitsprache_standard::Kind::Contribution, &of_process(5)).await?;
            let events = self.data_list(mitsprache_standard::Kind::Event, &of_process(20)).await?;
            Ok::<_, Error>(PortalProcess { record, contributions, events })
        };
        self.inner.processes.get_or_read(id, self.now(), read).await
    }

    /// Records or tools changed here: the next page reads the facets and lists again.
    pub(crate) fn data_changed(&self) {
        self.inner.facets.clear();
        self.inner.lists.clear();
        self.inner.activity.clear();
        self.inner.processes.clear();
    }
}

/// A tool in use in a municipality.
#[derive(Debug, Clone)]
pub struct ToolInUse {
    pub source: String,
    pub name: String,
    pub processes: i64,
    /// Its marketplace entry, when the source is a connector of a catalogued tool.
    pub catalogue_slug: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct MunicipalityActivity {
    /// (`YYYY-MM`, contributions), every month from the first to the last with any.
    pub months: Vec<(String, i64)>,
    pub tools: Vec<ToolInUse>,
}

impl Hub {
    /// Every municipality with a live process.
    pub async fn data_municipalities(&self) -> Result<Vec<String>> {
        Ok(self.store().participation().municipalities().await?)
    }

    /// What happens in a municipality across tools: contributions per month and the tools in use.
    /// Kept like the portal's lists: it reads every contribution to the municipality.
    pub async fn municipality_activity(&self, ags: &str) -> Result<std::sync::Arc<MunicipalityActivity>> {
        self.inner.activity.get_or_read(ags, self.now(), self.read_municipality_activity(ags)).await
    }

    async fn read_municipality_activity(&self, ags: &str) -> Result<MunicipalityActivity> {
        let (counted, sources) = self.store().participation().municipality_activity(ags).await?;
        let names = self.source_names().await?;
        let kinds: HashMap<String, String> =
            self.store().sources().all().await?.into_iter().map(|s| (s.name, s.kind)).collect();
        let tools = sources
            .into_iter()
            .map(|(source, processes)| ToolInUse {
                name: names.get(&source).cloned().unwrap_or_else(|| source.clone()),
                catalogue_slug: kinds
                    .get(&source)
                    .and_then(|k| crate::connectors::SourceKind::parse(k))
                    .and_then(|k| k.catalogue_slug()),
                processes,
                source,
            })
            .collect();
        Ok(MunicipalityActivity { months: fill_months(&counted), tools })
    }
}

/// The months from the first to the last counted, with 0 for the months between.
fn fill_months(counted: &[(String, i64)]) -> Vec<(String, i64)> {
    let parse = |m: &str| -> Option<(i32, u32)> { Some((m.get(..4)?.parse().ok()?, m.get(5..7)?.parse().ok()?)) };
    let (Some(first), Some(last)) =
        (counted.first().and_then(|(m, _)| parse(m)), counted.last().and_then(|(m, _)| parse(m)))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let (mut y, mut m) = first;
    // At most 50 years of months, whatever a tool wrote.
    while (y, m) <= last && out.len() < 600 {
        let key = format!("{y:04}-{m:02}");
        out.push((key.clone(), counted.iter().find(|(k, _)| *k == key).map_or(0, |(_, n)| *n)));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

/// The id of the portal page a notification links to: the process itself, or a contribution's
/// process.
fn process_link_id(n: &Notification) -> String {
    if n.record.kind == "process" {
        return n.record.id.clone();
    }
    doc(&n.record)
        .and_then(|d| d.get("process")?.as_str().map(str::to_owned))
        .map(|p| crate::data::record_id(mitsprache_standard::Kind::Process, &n.record.source, &p))
        .unwrap_or_else(|| n.record.id.clone())
}

/// A language map's text in `locale`, else German, else any.
pub fn text(v: Option<&Value>, locale: Locale) -> String {
    text_in(v, locale).0
}

/// A language map's text in `locale`, else German, else English, else any; with the language it is in.
pub fn text_in(v: Option<&Value>, locale: Locale) -> (String, String) {
    let texts = Texts::of(v, usize::MAX);
    let (text, tag) = texts.get(locale);
    (text.to_owned(), tag.to_owned())
}

/// A status value in words.
pub fn status_word(status: Option<&str>, locale: Locale) -> String {
    let de = locale == Locale::De;
    match (status.unwrap_or(""), de) {
        ("open", true) => "laufend",
        ("open", false) => "open",
        ("upcoming", true) => "kommend",
        ("upcoming", false) => "upcoming",
        ("closed", true) => "abgeschlossen",
        ("closed", false) => "closed",
        ("received", true) => "eingegangen",
        ("received", false) => "received",
        ("in-review", true) => "in Prüfung",
        ("in-review", false) => "in review",
        ("accepted", true) => "angenommen",
        ("accepted", false) => "accepted",
        ("rejected", true) => "abgelehnt",
        ("rejected", false) => "rejected",
        ("withdrawn", true) => "zurückgezogen",
        ("withdrawn", false) => "withdrawn",
        ("processed", true) => "bearbeitet",
        ("processed", false) => "processed",
        ("answered", true) => "beantwortet",
        ("answered", false) => "answered",
        ("implemented", true) => "umgesetzt",
        ("implemented", false) => "implemented",
        ("", true) => "ohne Stand",
        ("", false) => "no status",
        (other, _) => other,
    }
    .to_owned()
}

/// One line for a notification, in the person's language.
pub fn describe(n: &Notification, locale: Locale) -> String {
    let de = locale == Locale::De;
    let d = doc(&n.record).unwrap_or(Value::Null);
    let title = text(d.get("title"), locale);
    let title = if title.is_empty() { text(d.get("text"), locale).chars().take(80).collect() } else { title };
    match &n.change {
        Change::Status { old, new } if n.record.kind == "process" => format!(
            "{} „{title}“: {} → {}",
            if de { "Verfahren" } else { "Process" },
            status_word(old.as_deref(), locale),
            status_word(new.as_deref(), locale)
        ),
        Change::Status { old, new } => format!(
            "{} „{title}“: {} → {}",
            if de { "Ihr Beitrag" } else { "Your contribution" },
            status_word(old.as_deref(), locale),
            status_word(new.as_deref(), locale)
        ),
        Change::PhaseBegan { phase } => {
            let name = d
                .get("phases")
                .and_then(Value::as_array)
                .and_then(|ps| ps.get(*phase))
                .map(|p| text(p.get("title"), locale))
                .unwrap_or_default();
            if de {
                format!("Verfahren „{title}“: Die Phase „{name}“ hat begonnen")
            } else {
                format!("Process “{title}”: the phase “{name}” began")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Texts, fill_months, municipality_choices};
    use mitsprache_domain::Locale;
    use serde_json::json;

    #[test]
    fn a_text_falls_back_to_german_then_english_then_any() {
        let v = json!({"fr": "Bonjour", "en": "Hello", "de": 7});
        let texts = Texts::of(Some(&v), 3);
        // German is no text here: English next, cut to three characters.
        assert_eq!(texts.get(Locale::De), ("Hel", "en"));
        assert_eq!(Texts::of(Some(&json!({"fr": "Bonjour"})), 300).get(Locale::En), ("Bonjour", "fr"));
        assert_eq!(Texts::of(None, 300).get(Locale::De), ("", ""));
    }

    #[test]
    fn municipalities_are_named_by_the_operator_and_sorted_by_name() {
        let with = vec!["05315000".to_owned(), "09162000".to_owned()];
        let named =
            vec![("09162000".to_owned(), "München".to_owned()), ("01001000".to_owned(), "flensburg".to_owned())];
        assert_eq!(
            municipality_choices(&with, &named),
            vec![
                ("05315000".to_owned(), "05315000".to_owned()),
                ("01001000".to_owned(), "flensburg (01001000)".to_owned()),
                ("09162000".to_owned(), "München (09162000)".to_owned()),
            ]
        );
    }

    #[test]
    fn months_without_contributions_are_filled_in() {
        let got = fill_months(&[("2026-11".into(), 3), ("2027-02".into(), 1)]);
        assert_eq!(
            got,
            vec![("2026-11".into(), 3), ("2026-12".into(), 0), ("2027-01".into(), 0), ("2027-02".into(), 1)]
        );
        assert!(fill_months(&[]).is_empty());
    }
}
