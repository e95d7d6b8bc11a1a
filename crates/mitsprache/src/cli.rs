//! The command line: `serve`, `migrate`, `catalogue import|export|report`, `user`, `client`,
//! `keys`, `jobs`, `source add|list`, `sync`, `config example`.

use crate::commands;
use crate::config::{Config, Overrides};
use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "mitsprache", version, about = "The open hub of a participation ecosystem for municipalities")]
struct Cli {
    /// Configuration file (TOML).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, global = true, value_name = "URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process; boxing the large variant would only obscure the clap definition.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the hub (migrates the database; loads the bundled catalogue into an empty one).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Write example processes and contributions (source `demo`) on the first start, so the
        /// portal has something to show; never for a public hub.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Import or export the marketplace catalogue.
    Catalogue {
        #[command(subcommand)]
        command: CatalogueCommand,
    },
    /// Accounts: add one (password from standard input or a file), change a role.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Tools that log people in through the hub (OpenID Connect clients).
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Signing keys of the OpenID provider.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Background jobs (back-channel logouts, housekeeping).
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Tools the hub pulls standard data from (processes, contributions).
    Source {
        #[command(subcommand)]
        command: SourceCommand,
    },
    /// Pull one source now; exits 0 when the sync completed.
    Sync {
        /// The source's name (see `mitsprache source list`).
        name: String,
    },
    /// Generated example data for trying the portal and for its benchmark.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum CatalogueCommand {
    /// Import catalogue JSON or publiccode.yml files (a file or a folder), all or nothing.
    Import {
        path: PathBuf,
        /// Check the files and report, without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Export the catalogue.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        /// File (json) or folder (publiccode); json goes to standard output without it.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// What the catalogue can answer: per fact the share of tools with a sourced value, and per
    /// tool the facts still unknown.
    Report {
        /// Report on the catalogue built into this binary instead of the database's.
        #[arg(long)]
        bundled: bool,
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Json,
    Publiccode,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Citizen,
    Editor,
    Admin,
}

impl From<RoleArg> for mitsprache_domain::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Citizen => mitsprache_domain::Role::Citizen,
            RoleArg::Editor => mitsprache_domain::Role::Editor,
            RoleArg::Admin => mitsprache_domain::Role::Admin,
        }
    }
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account with a verified address; the password comes from --password-file or stdin.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum, default_value_t = RoleArg::Citizen)]
        role: RoleArg,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Give an account another role.
    Role {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
}

// Parsed once per process; boxing the large variant would only obscure the clap definition.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum ClientCommand {
    /// Register a tool; prints its client id and secret as JSON (the secret is shown only once).
    Add {
        #[arg(long)]
        name: String,
        #[arg(long = "redirect-uri", value_name = "URI")]
        redirect_uris: Vec<String>,
        #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
        post_logout_redirect_uris: Vec<String>,
        /// authorization_code, refresh_token, client_credentials (repeatable; default: the first two).
        #[arg(long = "grant", value_name = "GRANT")]
        grants: Vec<String>,
        /// client_secret_basic (default), client_secret_post or none (public clients).
        #[arg(long)]
        auth_method: Option<String>,
        #[arg(long, value_name = "URI")]
        backchannel_logout_uri: Option<String>,
        /// Where the portal's "Mitmachen" starts a login at the tool (OIDC Core §4), so that a
        /// signed-in citizen arrives signed in.
        #[arg(long, value_name = "URI")]
        initiate_login_uri: Option<String>,
        /// The tool's RFC 8935 receiver for deletion events (RISC account-purged SETs).
        #[arg(long, value_name = "URL", conflicts_with = "scim_base_url")]
        ssf_endpoint_url: Option<String>,
        /// The Authorization header sent with every deletion event (e.g. "Bearer …").
        #[arg(long, value_name = "VALUE", requires = "ssf_endpoint_url")]
        ssf_authorization_header: Option<String>,
        /// The tool's SCIM 2.0 base URL: deletions become DELETE /Users/{id}.
        #[arg(long, value_name = "URL")]
        scim_base_url: Option<String>,
        #[arg(long, value_name = "VALUE", requires = "scim_base_url")]
        scim_authorization_header: Option<String>,
        /// The host pairwise subjects are computed for, when redirect URIs span several hosts.
        #[arg(long, value_name = "HOST", conflicts_with = "sector_identifier_uri")]
        sector: Option<String>,
        /// An https URL serving a JSON array of the tool's redirect URIs (OIDC Core §8.1); its
        /// host becomes the sector.
        #[arg(long, value_name = "URI")]
        sector_identifier_uri: Option<String>,
        /// Skip the consent screen (the municipality's own or contracted tools).
        #[arg(long)]
        first_party: bool,
        /// Give this tool the hub-wide account id as subject instead of a pairwise one.
        #[arg(long)]
        public_subject: bool,
        /// The role a machine client (client_credentials) acts with, e.g. editor for catalogue writes.
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
        /// Sign this tool's ID tokens with RS256 instead of ES256 (for relying parties without ECDSA).
        #[arg(long, value_name = "ALG")]
        id_token_alg: Option<String>,
        /// `required` (default) or `optional`: the weaker option, for confidential tools whose login
        /// library sends no PKCE (stock OmniAuth); such a tool must send a nonce instead.
        #[arg(long, value_name = "REQUIRED|OPTIONAL")]
        pkce: Option<String>,
        /// A scope beyond OpenID Connect's the tool may ask for, e.g. catalogue:write or data:write (repeatable).
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// A resource server (RFC 8707) a machine client may ask tokens for (repeatable).
        #[arg(long = "resource", value_name = "URI")]
        resources: Vec<String>,
    },
    /// List registered tools.
    List,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add new signing keys (ES256, RS256); old public keys stay published until their tokens expire.
    Rotate,
}

