//! What the application layer needs from the configuration; the binary fills it from the
//! config file, flags and environment.

use mitsprache_oidc::Lifetimes;
use mitsprache_oidc::password::Cost;
use time::Duration;

/// An upstream OpenID provider people may log in with (a state Servicekonto, a municipal Keycloak).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamProvider {
    /// Short id used in URLs and in the link table, e.g. `servicekonto-nrw`.
    pub id: String,
    /// Shown on the login button.
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

/// How background jobs run on this instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobsConfig {
    /// How long a claimed job stays with its worker without a heartbeat: after a crash, the
    /// time until another instance takes the job over.
    pub lease: Duration,
    /// How often an idle worker looks for due jobs (jobs queued on this instance wake it at once).
    pub poll: std::time::Duration,
    /// Jobs one instance runs at the same time.
    pub concurrency: usize,
    /// How often the housekeeping and key-cleanup jobs run.
    pub housekeeping_every: Duration,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            lease: Duration::seconds(30),
            poll: std::time::Duration::from_secs(1),
            concurrency: 8,
            housekeeping_every: Duration::hours(1),
        }
    }
}

/// A legal text of the operator: a page the hub shows, or a link to the operator's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegalText {
    Url(String),
    /// Plain text; paragraphs are separated by blank lines.
    Text(String),
}

/// Who runs this hub, as a public deployment must say (§ 5 DDG, Art. 13 DSGVO, BITV 2.0).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operator {
    pub name: Option<String>,
    /// An e-mail address or a URL.
    pub contact: Option<String>,
    pub imprint: Option<LegalText>,
    pub privacy: Option<LegalText>,
    pub accessibility: Option<LegalText>,
    /// Where people report accessibility barriers (an e-mail address or a URL).
    pub accessibility_feedback: Option<String>,
    /// The operator's logo, which the header shows and the hub serves itself.
    pub logo: Option<Logo>,
}

/// An image file the operator configured, read at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    /// `image/svg+xml`, `image/png`, `image/webp` or `image/jpeg`, by the file's extension.
    pub content_type: &'static str,
    pub bytes: std::sync::Arc<[u8]>,
}

impl Operator {
    /// What a public deployment still lacks, by configuration key.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.name.is_none() {
            out.push("operator.name");
        }
        if self.contact.is_none() {
            out.push("operator.contact");
        }
        if self.imprint.is_none() {
            out.push("operator.imprint_url or operator.imprint_file");
        }
        if self.privacy.is_none() {
            out.push("operator.privacy_url or operator.privacy_file");
        }
        if self.accessibility.is_none() {
            out.push("operator.accessibility_url or operator.accessibility_file");
        }
        if self.accessibility_feedback.is_none() {
            out.push("operator.accessibility_feedback");
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct HubConfig {
    /// The issuer: the hub's public URL without a trailing slash.
    pub issuer: String,
    pub lifetimes: Lifetimes,
    pub password_cost: Cost,
    /// Login attempts per account (and 6× that per IP address) in `login_window`.
    pub login_attempts: i64,
    pub login_window: Duration,
    /// Whether people may register themselves (otherwise admins add accounts).
    pub open_registration: bool,
    /// The initial access token for RFC 7591 dynamic registration; none disables it.
    pub registration_token: Option<String>,
    pub upstream: Vec<UpstreamProvider>,
    pub jobs: JobsConfig,
    /// How long one request to a data source may take.
    pub source_timeout: std::time::Duration,
    pub operator: std::sync::Arc<Operator>,
    pub portal: std::sync::Arc<Portal>,
}

/// The citizen portal's settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Portal {
    /// An XYZ tile URL (`…/{z}/{x}/{y}.png`) for the map. None by default: the map then shows
    /// the processes' markers on a blank ground and no page requests another host.
    pub map_tiles: Option<String>,
    /// What the tile source asks to be credited with.
    pub map_attribution: Option<String>,
    /// Postcode → (latitude, longitude), for "near me" by postcode; empty without a table.
    pub postcodes: std::collections::HashMap<String, (f64, f64)>,
    /// (Amtlicher Gemeindeschlüssel, name) of the municipalities a regional hub serves, for the
    /// portal's municipality choice.
    pub municipalities: Vec<(String, String)>,
}

impl Portal {
    /// The origin of the tile source, for the map page's Content-Security-Policy.
    pub fn tile_origin(&self) -> Option<String> {
        let url = url::Url::parse(self.map_tiles.as_deref()?).ok()?;
        Some(url.origin().ascii_serialization())
    }
}

impl HubConfig {
    /// How long retired keys stay published: until the last token they signed has expired.
    pub fn keep_retired(&self) -> Duration {
        Duration::seconds(self.lifetimes.access_token.max(self.lifetimes.id_token) + 60)
    }

    pub fn provider(&self) -> mitsprache_oidc::token::Provider {
        mitsprache_oidc::token::Provider { issuer: self.issuer.clone(), lifetimes: self.lifetimes }
    }
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            issuer: "http://127.0.0.1:8080".into(),
            lifetimes: Lifetimes::default(),
            password_cost: Cost::default(),
            login_attempts: 5,
            login_window: Duration::minutes(15),
            source_timeout: std::time::Duration::from_secs(30),
            operator: std::sync::Arc::new(Operator::default()),
            portal: std::sync::Arc::new(Portal::default()),
            open_registration: true,
            registration_token: None,
            upstream: Vec::new(),
            jobs: JobsConfig::default(),
        }
    }
}
