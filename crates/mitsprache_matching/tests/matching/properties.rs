//! Properties that hold for every profile and catalogue, checked on generated ones.

use mitsprache_catalogue::{Catalogue, Tool};
use mitsprache_matching::synthetic::{self, criteria_pool};
use mitsprache_matching::{
    Criterion, Limits, MatchIndex, Profile, UnknownPolicy, Verdict, costs, evaluate, run, run_with,
};
use proptest::prelude::*;

fn policy(check: bool) -> UnknownPolicy {
    if check { UnknownPolicy::Check } else { UnknownPolicy::Fail }
}

fn setup(tools: usize, seed: u64, musts: usize, check: bool) -> (Catalogue, Profile) {
    let catalogue = synthetic::catalogue(tools, seed);
    let profile = synthetic::profile(&catalogue, musts, 6, seed ^ 0xABCD, policy(check));
    (catalogue, profile)
}

/// Every ranked tool, not just the ones a default result lists.
fn ranked(profile: &Profile, catalogue: &Catalogue) -> Vec<String> {
    let mut r: Vec<String> = run_all(profile, catalogue).ranked.into_iter().map(|r| r.tool).collect();
    r.sort();
    r
}

fn run_all(profile: &Profile, catalogue: &Catalogue) -> mitsprache_matching::MatchResult {
    run_with(profile, catalogue, &MatchIndex::new(catalogue), Limits::ALL)
}

fn function_criteria(profile: &Profile) -> Vec<usize> {
    profile.must.iter().enumerate().filter(|(_, c)| matches!(c, Criterion::Function { .. })).map(|(i, _)| i).collect()
}

