//! Properties that hold for every profile and catalogue, checked on generated ones.

use mitsprache_catalogue::{Catalogue, Tool};
use mitsprache_matching::synthetic::{self, criteria_pool};
use mitsprache_matching::{Criterion, Profile, UnknownPolicy, Verdict, costs, evaluate, run};
use proptest::prelude::*;

fn policy(check: bool) -> UnknownPolicy {
    if check { UnknownPolicy::Check } else { UnknownPolicy::Fail }
}

fn setup(tools: usize, seed: u64, musts: usize, check: bool) -> (Catalogue, Profile) {
    let catalogue = synthetic::catalogue(tools, seed);
    let profile = synthetic::profile(&catalogue, musts, 6, seed ^ 0xABCD, policy(check));
    (catalogue, profile)
}

fn ranked(profile: &Profile, catalogue: &Catalogue) -> Vec<String> {
    let mut r: Vec<String> = run(profile, catalogue).ranked.into_iter().map(|r| r.tool).collect();
    r.sort();
    r
}

fn tool<'a>(catalogue: &'a Catalogue, slug: &str) -> &'a Tool {
    catalogue.tool(slug).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn every_ranked_tool_satisfies_every_knock_out(seed in any::<u64>(), musts in 0usize..5, check in any::<bool>()) {
        let (catalogue, profile) = setup(40, seed, musts, check);
        for r in run(&profile, &catalogue).ranked {
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
        let result = run(&profile, &catalogue);
        prop_assume!(result.ranked.is_empty());
        prop_assert!(!result.relaxations.is_empty());
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
}
