//! Matching benchmark (not a test: prints figures, asserts nothing).
//! `cargo bench -p mitsprache_matching` — synthetic catalogues of 1,000, 10,000 and 100,000 tools
//! and a profile of 30 criteria; ranking time p50/p99, toolkit search over 1,000 tools, memory.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use mitsprache_catalogue::Catalogue;
use mitsprache_matching::synthetic::{self, criteria_pool};
use mitsprache_matching::{Criterion, Limits, MatchIndex, Profile, UnknownPolicy, run_with};
use std::time::{Duration, Instant};

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn measure(
    profile: &Profile,
    catalogue: &Catalogue,
    index: &MatchIndex,
    iterations: usize,
) -> (Duration, Duration, usize) {
    let mut times = Vec::with_capacity(iterations);
    let mut ranked = 0;
    for _ in 0..iterations {
        let start = Instant::now();
        let result = run_with(profile, catalogue, index, Limits::default());
        times.push(start.elapsed());
        ranked = result.total_ranked;
        std::hint::black_box(result);
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99), ranked)
}

/// 30 criteria: 3 knock-outs that are not functions (so no toolkit search) and 27 weighted ones.
fn ranking_profile(catalogue: &Catalogue) -> Profile {
    let mut p = synthetic::profile(catalogue, 0, 27, 7, UnknownPolicy::Check);
    p.must = vec![
        Criterion::OpenSource,
        Criterion::MaxYearlyCost { eur: 30_000.0 },
        Criterion::Language { tag: "de".into() },
    ];
    p
}

fn main() {
    println!("mitsprache_matching benchmark ({} cores)", std::thread::available_parallelism().map_or(1, |n| n.get()));
    println!("\nranking, 30 criteria (3 knock-outs, 27 weighted), unknown = check");
    println!("(p50/p99 per request with the catalogue compiled once per revision; \"index\" is that compile)");
    println!("{:>9} {:>10} {:>10} {:>10} {:>12} {:>12}", "tools", "p50", "p99", "ranked", "index", "peak RSS");
    for (n, iterations) in [(1_000, 300), (10_000, 200), (100_000, 30)] {
        let catalogue = synthetic::catalogue(n, 42);
        let start = Instant::now();
        let index = MatchIndex::new(&catalogue);
        let build = start.elapsed();
        let profile = ranking_profile(&catalogue);
        let (p50, p99, ranked) = measure(&profile, &catalogue, &index, iterations);
        println!("{n:>9} {p50:>10.2?} {p99:>10.2?} {ranked:>10} {build:>12.2?} {:>9} MB", rss_kb("VmHWM:") / 1024);
    }

    println!("\ntoolkits over 1,000 tools: required functions, unknown = fail");
    println!("{:>9} {:>10} {:>10} {:>10}", "functions", "p50", "p99", "toolkits");
    let catalogue = synthetic::catalogue(1_000, 42);
    let index = MatchIndex::new(&catalogue);
    let functions: Vec<Criterion> =
        criteria_pool(&catalogue).into_iter().filter(|c| matches!(c, Criterion::Function { .. })).collect();
    for k in [2usize, 3, 4, 6] {
        let mut profile = synthetic::profile(&catalogue, 0, 10, 11, UnknownPolicy::Fail);
        profile.must = functions.iter().take(k).cloned().collect();
        profile.must.push(Criterion::SelfHosted);
        let mut times = Vec::new();
        let mut kits = 0;
        for _ in 0..50 {
            let start = Instant::now();
            let result = run_with(&profile, &catalogue, &index, Limits::default());
            times.push(start.elapsed());
            kits = result.toolkits.len();
        }
        times.sort();
        println!("{k:>9} {:>10.2?} {:>10.2?} {kits:>10}", percentile(&times, 0.5), percentile(&times, 0.99));
    }
    println!("\npeak RSS of the benchmark process: {} MB", rss_kb("VmHWM:") / 1024);
}