#[derive(Subcommand)]
enum JobsCommand {
    /// List background jobs, newest first, with their state and last error.
    List {
        /// Only jobs of this kind, e.g. logout.backchannel.
        #[arg(long)]
        kind: Option<String>,
        /// How many, from 1 to 10000.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum SourceCommand {
    /// Add a source; prints it as JSON. Its sync runs every --interval minutes as a job.
    Add {
        /// decidim, consul, dipas, open311, govocal, meinberlin, limesurvey or oparl.
        #[arg(long)]
        kind: String,
        /// How the records' `source` reads, e.g. decidim-koeln (lower case, digits, hyphens).
        #[arg(long)]
        name: String,
        /// The tool's base URL (Decidim's GraphQL is at BASE/api, Open311 at BASE/requests.json).
        #[arg(long)]
        url: String,
        /// The Amtlicher Gemeindeschlüssel of the municipality (8 digits).
        #[arg(long)]
        municipality: Option<String>,
        /// A JSON file with the source's credentials, for tools whose API needs them.
        #[arg(long, value_name = "FILE")]
        credentials_file: Option<PathBuf>,
        /// Minutes between syncs, 5 to 10080.
        #[arg(long, default_value_t = 60)]
        interval: i64,
    },
    /// List the sources with their latest sync.
    List,
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Write example processes and contributions (source `demo`, every title says "Beispiel");
    /// the same seed writes the same records, again over the ones it wrote before.
    Generate {
        #[arg(long, default_value_t = 200)]
        processes: u64,
        #[arg(long, default_value_t = 2_000)]
        contributions: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print an example configuration file with the defaults.
    Example,
}

/// Parses the arguments and runs the command; the process exit code comes from the result.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let env: Vec<(String, String)> = std::env::vars().collect();
    let listen = match &cli.command {
        Command::Serve { listen, .. } => *listen,
        _ => None,
    };
    if let Command::Config { command: ConfigCommand::Example } = cli.command {
        return commands::write_stdout(&Config::example());
    }
    let config = Config::load(cli.config.as_deref(), &env, &Overrides { listen, database: cli.database.clone() })?;
    crate::telemetry::init(&config.log)?;
    match cli.command {
        Command::Serve { demo, .. } => commands::serve(&config, demo).await,
        Command::Migrate => commands::migrate(&config).await,
        Command::Catalogue { command: CatalogueCommand::Import { path, dry_run } } => {
            commands::import(&config, &path, dry_run).await
        }
        Command::Catalogue { command: CatalogueCommand::Export { format, output } } => {
            commands::export(&config, format, output.as_deref()).await
        }
        Command::Catalogue { command: CatalogueCommand::Report { bundled, format } } => {
            commands::report(&config, bundled, format).await
        }
        Command::User { command: UserCommand::Add { email, role, name, password_file } } => {
            commands::identity::user_add(&config, &email, role.into(), name.as_deref(), password_file.as_deref()).await
        }
        Command::User { command: UserCommand::Role { email, role } } => {
            commands::identity::user_role(&config, &email, role.into()).await
        }
        Command::Client {
            command:
                ClientCommand::Add {
                    name,
                    redirect_uris,
                    post_logout_redirect_uris,
                    grants,
                    auth_method,
                    backchannel_logout_uri,
                    initiate_login_uri,
                    ssf_endpoint_url,
                    ssf_authorization_header,
                    scim_base_url,
                    scim_authorization_header,
                    sector,
                    sector_identifier_uri,
                    first_party,
                    public_subject,
                    role,
                    id_token_alg,
                    pkce,
                    scopes,
                    resources,
                },
        } => {
            let args = commands::identity::ClientArgs {
                name: &name,
                redirect_uris: &redirect_uris,
                post_logout_redirect_uris: &post_logout_redirect_uris,
                grants: &grants,
                auth_method: auth_method.as_deref(),
                backchannel_logout_uri: backchannel_logout_uri.as_deref(),
                initiate_login_uri,
                deletion_receiver: mitsprache_oidc::client::deletion_receiver(
                    ssf_endpoint_url,
                    ssf_authorization_header,
                    scim_base_url,
                    scim_authorization_header,
                )?,
                sector: sector.as_deref(),
                sector_identifier_uri: sector_identifier_uri.as_deref(),
                first_party,
                public_subject,
                machine_role: role.map(Into::into),
                id_token_alg: id_token_alg.as_deref(),
                pkce: pkce.as_deref(),
                scopes: &scopes,
                resources: &resources,
            };
            commands::identity::client_add(&config, args).await
        }
        Command::Client { command: ClientCommand::List } => commands::identity::client_list(&config).await,
        Command::Keys { command: KeysCommand::Rotate } => commands::identity::keys_rotate(&config).await,
        Command::Jobs { command: JobsCommand::List { kind, limit } } => {
            commands::identity::jobs_list(&config, kind.as_deref(), limit).await
        }
        Command::Source {
            command: SourceCommand::Add { kind, name, url, municipality, credentials_file, interval },
        } => {
            let args = commands::sources::SourceArgs {
                kind: &kind,
                name: &name,
                url: &url,
                municipality: municipality.as_deref(),
                credentials_file: credentials_file.as_deref(),
                interval,
            };
            commands::sources::add(&config, args).await
        }
        Command::Source { command: SourceCommand::List } => commands::sources::list(&config).await,
        Command::Sync { name } => commands::sources::sync(&config, &name).await,
        Command::Demo { command: DemoCommand::Generate { processes, contributions, seed } } => {
            commands::sources::demo(&config, processes, contributions, seed).await
        }
        Command::Config { .. } => Ok(()),
    }
}
