//! `mitsprache source add|list` and `mitsprache sync NAME`: the tools the hub pulls standard data
//! from. Output meant for scripts (the added source) is JSON on standard output; a sync prints
//! one summary line and, on a terminal, a progress bar on standard error.

use super::write_stdout;
use crate::config::Config;
use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mitsprache_domain::SystemClock;
use mitsprache_hub::connectors::{NewSource, SourceKind};
use mitsprache_hub::{Error, Hub};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

async fn hub(config: &Config) -> anyhow::Result<Hub> {
    crate::startup::hub(config, Arc::new(SystemClock)).await
}

pub struct SourceArgs<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub url: &'a str,
    pub municipality: Option<&'a str>,
    pub credentials_file: Option<&'a Path>,
    pub interval: i64,
}

pub async fn add(config: &Config, args: SourceArgs<'_>) -> anyhow::Result<()> {
    let Some(kind) = SourceKind::parse(args.kind) else {
        let kinds: Vec<&str> = SourceKind::ALL.iter().map(|k| k.as_str()).collect();
        bail!("unknown source kind {}: one of {}", args.kind, kinds.join(", "));
    };
    let credentials = match args.credentials_file {
        Some(path) => Some(std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?),
        None => None,
    };
    let hub = hub(config).await?;
    let source = hub
        .add_source(NewSource {
            name: args.name.to_owned(),
            kind,
            url: args.url.to_owned(),
            municipality: args.municipality.map(str::to_owned),
            credentials,
            interval_minutes: args.interval,
        })
        .await
        .map_err(explain)?;
    // The credentials stay out of the answer, like out of every log.
    let out = json!({
        "name": source.name,
        "kind": source.kind,
        "url": source.url,
        "municipality": source.municipality,
        "interval_minutes": source.interval_minutes,
        "credentials": source.credentials.is_some(),
    });
    write_stdout(&(serde_json::to_string_pretty(&out)? + "\n"))
}

pub async fn list(config: &Config) -> anyhow::Result<()> {
    let hub = hub(config).await?;
    let mut out = String::new();
    for (s, last) in hub.sources().await? {
        let state = match last {
            None => "never synced".to_owned(),
            Some(l) if l.ok => format!(
                "ok at {} ({} fetched, {} created, {} updated, {} deleted, {} rejected)",
                l.finished_at.unix_timestamp(),
                l.fetched,
                l.created,
                l.updated,
                l.deleted,
                serde_json::from_str::<Vec<serde_json::Value>>(&l.rejected).map(|r| r.len()).unwrap_or(0)
            ),
            Some(l) => format!("failed at {}: {}", l.finished_at.unix_timestamp(), l.message),
        };
        out.push_str(&format!("{}\t{}\t{}\tevery {} min\t{}\n", s.name, s.kind, s.url, s.interval_minutes, state));
    }
    write_stdout(&out)
}

pub async fn sync(config: &Config, name: &str) -> anyhow::Result<()> {
    let hub = hub(config).await?;
    let bar = ProgressBar::new_spinner();
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
    let progress = {
        let bar = bar.clone();
        move |requests: u64, fetched: u64| bar.set_message(format!("{requests} requests, {fetched} records"))
    };
    let result = hub.sync_source(name, &progress).await;
    bar.finish_and_clear();
    let s = match result {
        Ok(s) => s,
        Err(Error::NotFound) => bail!("no source named {name} (see `mitsprache source list`)"),
        Err(Error::Conflict(m)) => bail!("{m}; try again when it has finished"),
        Err(e) => {
            // The hub's error names the kind of failure; its source says what the tool answered.
            let cause = std::error::Error::source(&e).map(|c| format!(" ({c})")).unwrap_or_default();
            bail!("the sync of {name} failed, nothing was changed: {e}{cause}")
        }
    };
    let mut line = format!(
        "{}: {} requests, {} records fetched: {} created, {} updated, {} unchanged, {} deleted, {} rejected\n",
        s.source,
        s.requests,
        s.fetched,
        s.created,
        s.updated,
        s.unchanged,
        s.deleted,
        s.rejected.len()
    );
    for r in s.rejected.iter().take(10) {
        line.push_str(&format!("  rejected {}: {}\n", r.id, r.reason));
    }
    write_stdout(&line)
}

fn explain(e: Error) -> anyhow::Error {
    match e {
        Error::Invalid { field, message } => anyhow::anyhow!("--{field}: {message}"),
        e => e.into(),
    }
}

/// `mitsprache demo generate`: example data, with the time it took (the portal benchmark reads it).
pub async fn demo(config: &Config, processes: u64, contributions: u64, seed: u64) -> anyhow::Result<()> {
    let hub = hub(config).await?;
    let start = std::time::Instant::now();
    let report = hub.generate_demo(processes, contributions, seed).await.context("generating the demo data failed")?;
    let seconds = start.elapsed().as_secs_f64();
    write_stdout(&format!(
        "{} processes and {} contributions written as source `{}` in {seconds:.1} s ({:.0} records/s)\n",
        report.processes,
        report.contributions,
        mitsprache_hub::demo::SOURCE,
        (report.processes + report.contributions) as f64 / seconds.max(1e-9)
    ))
}
