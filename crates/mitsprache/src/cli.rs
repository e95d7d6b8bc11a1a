//! The command line: `serve`, `migrate`, `catalogue import|export`, `config example`.

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

#[derive(Subcommand)]
enum Command {
    /// Run the hub (migrates the database; loads the bundled catalogue into an empty one).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Import or export the marketplace catalogue.
    Catalogue {
        #[command(subcommand)]
        command: CatalogueCommand,
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
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Json,
    Publiccode,
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
        Command::Serve { listen } => *listen,
        _ => None,
    };
    if let Command::Config { command: ConfigCommand::Example } = cli.command {
        return commands::write_stdout(&Config::example());
    }
    let config = Config::load(cli.config.as_deref(), &env, &Overrides { listen, database: cli.database.clone() })?;
    crate::telemetry::init(&config.log)?;
    match cli.command {
        Command::Serve { .. } => commands::serve(&config).await,
        Command::Migrate => commands::migrate(&config).await,
        Command::Catalogue { command: CatalogueCommand::Import { path, dry_run } } => {
            commands::import(&config, &path, dry_run).await
        }
        Command::Catalogue { command: CatalogueCommand::Export { format, output } } => {
            commands::export(&config, format, output.as_deref()).await
        }
        Command::Config { .. } => Ok(()),
    }
}
