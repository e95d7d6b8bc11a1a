//! The hub's configuration: one typed struct. Values come from the defaults, then a TOML file
//! (`--config`), then `MITSPRACHE_…` environment variables (`__` separates nested keys, e.g.
//! `MITSPRACHE_MAIL__SMTP_HOST`), then command-line flags. Secrets can be read from a
//! file (`…_file` keys). Unknown keys are rejected and every error names the key.

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

const ENV_PREFIX: &str = "MITSPRACHE_";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// `sqlite://PATH` (embedded, default) or `postgres://USER@HOST/DB`.
    pub database: String,
    /// A file holding the database URL, for URLs with passwords; overrides `database`.
    pub database_file: Option<PathBuf>,
    /// The URL people and tools reach the hub at; `https://…` makes cookies `Secure`.
    pub public_url: String,
    pub log: LogConfig,
    pub catalogue: CatalogueConfig,
    pub identity: IdentityConfig,
    pub mail: MailConfig,
    pub jobs: JobsConfig,
    pub sources: SourcesConfig,
    pub operator: OperatorConfig,
    pub portal: PortalConfig,
}

/// The citizen portal: the map's tiles, postcodes for "near me", a region's municipalities.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalConfig {
    /// An https XYZ tile URL with {z}, {x} and {y}; unset, the map shows markers only and no
    /// page requests another host.
    pub map_tiles: Option<String>,
    pub map_attribution: Option<String>,
    /// A CSV file of `postcode,latitude,longitude` (`;` works too; a header line is skipped).
    pub postcodes_file: Option<PathBuf>,
    #[serde(default)]
    pub municipalities: Vec<MunicipalityName>,
    #[serde(skip)]
    pub postcodes: std::collections::HashMap<String, (f64, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MunicipalityName {
    /// The Amtlicher Gemeindeschlüssel (8 digits).
    pub ags: String,
    pub name: String,
}

impl PortalConfig {
    pub fn portal(&self) -> mitsprache_hub::Portal {
        let some = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        mitsprache_hub::Portal {
            map_tiles: some(&self.map_tiles),
            map_attribution: some(&self.map_attribution),
            postcodes: self.postcodes.clone(),
            municipalities: self.municipalities.iter().map(|m| (m.ags.clone(), m.name.clone())).collect(),
        }
    }
}

/// Reads a postcode table: one `postcode,latitude,longitude` a line; blank lines and a header
/// are skipped, any other line that does not read is an error naming its number.
pub fn read_postcodes(text: &str) -> anyhow::Result<std::collections::HashMap<String, (f64, f64)>> {
    let mut out = std::collections::HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split([',', ';', '\t']).map(str::trim).collect();
        let parsed = match fields.as_slice() {
            [code, lat, lon, ..] => match (lat.parse::<f64>(), lon.parse::<f64>()) {
                (Ok(lat), Ok(lon)) if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) => {
                    Some((code.to_string(), (lat, lon)))
                }
                _ => None,
            },
            _ => None,
        };
        match parsed {
            Some((code, at)) => {
                out.insert(code, at);
            }
            None if i == 0 => {}
            None => bail!("line {}: expected postcode,latitude,longitude", i + 1),
        }
    }
    Ok(out)
}

/// Pages show the logo in every header, so it is bounded; the type follows the extension, and
/// the hub serves it with a policy that runs nothing (an SVG may hold scripts).
fn read_logo(path: &std::path::Path) -> anyhow::Result<mitsprache_hub::Logo> {
    const MAX: u64 = 512 * 1024;
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let content_type = match extension.as_deref() {
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("jpg" | "jpeg") => "image/jpeg",
        _ => bail!("{}: must end in .svg, .png, .webp or .jpg", path.display()),
    };
    let size = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
    if size > MAX {
        bail!("{}: {size} bytes, at most {MAX}", path.display());
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(mitsprache_hub::Logo { content_type, bytes: bytes.into() })
}

/// Who runs the hub: shown in every page's footer, on the registration page and in mail. A
/// public deployment needs all of it; the hub warns at start about what is missing. Each legal
/// text is a link (`…_url`) or a plain-text file the hub shows as a page (`…_file`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    pub name: Option<String>,
    /// An e-mail address or a URL.
    pub contact: Option<String>,
    pub imprint_url: Option<String>,
    pub imprint_file: Option<PathBuf>,
    pub privacy_url: Option<String>,
    pub privacy_file: Option<PathBuf>,
    pub accessibility_url: Option<String>,
    pub accessibility_file: Option<PathBuf>,
    /// Where people report barriers: an e-mail address or a URL.
    pub accessibility_feedback: Option<String>,
    /// The header's logo: an SVG, PNG, WebP or JPEG file of at most 512 KiB.
    pub logo_file: Option<PathBuf>,
    /// The texts of the `…_file` keys, read at start.
    #[serde(skip)]
    pub texts: [Option<String>; 3],
    /// The logo, read at start.
    #[serde(skip)]
    pub logo: Option<mitsprache_hub::Logo>,
}

