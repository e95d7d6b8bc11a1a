//! The commands behind the CLI. Errors are reported with anyhow at this edge.

pub mod identity;
pub mod sources;

use crate::cli::{ExportFormat, ReportFormat};
use crate::config::Config;
use crate::startup::{App, shutdown_signal};
use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use mitsprache_catalogue::{
    CatalogueDocument, CatalogueItem, Interface, Tool, parse_document, publiccode, validate_catalogue,
};
use mitsprache_domain::{Clock, SystemClock};
use mitsprache_store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

pub async fn serve(config: &Config, demo: bool) -> anyhow::Result<()> {
    tracing::info!(
        listen = %config.listen,
        database = %mitsprache_store::redact(&config.database),
        "starting mitsprache"
    );
    let shutdown = shutdown_signal();
    let app = App::build(config).await?;
    if demo {
        let hub = app.hub();
        let filter = mitsprache_hub::data::DataFilter {
            source: Some(mitsprache_hub::demo::SOURCE.into()),
            per_page: 1,
            ..Default::default()
        };
        if hub.data_list(mitsprache_standard::Kind::Process, &filter).await?.0 == 0 {
            let report = hub.generate_demo(300, 3_000, 1).await?;
            tracing::info!(processes = report.processes, contributions = report.contributions, "demo data written");
        }
    }
    app.serve(shutdown).await
}

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = Store::connect(&config.database).await.context("cannot open the database")?;
    let applied = store.migrate().await?;
    write_stdout(&format!("{applied} migration(s) applied\n"))
}