fn tool<'a>(catalogue: &'a Catalogue, slug: &str) -> &'a Tool {
    catalogue.tool(slug).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn every_ranked_tool_satisfies_every_knock_out(seed in any::<u64>(), musts in 0usize..5, check in any::<bool>()) {
        let (catalogue, profile) = setup(40, seed, musts, check);
        for r in run_all(&profile, &catalogue).ranked {
            let t = tool(&catalogue, &r.tool);
            let c = costs(t, profile.context.years);
            for criterion in &profile.must {
                let (verdict, _) = evaluate(criterion, t, &catalogue, &c);
                prop_assert!(!verdict.fails(profile.unknown), "{} fails {:?}", r.tool, criterion);
                prop_assert!(check || verdict == Verdict::Met);
            }
        }
    }

    #[test]
    fn adding_a_knock_out_never_adds_a_tool(seed in any::<u64>(), musts in 0usize..4, extra in any::<prop::sample::Index>(), check in any::<bool>()) {
        let (catalogue, profile) = setup(40, seed, musts, check);
        let before = ranked(&profile, &catalogue);
        let pool = criteria_pool(&catalogue);
        let mut stricter = profile.clone();
        stricter.must.push(pool[extra.index(pool.len())].clone());
        let after = ranked(&stricter, &catalogue);
        prop_assert!(after.iter().all(|t| before.contains(t)), "{after:?} ⊄ {before:?}");
    }

    #[test]
    fn relaxations_are_sufficient_and_minimal(seed in any::<u64>(), musts in 3usize..7, check in any::<bool>()) {
        let (catalogue, profile) = setup(25, seed, musts, check);
        let result = run_all(&profile, &catalogue);
        prop_assume!(result.ranked.is_empty());
        let functions: Vec<usize> = function_criteria(&profile);
        if result.relaxations.is_empty() {
            // Only when every tool lacks a required function: that is never relaxed.
            for t in catalogue.tools() {
                let c = costs(t, profile.context.years);
                let lacks = functions.iter().any(|&i| evaluate(&profile.must[i], t, &catalogue, &c).0 != Verdict::Met);
                prop_assert!(lacks, "{} fails only other knock-outs, yet no relaxation is offered", t.slug);
            }
        }
        let without = |relax: &[usize]| {
            let mut p = profile.clone();
            p.must = profile.must.iter().enumerate().filter(|(i, _)| !relax.contains(i)).map(|(_, c)| c.clone()).collect();
            ranked(&p, &catalogue)
        };
        for r in &result.relaxations {
            let admitted = without(&r.relax);
            prop_assert!(!admitted.is_empty(), "relaxing {:?} admits nothing", r.relax);
            prop_assert!(r.admits.iter().all(|t| admitted.contains(t)));
            for drop in 0..r.relax.len() {
                let mut smaller = r.relax.clone();
                smaller.remove(drop);
                prop_assert!(without(&smaller).is_empty(), "{:?} is not minimal: {:?} suffices", r.relax, smaller);
            }
        }
    }

    #[test]
    fn a_relaxation_never_drops_a_required_function(seed in any::<u64>(), musts in 2usize..7, functions in 1usize..4, check in any::<bool>()) {
        let (catalogue, mut profile) = setup(30, seed, musts, check);
        let keys: Vec<String> = catalogue.taxonomy.functions.iter().map(|t| t.key.clone()).collect();
        for i in 0..functions {
            profile.must.push(Criterion::Function { key: keys[(seed as usize + i * 3) % keys.len()].clone() });
        }
        let result = run_all(&profile, &catalogue);
        let required = function_criteria(&profile);
        for r in &result.relaxations {
            prop_assert!(r.relax.iter().all(|i| !required.contains(i)), "{:?} relaxes a required function", r.relax);
            for admitted in &r.admits {
                let t = tool(&catalogue, admitted);
                for &i in &required {
                    let Criterion::Function { key } = &profile.must[i] else { unreachable!() };
                    prop_assert!(t.functions.values.contains(key), "{admitted} lacks {key}");
                }
            }
        }
        for m in &result.missing_functions {
            prop_assert!(catalogue.tools().iter().all(|t| !t.functions.values.contains(&m.function)));
        }
    }

    #[test]
    fn references_never_enter_the_award_score(seed in any::<u64>(), musts in 0usize..3, check in any::<bool>(), extra in 0usize..5) {
        // Suitability (references, certificates) is checked apart from the award: changing a
        // tool's references changes neither its points nor whether it is ranked.
        let (catalogue, profile) = setup(30, seed, musts, check);
        let before = run_all(&profile, &catalogue);
        let tools: Vec<Tool> = catalogue
            .tools()
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut t = t.clone();
                if i % 2 == 0 {
                    t.references.clear();
                } else if let Some(r) = t.references.first().cloned() {
                    t.references.extend(std::iter::repeat_n(r, extra));
                }
                t
            })
            .collect();
        let changed = Catalogue::new(catalogue.revision, catalogue.taxonomy.clone(), tools, catalogue.interfaces().to_vec());
        let after = run_all(&profile, &changed);
        let points = |r: &mitsprache_matching::MatchResult| {
            let mut p: Vec<(String, u64)> = r.ranked.iter().map(|t| (t.tool.clone(), (t.points * 10.0).round() as u64)).collect();
            p.sort();
            p
        };
        prop_assert_eq!(points(&before), points(&after));
    }

    #[test]
    fn toolkits_cover_all_required_functions_and_every_member_is_needed(seed in any::<u64>(), functions in 2usize..5, check in any::<bool>()) {
        let catalogue = synthetic::catalogue(60, seed);
        let mut profile = synthetic::profile(&catalogue, 1, 4, seed, policy(check));
        let keys: Vec<String> = catalogue.taxonomy.functions.iter().map(|t| t.key.clone()).collect();
        for i in 0..functions {
            profile.must.push(Criterion::Function { key: keys[(seed as usize + i * 5) % keys.len()].clone() });
        }
        let required: Vec<String> = profile.must.iter().filter_map(|c| match c { Criterion::Function { key } => Some(key.clone()), _ => None }).collect();
        for kit in run(&profile, &catalogue).toolkits {
            prop_assert!(kit.members.len() <= 3);
            let covers = |members: &[&String]| required.iter().all(|f| members.iter().any(|m| tool(&catalogue, m).functions.values.contains(f)));
            let all: Vec<&String> = kit.members.iter().collect();
            prop_assert!(covers(&all), "{:?} does not cover {:?}", kit.members, required);
            for drop in 0..all.len() {
                let mut rest = all.clone();
                rest.remove(drop);
                prop_assert!(rest.is_empty() || !covers(&rest), "{:?}: {} can be dropped", kit.members, all[drop]);
            }
            for c in &kit.coverage {
                prop_assert!(!c.tools.is_empty());
            }
        }
    }

    #[test]
    fn the_result_does_not_depend_on_the_order_of_the_catalogue(seed in any::<u64>(), musts in 0usize..4) {
        let (catalogue, profile) = setup(30, seed, musts, false);
        let mut tools: Vec<Tool> = catalogue.tools().to_vec();
        tools.reverse();
        let swapped = tools.len() / 2;
        tools.swap(0, swapped);
        let reordered = Catalogue::new(catalogue.revision, catalogue.taxonomy.clone(), tools, catalogue.interfaces().to_vec());
        prop_assert_eq!(run(&profile, &catalogue), run(&profile, &reordered));
    }

    #[test]
    fn the_fast_path_agrees_with_the_reference_evaluation(seed in any::<u64>(), check in any::<bool>()) {
        // The numeric path ranks; the reference path explains. Both must say the same thing:
        // every ranked tool's points equal the sum of its explained criteria, every tool that
        // passes the reference knock-outs is ranked, and every excluded tool fails one.
        let (catalogue, mut profile) = setup(30, seed, 0, check);
        profile.must = criteria_pool(&catalogue).into_iter().skip((seed % 7) as usize).step_by(5).take(4).collect();
        let result = run_with(&profile, &catalogue, &MatchIndex::new(&catalogue), Limits::ALL);
        prop_assert_eq!(result.ranked.len() + result.excluded.len(), catalogue.tools().len());
        for r in &result.ranked {
            let explained: f64 = r.criteria.iter().map(|c| c.points).sum();
            prop_assert!((explained - r.points).abs() < 1e-6, "{}: {} vs {}", r.tool, explained, r.points);
        }
        for t in catalogue.tools() {
            let c = costs(t, profile.context.years);
            let passes = profile.must.iter().all(|m| !evaluate(m, t, &catalogue, &c).0.fails(profile.unknown));
            let ranked = result.ranked.iter().any(|r| r.tool == t.slug.as_str());
            prop_assert_eq!(passes, ranked, "{}", t.slug);
        }
    }
}