impl OperatorConfig {
    pub fn operator(&self) -> mitsprache_hub::Operator {
        use mitsprache_hub::LegalText;
        let legal = |url: &Option<String>, text: &Option<String>| {
            url.clone().map(LegalText::Url).or_else(|| text.clone().map(LegalText::Text))
        };
        let some = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        mitsprache_hub::Operator {
            name: some(&self.name),
            contact: some(&self.contact),
            imprint: legal(&self.imprint_url, &self.texts[0]),
            privacy: legal(&self.privacy_url, &self.texts[1]),
            accessibility: legal(&self.accessibility_url, &self.texts[2]),
            accessibility_feedback: some(&self.accessibility_feedback),
            logo: self.logo.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesConfig {
    /// How long a request to a data source may take before the sync tries it again.
    pub request_timeout_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsConfig {
    /// How long a running background job stays with its instance without a heartbeat: after a
    /// crash, the time until another instance takes it over.
    pub lease_seconds: i64,
    /// How often an idle instance looks for due jobs queued by other instances.
    pub poll_seconds: u64,
    /// Background jobs one instance runs at the same time.
    pub concurrency: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// Whether people may register themselves; otherwise admins add accounts.
    pub open_registration: bool,
    /// How long a login lasts.
    pub session_hours: i64,
    /// Failed logins allowed per account (six times as many per IP address) in the window.
    pub login_attempts: i64,
    pub login_window_minutes: i64,
    /// Initial access token for RFC 7591 dynamic client registration; unset disables it.
    pub registration_token: Option<String>,
    pub registration_token_file: Option<PathBuf>,
    /// Behind a reverse proxy: the header it puts the client address in (`X-Forwarded-For`);
    /// its last entry counts for login rate limits. Unset: the TCP peer address.
    pub client_ip_header: Option<String>,
    /// Upstream OpenID providers people may log in with (`[[identity.upstream]]`).
    #[serde(default)]
    pub upstream: Vec<UpstreamConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Short id in URLs and account links, e.g. `servicekonto-nrw`.
    pub id: String,
    /// Shown on the login button.
    pub name: String,
    /// The provider's issuer URL; its discovery document is read from there.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub client_secret_file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// Sender of the hub's mail.
    pub from: String,
    /// SMTP server; unset writes mail as .eml files to `outbox` instead (a first start).
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    /// `starttls`, `tls` (implicit, port 465) or `none` (only for a local relay).
    pub smtp_security: SmtpSecurity,
    pub smtp_user: Option<String>,
    pub smtp_password: Option<String>,
    pub smtp_password_file: Option<PathBuf>,
    pub outbox: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter, e.g. `info` or `mitsprache=debug,tower_http=info`.
    pub level: String,
    /// `text` for people, `json` for log collectors.
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueConfig {
    /// Load the bundled catalogue of real tools into an empty database on start.
    pub load_bundled: bool,
    /// How often an instance checks the database for catalogue changes made elsewhere.
    pub refresh_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: "sqlite://data/mitsprache.db".into(),
            database_file: None,
            public_url: "http://127.0.0.1:8080".into(),
            log: LogConfig { level: "info".into(), format: LogFormat::Text },
            catalogue: CatalogueConfig { load_bundled: true, refresh_seconds: 2 },
            identity: IdentityConfig {
                open_registration: true,
                session_hours: 12,
                login_attempts: 5,
                login_window_minutes: 15,
                registration_token: None,
                registration_token_file: None,
                client_ip_header: None,
                upstream: Vec::new(),
            },
            mail: MailConfig {
                from: "mitsprache <noreply@localhost>".into(),
                smtp_host: None,
                smtp_port: 587,
                smtp_security: SmtpSecurity::Starttls,
                smtp_user: None,
                smtp_password: None,
                smtp_password_file: None,
                outbox: "data/outbox".into(),
            },
            jobs: JobsConfig { lease_seconds: 30, poll_seconds: 1, concurrency: 8 },
            sources: SourcesConfig { request_timeout_seconds: 30 },
            operator: OperatorConfig::default(),
            portal: PortalConfig::default(),
        }
    }
}

/// Overrides from the command line; `None` leaves the configured value.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub database: Option<String>,
}

impl Config {
    /// Loads defaults, the file, the environment (`env` is passed in so tests need not touch
    /// the process environment) and the overrides, then reads secret files.
    pub fn load(file: Option<&Path>, env: &[(String, String)], overrides: &Overrides) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                bail!("configuration file {} does not exist", path.display());
            }
            figment = figment.merge(Toml::file(path));
        }
        for (name, value) in env {
            let Some(key) = name.strip_prefix(ENV_PREFIX) else { continue };
            let key = key.to_ascii_lowercase().replace("__", ".");
            // Parsed like figment's own Env provider: "true" is a bool, "2" a number.
            let value: figment::value::Value = value.parse().unwrap_or_else(|never| match never {});
            figment = figment.merge(Serialized::default(&key, value));
        }
        let mut config: Config = figment.extract().map_err(|e| anyhow::anyhow!(describe(&e)))?;
        if let Some(listen) = overrides.listen {
            config.listen = listen;
        }
        if let Some(db) = &overrides.database {
            config.database = db.clone();
        }
        if let Some(path) = &config.database_file {
            config.database = read_secret(path).context("key `database_file`")?;
        }
        if let Some(path) = &config.identity.registration_token_file {
            config.identity.registration_token =
                Some(read_secret(path).context("key `identity.registration_token_file`")?);
        }
        for (i, upstream) in config.identity.upstream.iter_mut().enumerate() {
            if let Some(path) = &upstream.client_secret_file {
                upstream.client_secret = Some(
                    read_secret(path).with_context(|| format!("key `identity.upstream[{i}].client_secret_file`"))?,
                );
            }
        }
        if let Some(path) = &config.mail.smtp_password_file {
            config.mail.smtp_password = Some(read_secret(path).context("key `mail.smtp_password_file`")?);
        }
        let o = &config.operator;
        let files = [
            ("imprint_file", &o.imprint_file),
            ("privacy_file", &o.privacy_file),
            ("accessibility_file", &o.accessibility_file),
        ];
        let mut texts: [Option<String>; 3] = Default::default();
        for (i, (key, path)) in files.into_iter().enumerate() {
            if let Some(path) = path {
                texts[i] = Some(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("key `operator.{key}`: cannot read {}", path.display()))?,
                );
            }
        }
        config.operator.texts = texts;
        if let Some(path) = &config.operator.logo_file {
            config.operator.logo = Some(read_logo(path).context("key `operator.logo_file`")?);
        }
        if let Some(path) = &config.portal.postcodes_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("key `portal.postcodes_file`: cannot read {}", path.display()))?;
            config.portal.postcodes = read_postcodes(&text).context("key `portal.postcodes_file`")?;
        }
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> anyhow::Result<()> {
        if let Some(tiles) = self.portal.map_tiles.as_deref().map(str::trim).filter(|t| !t.is_empty())
            && (!tiles.starts_with("https://") || !["{z}", "{x}", "{y}"].iter().all(|p| tiles.contains(p)))
        {
            bail!("key `portal.map_tiles`: must be an https URL with {{z}}, {{x}} and {{y}}, got `{tiles}`");
        }
        for m in &self.portal.municipalities {
            if !mitsprache_standard::check_ags(&m.ags) {
                bail!("key `portal.municipalities`: `{}` is not an Amtlicher Gemeindeschlüssel (8 digits)", m.ags);
            }
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            bail!("key `public_url`: must start with http:// or https://, got `{}`", self.public_url);
        }
        if !(self.database.starts_with("sqlite:")
            || self.database.starts_with("postgres://")
            || self.database.starts_with("postgresql://"))
        {
            bail!(
                "key `database`: must be sqlite://PATH or postgres://…, got `{}`",
                mitsprache_store::redact(&self.database)
            );
        }
        if let Some(token) = &self.identity.registration_token
            && token.len() < 32
        {
            bail!("key `identity.registration_token`: must have at least 32 characters");
        }
        if !(1..=24 * 30).contains(&self.identity.session_hours) {
            bail!("key `identity.session_hours`: must be between 1 and 720");
        }
        if self.identity.login_attempts < 1 || self.identity.login_window_minutes < 1 {
            bail!("keys `identity.login_attempts` and `identity.login_window_minutes`: must be at least 1");
        }
        for (i, u) in self.identity.upstream.iter().enumerate() {
            if u.id.is_empty() || !u.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
                bail!("key `identity.upstream[{i}].id`: lowercase letters, digits and hyphens only");
            }
            if !(u.issuer.starts_with("https://")
                || u.issuer.starts_with("http://127.0.0.1")
                || u.issuer.starts_with("http://localhost"))
            {
                bail!("key `identity.upstream[{i}].issuer`: must be https (http only on localhost)");
            }
            if u.client_secret.is_none() {
                bail!("key `identity.upstream[{i}].client_secret`: required (or client_secret_file)");
            }
        }
        if !self.mail.from.contains('@') {
            bail!("key `mail.from`: must contain an e-mail address, got `{}`", self.mail.from);
        }
        if self.catalogue.refresh_seconds == 0 {
            bail!("key `catalogue.refresh_seconds`: must be at least 1");
        }
        if !(2..=3600).contains(&self.jobs.lease_seconds) {
            bail!("key `jobs.lease_seconds`: must be between 2 and 3600");
        }
        if !(1..=60).contains(&self.jobs.poll_seconds) {
            bail!("key `jobs.poll_seconds`: must be between 1 and 60");
        }
        if !(1..=256).contains(&self.jobs.concurrency) {
            bail!("key `jobs.concurrency`: must be between 1 and 256");
        }
        let o = &self.operator;
        for (key, url) in [
            ("imprint_url", &o.imprint_url),
            ("privacy_url", &o.privacy_url),
            ("accessibility_url", &o.accessibility_url),
        ] {
            if url.as_deref().is_some_and(|u| !u.starts_with("https://") && !u.starts_with("http://")) {
                bail!("key `operator.{key}`: must be an http(s) URL");
            }
        }
        for (key, url, file) in [
            ("imprint", &o.imprint_url, &o.imprint_file),
            ("privacy", &o.privacy_url, &o.privacy_file),
            ("accessibility", &o.accessibility_url, &o.accessibility_file),
        ] {
            if url.is_some() && file.is_some() {
                bail!("keys `operator.{key}_url` and `operator.{key}_file`: set one of them");
            }
        }
        if !(1..=600).contains(&self.sources.request_timeout_seconds) {
            bail!("key `sources.request_timeout_seconds`: must be between 1 and 600");
        }
        Ok(())
    }

    /// The example configuration file (checked in as `config.example.toml`, kept equal by a test).
    pub fn example() -> String {
        // Written by hand to keep comments beside their keys; the test that loads the checked-in
        // file and compares it with the defaults notices a key that is missing here.
        let c = Config::default();
        let format = match c.log.format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        };
        [
            "# mitsprache configuration. Every key is optional; shown are the defaults.".to_owned(),
            "# Environment variables override this file: MITSPRACHE_LISTEN, MITSPRACHE_DATABASE,".into(),
            "# MITSPRACHE_MAIL__SMTP_HOST, … (`__` separates a section from its key).".into(),
            String::new(),
            format!("listen = \"{}\"", c.listen),
            "# sqlite://PATH (embedded) or postgres://USER@HOST/DB".into(),
            format!("database = \"{}\"", c.database),
            "# A file holding the database URL (for URLs with a password); overrides `database`.".into(),
            "# database_file = \"/run/secrets/database-url\"".into(),
            format!("public_url = \"{}\"", c.public_url),
            String::new(),
            "[log]".into(),
            format!("level = \"{}\"", c.log.level),
            "# text or json".into(),
            format!("format = \"{format}\""),
            String::new(),
            "[catalogue]".into(),
            "# Catalogue writes need an editor's access token with the scope catalogue:write: a machine".into(),
            "# client added with `mitsprache client add --grant client_credentials --role editor`, or a".into(),
            "# person with the editor role through a tool registered with `--scope catalogue:write`.".into(),
            format!("load_bundled = {}", c.catalogue.load_bundled),
            format!("refresh_seconds = {}", c.catalogue.refresh_seconds),
            String::new(),
            "[identity]".into(),
            "# Whether people may register themselves; otherwise admins add accounts (`mitsprache user add`).".into(),
            format!("open_registration = {}", c.identity.open_registration),
            format!("session_hours = {}", c.identity.session_hours),
            "# Failed logins per account (six times as many per IP address) within the window.".into(),
            format!("login_attempts = {}", c.identity.login_attempts),
            format!("login_window_minutes = {}", c.identity.login_window_minutes),
            "# Initial access token for RFC 7591 dynamic client registration (at least 32 characters).".into(),
            "# registration_token = \"…\"".into(),
            "# registration_token_file = \"/run/secrets/registration-token\"".into(),
            String::new(),
            "# Behind a reverse proxy: the header it writes the client address to; its last entry counts".into(),
            "# for the per-IP login limit. Only set it when every request passes that proxy.".into(),
            "# client_ip_header = \"X-Forwarded-For\"".into(),
            "# Upstream OpenID providers people may log in with; repeat the table for each.".into(),
            "# [[identity.upstream]]".into(),
            "# id = \"servicekonto\"".into(),
            "# name = \"Servicekonto NRW\"".into(),
            "# issuer = \"https://servicekonto.example\"".into(),
            "# client_id = \"mitsprache\"".into(),
            "# client_secret_file = \"/run/secrets/servicekonto-secret\"".into(),
            String::new(),
            "[mail]".into(),
            format!("from = \"{}\"", c.mail.from),
            "# Without smtp_host, mail is written as .eml files to `outbox` (and the log says so).".into(),
            "# smtp_host = \"mail.example.org\"".into(),
            format!("smtp_port = {}", c.mail.smtp_port),
            "# starttls, tls (implicit, port 465) or none (only for a local relay)".into(),
            "smtp_security = \"starttls\"".into(),
            "# smtp_user = \"hub\"".into(),
            "# smtp_password_file = \"/run/secrets/smtp-password\"".into(),
            format!("outbox = \"{}\"", c.mail.outbox.display()),
            String::new(),
            "[jobs]".into(),
            "# Background jobs (back-channel logouts, housekeeping) run on whichever instance claims them.".into(),
            "# A job whose instance dies is taken over by another once its lease has run out.".into(),
            format!("lease_seconds = {}", c.jobs.lease_seconds),
            format!("poll_seconds = {}", c.jobs.poll_seconds),
            format!("concurrency = {}", c.jobs.concurrency),
            String::new(),
            "[operator]".into(),
            "# Who runs this hub: every page's footer, the registration page and every mail show it. A public".into(),
            "# deployment needs all of it (the hub warns at start). Legal texts are a link or a plain-text file."
                .into(),
            "# name = \"Stadt Musterstadt\"".into(),
            "# contact = \"beteiligung@musterstadt.de\"".into(),
            "# imprint_url = \"https://www.musterstadt.de/impressum\"".into(),
            "# privacy_file = \"/etc/mitsprache/datenschutz.txt\"".into(),
            "# accessibility_file = \"/etc/mitsprache/barrierefreiheit.txt\"".into(),
            "# accessibility_feedback = \"barrierefreiheit@musterstadt.de\"".into(),
            "# The header's logo (SVG, PNG, WebP or JPEG, at most 512 KiB), served by the hub itself:".into(),
            "# logo_file = \"/etc/mitsprache/logo.svg\"".into(),
            String::new(),
            "[portal]".into(),
            "# The map of the processes. Without a tile source it shows the markers on a blank ground, and no".into(),
            "# page requests another host. basemap.de (BKG) is one German open base map:".into(),
            "# map_tiles = \"https://sgx.geodatenzentrum.de/wmts_basemapde/tile/1.0.0/de_basemapde_web_raster_farbe/default/GLOBAL_WEBMERCATOR/{z}/{y}/{x}.png\"".into(),
            "# map_attribution = \"© basemap.de / BKG\"".into(),
            "# \"Near me\" by postcode: a CSV of postcode,latitude,longitude (e.g. from OpenStreetMap).".into(),
            "# postcodes_file = \"/etc/mitsprache/postleitzahlen.csv\"".into(),
            "# The municipalities of a regional hub, by name in the portal's choice:".into(),
            "# municipalities = [{ ags = \"05315000\", name = \"Köln\" }]".into(),
            String::new(),
            "[sources]".into(),
            "# The tools the hub pulls data from (mitsprache source add). A request that takes longer is tried again."
                .into(),
            format!("request_timeout_seconds = {}", c.sources.request_timeout_seconds),
            String::new(),
        ]
        .join("\n")
    }
}