/// Catalogue files below `path`, in name order so that imports are reproducible.
fn catalogue_files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    if !path.is_dir() {
        bail!("{} is neither a file nor a folder", path.display());
    }
    let mut files = Vec::new();
    let mut pending = vec![path.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
            let p = entry?.path();
            if p.is_dir() {
                pending.push(p);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "yml" | "yaml")) {
                files.push(p);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// One line of the import report.
struct Problem {
    file: String,
    message: String,
}

pub async fn import(config: &Config, path: &Path, dry_run: bool) -> anyhow::Result<()> {
    let clock = SystemClock;
    let files = catalogue_files(path)?;
    if files.is_empty() {
        bail!("no catalogue files (.json, .yml, .yaml) in {}", path.display());
    }
    let hub = crate::startup::hub(config, std::sync::Arc::new(SystemClock)).await?;
    let existing = hub.catalogue();
    let taxonomy_before = existing.taxonomy.clone();

    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut doc = CatalogueDocument::default();
    let mut origin: Vec<(String, String)> = Vec::new(); // (record slug, file) for the report
    let mut problems = Vec::new();
    for file in &files {
        let name = file.display().to_string();
        bar.set_message(name.clone());
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Problem { file: name, message: e.to_string() });
                bar.inc(1);
                continue;
            }
        };
        let is_yaml = matches!(file.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"));
        let result = if is_yaml {
            // The record this publiccode.yml updates: imported earlier in this run, or stored.
            let slug = publiccode::record_slug(&text);
            let current = slug.as_ref().and_then(|s| {
                doc.tools.iter().rev().find(|t| &t.slug == s).or_else(|| existing.tools().iter().find(|t| &t.slug == s))
            });
            publiccode::import(&text, current, clock.now().date())
                .map(|t| CatalogueItem::Tool(Box::new(t)))
                .map_err(|e| e.to_string())
        } else {
            parse_document(&text).map_err(|e| e.to_string())
        };
        match result {
            Ok(CatalogueItem::Document(d)) => {
                origin.extend(d.tools.iter().map(|t| (t.slug.to_string(), name.clone())));
                origin.extend(d.interfaces.iter().map(|i| (i.slug.to_string(), name.clone())));
                if d.taxonomy.is_some() {
                    doc.taxonomy = d.taxonomy;
                }
                doc.tools.extend(d.tools);
                doc.interfaces.extend(d.interfaces);
            }
            Ok(CatalogueItem::Tool(t)) => {
                origin.push((t.slug.to_string(), name.clone()));
                doc.tools.push(*t);
            }
            Ok(CatalogueItem::Interface(i)) => {
                origin.push((i.slug.to_string(), name.clone()));
                doc.interfaces.push(i);
            }
            Err(message) => problems.push(Problem { file: name, message }),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();

    dedupe(&mut doc.tools, |t| t.slug.to_string());
    dedupe(&mut doc.interfaces, |i| i.slug.to_string());
    // Validate what the catalogue would be after the import, so references across files and to
    // stored records are checked too; report only errors of imported records.
    let taxonomy = doc.taxonomy.clone().unwrap_or(taxonomy_before);
    let tools = merged(existing.tools(), &doc.tools, |t: &Tool| t.slug.to_string());
    let interfaces = merged(existing.interfaces(), &doc.interfaces, |i: &Interface| i.slug.to_string());
    for e in validate_catalogue(&taxonomy, &tools, &interfaces, clock.now().date()) {
        let file = origin.iter().find(|(slug, _)| *slug == e.record).map(|(_, f)| f.clone());
        if let Some(file) = file {
            problems.push(Problem { file, message: format!("record {}: {}: {}", e.record, e.field, e.message) });
        }
    }

    if !problems.is_empty() {
        let mut report = format!("{} problem(s); nothing was imported:\n", problems.len());
        for p in &problems {
            report.push_str(&format!("  {}: {}\n", p.file, p.message));
        }
        bail!(report.trim_end().to_owned());
    }
    if dry_run {
        return write_stdout(&format!(
            "{} file(s) checked: {} tool(s), {} interface(s); nothing written (dry run)\n",
            files.len(),
            doc.tools.len(),
            doc.interfaces.len()
        ));
    }
    let summary = hub.import_catalogue(&doc, "import").await.context("the import failed; nothing was changed")?;
    write_stdout(&format!(
        "{} file(s) imported: {} created, {} updated, {} unchanged\n",
        files.len(),
        summary.created,
        summary.updated,
        summary.unchanged
    ))
}

/// Keeps the last record per slug: a later file wins over an earlier one, as it would in the store.
fn dedupe<T>(list: &mut Vec<T>, key: impl Fn(&T) -> String) {
    let mut seen = std::collections::HashSet::new();
    list.reverse();
    list.retain(|t| seen.insert(key(t)));
    list.reverse();
}

fn merged<T: Clone>(stored: &[T], imported: &[T], key: impl Fn(&T) -> String) -> Vec<T> {
    let mut out: Vec<T> = stored.iter().filter(|s| !imported.iter().any(|i| key(i) == key(s))).cloned().collect();
    out.extend(imported.iter().cloned());
    out
}

pub async fn export(config: &Config, format: ExportFormat, output: Option<&Path>) -> anyhow::Result<()> {
    let hub = crate::startup::hub(config, std::sync::Arc::new(SystemClock)).await?;
    let data = hub.catalogue();
    let taxonomy = data.taxonomy.clone();
    match format {
        ExportFormat::Json => {
            let doc = data.to_document();
            let text = serde_json::to_string_pretty(&doc)? + "\n";
            match output {
                Some(path) => write_atomically(path, &text),
                None => write_stdout(&text),
            }
        }
        ExportFormat::Publiccode => {
            let dir = output.context("--output FOLDER is required for --format publiccode")?;
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let mut written = 0;
            let mut skipped = Vec::new();
            for tool in data.tools() {
                match publiccode::export(tool, &taxonomy) {
                    Ok(yaml) => {
                        write_atomically(&dir.join(format!("{}.publiccode.yml", tool.slug)), &yaml)?;
                        written += 1;
                    }
                    Err(e) => skipped.push(format!("  {}: {e}", tool.slug)),
                }
            }
            let mut report = format!("{written} publiccode.yml file(s) written to {}\n", dir.display());
            if !skipped.is_empty() {
                report.push_str(&format!(
                    "{} tool(s) skipped, their records lack what the standard requires:\n{}\n",
                    skipped.len(),
                    skipped.join("\n")
                ));
            }
            write_stdout(&report)
        }
    }
}

pub async fn report(config: &Config, bundled: bool, format: ReportFormat) -> anyhow::Result<()> {
    let tools = if bundled {
        mitsprache_catalogue::bundled::document()
            .map_err(|(file, e)| anyhow::anyhow!("the bundled catalogue file {file} does not parse: {e}"))?
            .tools
    } else {
        crate::startup::hub(config, std::sync::Arc::new(SystemClock)).await?.catalogue().tools().to_vec()
    };
    let report = mitsprache_catalogue::report::report(&tools);
    match format {
        ReportFormat::Json => write_stdout(&(serde_json::to_string_pretty(&report)? + "\n")),
        ReportFormat::Text => write_stdout(&report_text(&report)),
    }
}

fn report_text(report: &mitsprache_catalogue::report::Report) -> String {
    use mitsprache_catalogue::report::Fact;
    let mut out = format!("{} tools\n\n{:<26} {:>6} {:>6}\n", report.tools, "fact", "known", "share");
    for s in &report.shares {
        if s.fact == Fact::Licence {
            out.push('\n');
        }
        out.push_str(&format!("{:<26} {:>6} {:>5} %\n", s.fact.key(), s.known, s.percent()));
    }
    out.push_str("\nunknown per tool (most open headline facts first):\n");
    for g in &report.gaps {
        let facts: Vec<&str> = g.unknown.iter().map(|f| f.key()).collect();
        let facts = if facts.is_empty() { "nothing".to_owned() } else { facts.join(", ") };
        out.push_str(&format!("  {}: {facts}\n", g.slug));
    }
    out
}

/// Write to a temporary file beside the target, then rename: a crash never leaves half a file.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