#[test]
fn large_catalogues_ranked_on_all_cores_agree_with_the_reference() {
    // Above the parallel threshold the tally is split across threads; the result must be what
    // the reference evaluation says, tool by tool, in catalogue order.
    let catalogue = synthetic::catalogue(5_000, 99);
    let mut profile = synthetic::profile(&catalogue, 0, 8, 5, UnknownPolicy::Check);
    profile.must = vec![Criterion::OpenSource, Criterion::MaxYearlyCost { eur: 25_000.0 }];
    let result = run_with(&profile, &catalogue, &MatchIndex::new(&catalogue), Limits::ALL);
    assert_eq!(result.total_ranked + result.total_excluded, 5_000);
    let expected: Vec<&str> = catalogue
        .tools()
        .iter()
        .filter(|t| {
            let c = costs(t, profile.context.years);
            profile.must.iter().all(|m| !evaluate(m, t, &catalogue, &c).0.fails(profile.unknown))
        })
        .map(|t| t.slug.as_str())
        .collect();
    let mut ranked: Vec<&str> = result.ranked.iter().map(|r| r.tool.as_str()).collect();
    ranked.sort_unstable();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort_unstable();
    assert_eq!(ranked, expected_sorted);
    for r in &result.ranked {
        let explained: f64 = r.criteria.iter().map(|c| c.points).sum();
        assert!((explained - r.points).abs() < 1e-6, "{}", r.tool);
    }
    for pair in result.ranked.windows(2) {
        assert!(pair[0].points >= pair[1].points, "ranked by points");
    }
}