fn read_secret(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value = text.trim().to_owned();
    if value.is_empty() {
        bail!("{} is empty", path.display());
    }
    Ok(value)
}

/// figment's messages name the key as `default.x.y` or the env var; make them read as ours.
fn describe(e: &figment::Error) -> String {
    e.clone()
        .into_iter()
        .map(|err| {
            let key = if err.path.is_empty() { String::new() } else { format!("key `{}`: ", err.path.join(".")) };
            let source = err.metadata.as_ref().map(|m| format!(" (from {})", m.name)).unwrap_or_default();
            format!("{key}{}{source}", err.kind)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()
    }

    #[test]
    fn defaults_apply_without_file_or_environment() {
        let c = Config::load(None, &[], &Overrides::default()).unwrap();
        assert_eq!(c, Config::default());
    }

    #[test]
    fn environment_overrides_nested_keys() {
        let c = Config::load(
            None,
            &env(&[("MITSPRACHE_MAIL__SMTP_HOST", "mail.example.org"), ("MITSPRACHE_LISTEN", "127.0.0.1:9000")]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.mail.smtp_host.as_deref(), Some("mail.example.org"));
        assert_eq!(c.listen.port(), 9000);
    }

    #[test]
    fn a_wrong_value_names_its_key() {
        let err =
            Config::load(None, &env(&[("MITSPRACHE_LISTEN", "not-an-address")]), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("key `listen`"), "{err}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:8081\"\n[mail]\nsmtp_hots = \"x\"\n").unwrap();
        let err = Config::load(Some(&path), &[], &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("smtp_hots"), "{err}");
    }

    #[test]
    fn secrets_can_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "fedcba9876543210fedcba9876543210fedcba\n").unwrap();
        let c = Config::load(
            None,
            &env(&[("MITSPRACHE_IDENTITY__REGISTRATION_TOKEN_FILE", token.to_str().unwrap())]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.identity.registration_token.as_deref(), Some("fedcba9876543210fedcba9876543210fedcba"));
    }

    #[test]
    fn the_operator_logo_is_read_with_its_type_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let load = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            Config::load(
                None,
                &env(&[("MITSPRACHE_OPERATOR__LOGO_FILE", path.to_str().unwrap())]),
                &Overrides::default(),
            )
        };
        let c = load("logo.PNG", b"\x89PNG\r\n").unwrap();
        let logo = c.operator.operator().logo.unwrap();
        assert_eq!((logo.content_type, &*logo.bytes), ("image/png", &b"\x89PNG\r\n"[..]));
        let gif = load("logo.gif", b"GIF89a").unwrap_err();
        assert!(format!("{gif:#}").contains("operator.logo_file"), "{gif:#}");
        let large = load("logo.svg", &vec![b' '; 512 * 1024 + 1]).unwrap_err();
        assert!(format!("{large:#}").contains("at most"), "{large:#}");
    }

    #[test]
    fn the_portal_reads_its_postcodes_and_checks_its_tiles() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plz.csv");
        std::fs::write(&path, "plz;lat;lon\n50667;50.9375;6.9603\n\n53111;50.7374;7.0982\n").unwrap();
        let c = Config::load(
            None,
            &env(&[("MITSPRACHE_PORTAL__POSTCODES_FILE", path.to_str().unwrap())]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.portal.postcodes.get("53111"), Some(&(50.7374, 7.0982)));
        assert_eq!(c.portal.postcodes.len(), 2);
        std::fs::write(&path, "50667;50.9375;6.9603\n53111;north;7.0982\n").unwrap();
        let err = Config::load(
            None,
            &env(&[("MITSPRACHE_PORTAL__POSTCODES_FILE", path.to_str().unwrap())]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("line 2"), "{err:#}");
        // Tiles over plain http, or without the tile coordinates, are refused at start.
        for tiles in ["http://tiles.example/{z}/{x}/{y}.png", "https://tiles.example/tile.png"] {
            let err = Config::load(None, &env(&[("MITSPRACHE_PORTAL__MAP_TILES", tiles)]), &Overrides::default())
                .unwrap_err();
            assert!(err.to_string().contains("portal.map_tiles"), "{err}");
        }
    }

    #[test]
    fn short_registration_tokens_are_refused() {
        let err =
            Config::load(None, &env(&[("MITSPRACHE_IDENTITY__REGISTRATION_TOKEN", "short")]), &Overrides::default())
                .unwrap_err();
        assert!(err.to_string().contains("identity.registration_token"), "{err}");
    }

    #[test]
    fn the_checked_in_example_is_current_and_loads() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config.example.toml");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(on_disk, Config::example(), "regenerate with `mitsprache config example > config.example.toml`");
        let loaded = Config::load(Some(Path::new(path)), &[], &Overrides::default()).unwrap();
        assert_eq!(loaded, Config::default());
    }
}
