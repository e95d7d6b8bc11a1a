//! The marketplace records: a participation tool, an interface, and the controlled vocabulary.
//!
//! Every group of facts carries its own source and as-of date ([`Sourced`]); a group or a single
//! value that nobody has published is [`Known::Unknown`] and shown as "keine Angabe". The
//! serialised form of these types is the catalogue file format, the JSON API and the export, so
//! a change here is a contract change (the OpenAPI snapshot test shows it).

use mitsprache_domain::{Known, LocalizedText, Slug, Sourced};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A participation tool (Beteiligungswerkzeug) as listed in the marketplace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    #[schema(value_type = String, example = "decidim", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    pub slug: Slug,
    #[schema(min_length = 1)]
    pub name: String,
    pub vendor: Vendor,
    pub short_description: LocalizedText,
    pub description: LocalizedText,
    #[schema(pattern = r"^https?://\S+$")]
    pub website: String,
    /// Public source repository; `unknown` when not found, `null` when the tool is closed source.
    #[schema(schema_with = known_opt_string)]
    pub source_repository: Known<Option<String>>,
    #[schema(schema_with = known_licence)]
    pub licence: Known<Licence>,
    pub functions: FunctionList,
    #[schema(schema_with = known_process_types)]
    pub process_types: Known<ProcessTypeList>,
    #[schema(schema_with = known_hosting)]
    pub hosting: Known<Hosting>,
    #[schema(schema_with = known_costs)]
    pub costs: Known<Costs>,
    #[schema(schema_with = known_training)]
    pub training: Known<Training>,
    #[schema(schema_with = known_accessibility)]
    pub accessibility: Known<Accessibility>,
    #[schema(schema_with = known_data_protection)]
    pub data_protection: Known<DataProtection>,
    #[schema(schema_with = known_languages)]
    pub languages: Known<Languages>,
    #[schema(schema_with = known_multi_tenancy)]
    pub multi_tenancy: Known<MultiTenancy>,
    #[serde(default)]
    pub interfaces: Vec<ToolInterface>,
    #[serde(default)]
    pub references: Vec<Reference>,
    /// Certificates and attestations of the tool or its vendor (e.g. BSI, ISO/IEC 27001): facts
    /// for suitability (Eignung), never award criteria.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certifications: Vec<Certification>,
    /// Facts from the tool's publiccode.yml, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publiccode: Option<PubliccodeInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Vendor {
    #[schema(min_length = 1)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Where the vendor takes questions about the tool, as the vendor publishes it: where a
    /// "beim Anbieter anfragen" goes when no vendor account is linked to the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// A published e-mail address for enquiries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A published contact page or form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(flatten)]
    pub sourced: Sourced,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Licence {
    /// SPDX identifier, or `LicenseRef-proprietary` for closed software.
    pub spdx: String,
    /// Whether the licence is an open-source licence (OSI-approved).
    pub open_source: bool,
    #[serde(flatten)]
    pub sourced: Sourced,
}

