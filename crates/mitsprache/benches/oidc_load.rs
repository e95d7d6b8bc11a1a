//! Load generator for the OpenID provider benchmark (`benches/oidc.sh`): drives one scenario
//! against a provider (the hub or node-oidc-provider) with C concurrent connections for D
//! seconds and prints one JSON line with the request count, errors and latency percentiles.
//!
//! Scenarios:
//!   cc TOKEN_URL CLIENT_ID SECRET [RESOURCE]   client_credentials grants
//!   refresh TOKEN_URL CLIENT_ID SECRET FILE    refresh grants; each chain sends the token the
//!                                              previous answer rotated to (FILE: one per line)
//!   login HUB_URL EMAIL PASSWORD               password logins on the hub's login form
//!   argon2                                     raw Argon2id hashes (OWASP parameters), one thread
//! Options come from the environment: BENCH_SECONDS (default 20), BENCH_CONNECTIONS (32).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Stats {
    latencies_us: Vec<u64>,
    errors: u64,
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn report(scenario: &str, stats: Vec<Stats>, elapsed: Duration) {
    let mut all: Vec<u64> = stats.iter().flat_map(|s| s.latencies_us.iter().copied()).collect();
    let errors: u64 = stats.iter().map(|s| s.errors).sum();
    all.sort_unstable();
    println!(
        "{}",
        serde_json::json!({
            "scenario": scenario,
            "requests": all.len(),
            "errors": errors,
            "seconds": elapsed.as_secs_f64(),
            "rps": all.len() as f64 / elapsed.as_secs_f64(),
            "p50_ms": percentile(&all, 0.50),
            "p90_ms": percentile(&all, 0.90),
            "p99_ms": percentile(&all, 0.99),
        })
    );
}

fn argon2(seconds: u64) {
    let cost = mitsprache_oidc::password::Cost::default();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(seconds) {
        mitsprache_oidc::password::hash("a password of reasonable length", cost, &mitsprache_oidc::random::OsRandom)
            .unwrap();
        n += 1;
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"scenario": "argon2", "hashes": n, "per_second": n as f64 / s, "ms_per_hash": s * 1000.0 / n as f64})
    );
}

/// One request of the scenario; `chain` is the refresh token this worker holds.
async fn once(http: &reqwest::Client, args: &[String], chain: &mut Option<String>, spare: &Spare) -> bool {
    match args[0].as_str() {
        "cc" => {
            let mut form = vec![("grant_type", "client_credentials")];
            if let Some(resource) = args.get(4) {
                form.push(("resource", resource));
            }
            match http.post(&args[1]).basic_auth(&args[2], Some(&args[3])).form(&form).send().await {
                Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                _ => false,
            }
        }
        "refresh" => {
            let Some(token) = chain.clone() else { return false };
            let r = http
                .post(&args[1])
                .basic_auth(&args[2], Some(&args[3]))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", &token)])
                .send()
                .await;
            match r {
                Ok(r) if r.status().is_success() => {
                    let body: serde_json::Value = r.json().await.unwrap_or_default();
                    *chain = body["refresh_token"].as_str().map(str::to_owned).or(Some(token));
                    true
                }
                _ => {
                    // A broken chain continues with a spare token, if any is left.
                    *chain = spare.take();
                    false
                }
            }
        }
        "login" => {
            let csrf = "b".repeat(43);
            let r = http
                .post(format!("{}/anmelden", args[1]))
                .header("cookie", format!("mitsprache_csrf={csrf}"))
                .form(&[("email", args[2].as_str()), ("password", args[3].as_str()), ("csrf", &csrf), ("anfrage", "")])
                .send()
                .await;
            matches!(r, Ok(r) if r.status().as_u16() == 303)
        }
        other => panic!("unknown scenario {other}"),
    }
}

/// Refresh tokens not yet used by a chain.
struct Spare {
    tokens: Vec<String>,
    next: AtomicUsize,
}

impl Spare {
    fn take(&self) -> Option<String> {
        self.tokens.get(self.next.fetch_add(1, Ordering::Relaxed)).cloned()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let seconds = env("BENCH_SECONDS", 20);
    let connections = env("BENCH_CONNECTIONS", 32) as usize;
    if args.first().map(String::as_str) == Some("argon2") {
        argon2(seconds.min(10));
        return;
    }
    let tokens: Vec<String> = if args.first().map(String::as_str) == Some("refresh") {
        std::fs::read_to_string(&args[4]).unwrap().lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
    } else {
        Vec::new()
    };
    let spare = Arc::new(Spare { tokens, next: AtomicUsize::new(0) });
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (http, stop, args, spare) = (http.clone(), stop.clone(), args.clone(), spare.clone());
        tasks.push(tokio::spawn(async move {
            let mut stats = Stats { latencies_us: Vec::with_capacity(100_000), errors: 0 };
            let mut chain = if args[0] == "refresh" { spare.take() } else { None };
            while !stop.load(Ordering::Relaxed) {
                if args[0] == "refresh" && chain.is_none() {
                    break;
                }
                let t = Instant::now();
                if once(&http, &args, &mut chain, &spare).await {
                    stats.latencies_us.push(t.elapsed().as_micros() as u64);
                } else {
                    stats.errors += 1;
                }
            }
            stats
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed();
    let mut stats = Vec::new();
    for t in tasks {
        stats.push(t.await.unwrap());
    }
    report(&args[0], stats, elapsed);
}
