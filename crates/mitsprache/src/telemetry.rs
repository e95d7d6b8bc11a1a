//! Logging: human-readable text by default, JSON lines for collectors. Secrets are never logged:
//! the configuration is logged with the database URL redacted and without tokens.

use crate::config::{LogConfig, LogFormat};
use tracing_subscriber::EnvFilter;

pub fn init(config: &LogConfig) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&config.level).map_err(|e| anyhow::anyhow!("key `log.level`: {e}"))?;
    // Colours only for a terminal; files and log collectors get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let result = match config.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    // A second init (tests, or a command run inside another) keeps the first subscriber.
    let _ = result;
    Ok(())
}