impl Licence {
    pub const PROPRIETARY: &'static str = "LicenseRef-proprietary";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionList {
    /// Keys of the function taxonomy (`proposals`, `participatory-budgeting`, …).
    pub values: Vec<String>,
    #[serde(flatten)]
    pub sourced: Sourced,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessTypeList {
    /// Keys of the process-type taxonomy (`urban-planning`, `formal-planning`, …).
    pub values: Vec<String>,
    #[serde(flatten)]
    pub sourced: Sourced,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Hosting {
    /// Offered as software as a service by the vendor.
    #[schema(schema_with = known_bool)]
    pub saas: Known<bool>,
    /// Can be operated by the municipality or its IT service provider.
    #[schema(schema_with = known_bool)]
    pub self_hosted: Known<bool>,
    /// The vendor's hosted offer runs in data centres in Germany.
    #[schema(schema_with = known_bool)]
    pub hosted_in_germany: Known<bool>,
    #[serde(flatten)]
    pub sourced: Sourced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CostModel {
    /// No charge for municipalities (e.g. a state service, or open source without a paid offer).
    Free,
    /// Open source; costs arise only from hosting and services the municipality buys.
    OpenSourceSelfOperated,
    Subscription,
    Licence,
    /// Priced per project or contract on request.
    OnRequest,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EuroRange {
    pub min: f64,
    pub max: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Costs {
    pub model: CostModel,
    #[schema(schema_with = known_range)]
    pub one_time_eur: Known<EuroRange>,
    #[schema(schema_with = known_range)]
    pub yearly_eur: Known<EuroRange>,
    /// What the price includes (hosting, support, updates, training …).
    #[schema(schema_with = known_text)]
    pub included: Known<LocalizedText>,
    #[serde(flatten)]
    pub sourced: Sourced,
    /// Amounts that public documents state for a concrete offer, each with its own source: a
    /// price list, a tender award, a council paper, a funding report. A hosted offer of an open
    /// source tool by a service provider is a figure of that provider's offer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub figures: Vec<CostFigure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CostFigure {
    pub kind: CostFigureKind,
    /// Who offers what the figure is the price of, when not the tool's vendor (a service
    /// provider hosting an open-source tool, a state paying for a state portal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<String>,
    pub min: f64,
    pub max: f64,
    /// ISO 4217 code, e.g. `EUR`, `CHF`.
    pub currency: String,
    pub per: CostPeriod,
    /// The municipality (or body) the figure was paid or estimated by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipality: Option<String>,
    /// Inhabitants of that municipality, for comparing sizes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<u64>,
    /// What the amount covers, as the source says (licence, hosting, setup, support, term).
    pub included: LocalizedText,
    #[serde(flatten)]
    pub sourced: Sourced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CostFigureKind {
    /// The vendor's published prices.
    PriceList,
    /// A public award notice (TED, a Land's procurement platform).
    TenderAward,
    /// A municipality's council or committee paper (an estimate or what it paid).
    CouncilPaper,
    /// A funding programme's report or notice.
    FundingReport,
    /// A newspaper or trade-press report.
    PressReport,
    /// The vendor's own statement, published after review.
    VendorStatement,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CostPeriod {
    OneTime,
    Month,
    Year,
    /// For a whole contract or project whose duration the source does not state.
    Total,
}

/// The cost bands the marketplace facets on; derived, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CostBand {
    /// No licence or subscription fee.
    NoFee,
    /// Up to 5,000 EUR a year.
    Low,
    /// Up to 25,000 EUR a year.
    Medium,
    /// More than 25,000 EUR a year.
    High,
    Unknown,
}

impl CostBand {
    pub const ALL: [CostBand; 5] =
        [CostBand::NoFee, CostBand::Low, CostBand::Medium, CostBand::High, CostBand::Unknown];

    pub fn key(self) -> &'static str {
        match self {
            CostBand::NoFee => "no-fee",
            CostBand::Low => "low",
            CostBand::Medium => "medium",
            CostBand::High => "high",
            CostBand::Unknown => "unknown",
        }
    }

    pub fn from_key(key: &str) -> Option<CostBand> {
        CostBand::ALL.into_iter().find(|b| b.key() == key)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Training {
    #[schema(schema_with = known_f64)]
    pub hours_admin: Known<f64>,
    #[schema(schema_with = known_f64)]
    pub hours_moderator: Known<f64>,
    #[schema(schema_with = known_f64)]
    pub hours_citizen: Known<f64>,
    /// Manuals, courses, videos offered.
    #[schema(schema_with = known_text)]
    pub materials: Known<LocalizedText>,
    #[serde(flatten)]
    pub sourced: Sourced,
    /// Published training offers, each with its own source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offers: Vec<TrainingOffer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainingOffer {
    pub kind: TrainingKind,
    /// Who the offer is for; empty when the source does not say.
    #[serde(default)]
    pub roles: Vec<TrainingRole>,
    pub title: LocalizedText,
    /// Length in hours, as published.
    #[schema(schema_with = known_f64)]
    pub hours: Known<f64>,
    /// Whether the offer is free of charge for customers.
    #[schema(schema_with = known_bool)]
    pub free_of_charge: Known<bool>,
    /// The offer itself (course page, manual).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(flatten)]
    pub sourced: Sourced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TrainingKind {
    /// A course in person or online with a trainer.
    Course,
    Webinar,
    /// A manual or handbook.
    Manual,
    Video,
    /// A collection of courses and materials (an academy, a knowledge base).
    Academy,
    /// Guided set-up of the first project.
    Onboarding,
    Helpdesk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TrainingRole {
    Admin,
    Moderator,
    Citizen,
}

/// Claimed conformance, ordered so that matching can ask for "at least".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
pub enum WcagLevel {
    #[serde(rename = "none")]
    None,
    A,
    AA,
    AAA,
}

impl WcagLevel {
    pub fn key(self) -> &'static str {
        match self {
            WcagLevel::None => "none",
            WcagLevel::A => "A",
            WcagLevel::AA => "AA",
            WcagLevel::AAA => "AAA",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Accessibility {
    /// Standard the claim refers to, e.g. "WCAG 2.1", "BITV 2.0".
    pub standard: String,
    pub claimed_level: WcagLevel,
    /// The vendor's accessibility statement (Erklärung zur Barrierefreiheit), if one exists.
    #[schema(schema_with = known_opt_string)]
    pub statement_url: Known<Option<String>>,
    #[serde(flatten)]
    pub sourced: Sourced,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataProtection {
    /// Where the vendor's hosted offer keeps data; for self-hosted tools the operator decides.
    #[schema(schema_with = known_string)]
    pub data_location: Known<String>,
    /// Whether the vendor offers a processor agreement (Auftragsverarbeitungsvertrag, Art. 28 DSGVO).
    #[schema(schema_with = known_bool)]
    pub processor_agreement: Known<bool>,
    #[serde(flatten)]
    pub sourced: Sourced,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Languages {
    /// BCP 47 tags of the languages the user interface is offered in.
    pub values: Vec<String>,
    #[serde(flatten)]
    pub sourced: Sourced,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MultiTenancy {
    pub supported: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<LocalizedText>,
    #[serde(flatten)]
    pub sourced: Sourced,
}

/// A tool's link to an interface record: the tool implements that interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolInterface {
    /// Slug of the interface record.
    pub interface: String,
    /// Whether the tool provides (`out`), consumes (`in`) or does both through this interface.
    pub direction: Direction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<LocalizedText>,
    #[serde(flatten)]
    pub sourced: Sourced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
    Both,
}

/// A municipality or organisation that uses the tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(flatten)]
    pub sourced: Sourced,
}

/// A certificate or attestation, e.g. "BSI-Zertifizierung des Online-Wahlverfahrens".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Certification {
    pub name: String,
    #[serde(flatten)]
    pub sourced: Sourced,
}

/// An interface (Schnittstelle): a login protocol, a provisioning or data standard, an API, or
/// webhooks, with the specification it follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    #[schema(value_type = String, example = "open311-georeport-v2", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    pub slug: Slug,
    #[schema(min_length = 1)]
    pub name: String,
    pub kind: InterfaceKind,
    pub description: LocalizedText,
    #[schema(pattern = r"^https?://\S+$")]
    pub specification_url: String,
    /// The direction data usually flows, seen from the tool that implements it.
    pub direction: Direction,
    #[serde(flatten)]
    pub sourced: Sourced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum InterfaceKind {
    LoginOidc,
    LoginOauth2,
    LoginSaml,
    ProvisioningScim,
    DataStandard,
    DataOpen311,
    DataOparl,
    DataXbeteiligung,
    DataExportFile,
    DataApi,
    Webhooks,
}

impl InterfaceKind {
    pub const ALL: [InterfaceKind; 11] = [
        InterfaceKind::LoginOidc,
        InterfaceKind::LoginOauth2,
        InterfaceKind::LoginSaml,
        InterfaceKind::ProvisioningScim,
        InterfaceKind::DataStandard,
        InterfaceKind::DataOpen311,
        InterfaceKind::DataOparl,
        InterfaceKind::DataXbeteiligung,
        InterfaceKind::DataExportFile,
        InterfaceKind::DataApi,
        InterfaceKind::Webhooks,
    ];

    pub fn key(self) -> &'static str {
        match self {
            InterfaceKind::LoginOidc => "login-oidc",
            InterfaceKind::LoginOauth2 => "login-oauth2",
            InterfaceKind::LoginSaml => "login-saml",
            InterfaceKind::ProvisioningScim => "provisioning-scim",
            InterfaceKind::DataStandard => "data-standard",
            InterfaceKind::DataOpen311 => "data-open311",
            InterfaceKind::DataOparl => "data-oparl",
            InterfaceKind::DataXbeteiligung => "data-xbeteiligung",
            InterfaceKind::DataExportFile => "data-export-file",
            InterfaceKind::DataApi => "data-api",
            InterfaceKind::Webhooks => "webhooks",
        }
    }
}

/// One term of a controlled vocabulary, with labels in both languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Term {
    pub key: String,
    pub label: LocalizedText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LocalizedText>,
}

/// The controlled vocabularies; data, not code, so editors can extend them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    pub functions: Vec<Term>,
    pub process_types: Vec<Term>,
}

impl Taxonomy {
    pub fn function(&self, key: &str) -> Option<&Term> {
        self.functions.iter().find(|t| t.key == key)
    }

    pub fn process_type(&self, key: &str) -> Option<&Term> {
        self.process_types.iter().find(|t| t.key == key)
    }
}

/// The publiccode.yml facts the hub keeps so that an exported file says what the imported one
/// said (development status, maintenance, features). Participation facts stay in [`Tool`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PubliccodeInfo {
    /// `concept`, `development`, `beta`, `stable` or `obsolete`.
    pub development_status: String,
    /// e.g. `standalone/web`.
    pub software_type: String,
    #[serde(default)]
    pub platforms: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    /// Features as the vendor words them, per language tag.
    #[serde(default)]
    pub features: std::collections::BTreeMap<String, Vec<String>>,
    /// `internal`, `contract`, `community` or `none`.
    pub maintenance_type: String,
    /// Names of the maintainers (contacts or contractors).
    #[serde(default)]
    pub maintainers: Vec<String>,
    #[serde(flatten)]
    pub sourced: Sourced,
}

/// OpenAPI schemas for `Known<T>`: either the string `"unknown"` or the value itself.
mod known_schemas {
    use super::*;
    use utoipa::PartialSchema;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};

    fn known(inner: RefOr<Schema>) -> Schema {
        let unknown = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["unknown"]))
            .description(Some("Not published; never guessed."));
        // anyOf, not oneOf: for string-valued facts "unknown" also matches the inner schema.
        Schema::AnyOf(AnyOfBuilder::new().item(unknown).item(inner).build())
    }

    macro_rules! helpers {
        ($($name:ident => $ty:ty),* $(,)?) => { $(pub fn $name() -> Schema { known(<$ty as PartialSchema>::schema()) })* };
    }

    helpers! {
        known_licence => Licence,
        known_process_types => ProcessTypeList,
        known_hosting => Hosting,
        known_costs => Costs,
        known_training => Training,
        known_accessibility => Accessibility,
        known_data_protection => DataProtection,
        known_languages => Languages,
        known_multi_tenancy => MultiTenancy,
        known_bool => bool,
        known_f64 => f64,
        known_string => String,
        known_range => EuroRange,
        known_text => LocalizedText,
    }

    pub fn known_opt_string() -> Schema {
        let url = ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]));
        known(RefOr::T(Schema::Object(url.build())))
    }
}
use known_schemas::*;
