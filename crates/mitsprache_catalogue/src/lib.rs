//! The marketplace (Marktplatz, category Beteiligung): records of participation tools and their
//! interfaces, the controlled vocabularies, validation, full-text search with facets, the
//! catalogue file format and the publiccode.yml mapping.
//!
//! Pure: no I/O beyond parsing text handed in. The store persists records; the web crate serves
//! a [`Catalogue`] snapshot built from them.

pub mod bundled;
mod file;
pub mod groups;
mod model;
pub mod publiccode;
pub mod report;
mod search;
mod validate;

pub use file::{CatalogueDocument, CatalogueItem, ParseError, parse_document};
pub use mitsprache_domain::{Known, LocalizedText, Slug, Sourced};
pub use model::*;
pub use search::{FacetCount, Facets, LicenceFacet, SearchHit, SearchResult, SortOrder, ToolQuery, cost_band};
pub use validate::{ValidationError, validate_catalogue};

use search::SearchIndex;

/// The hosting options the marketplace filters on.
pub fn search_hosting_keys() -> &'static [&'static str] {
    &search::HOSTING_KEYS
}

/// An immutable, indexed view of the whole catalogue. Built once per catalogue revision and
/// shared between requests, so reads never touch the database.
#[derive(Debug)]
pub struct Catalogue {
    pub revision: i64,
    pub taxonomy: Taxonomy,
    tools: Vec<Tool>,
    interfaces: Vec<Interface>,
    index: SearchIndex,
}

impl Catalogue {
    pub fn new(revision: i64, taxonomy: Taxonomy, mut tools: Vec<Tool>, mut interfaces: Vec<Interface>) -> Catalogue {
        // A stable order independent of how the store returned the rows.
        tools.sort_by(|a, b| a.slug.cmp(&b.slug));
        interfaces.sort_by(|a, b| a.slug.cmp(&b.slug));
        let index = SearchIndex::build(&taxonomy, &tools, &interfaces);
        Catalogue { revision, taxonomy, tools, interfaces, index }
    }

    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }

    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    pub fn tool(&self, slug: &str) -> Option<&Tool> {
        self.tools.binary_search_by(|t| t.slug.as_str().cmp(slug)).ok().map(|i| &self.tools[i])
    }

    pub fn interface(&self, slug: &str) -> Option<&Interface> {
        self.interfaces.binary_search_by(|t| t.slug.as_str().cmp(slug)).ok().map(|i| &self.interfaces[i])
    }

    /// Tools that implement the interface, with the direction each declares.
    pub fn implementers<'a>(&'a self, interface: &'a str) -> impl Iterator<Item = (&'a Tool, &'a ToolInterface)> {
        self.tools.iter().filter_map(move |t| t.interfaces.iter().find(|i| i.interface == interface).map(|i| (t, i)))
    }

    pub fn search(&self, query: &ToolQuery) -> SearchResult<'_> {
        search::run(self, query)
    }

    /// The catalogue as one document, the format `catalogue import` reads.
    pub fn to_document(&self) -> CatalogueDocument {
        CatalogueDocument {
            taxonomy: Some(self.taxonomy.clone()),
            interfaces: self.interfaces.clone(),
            tools: self.tools.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Catalogue {
        let doc = bundled::document().unwrap();
        Catalogue::new(1, doc.taxonomy.unwrap(), doc.tools, doc.interfaces)
    }

    fn slugs(result: &SearchResult<'_>) -> Vec<String> {
        let mut s: Vec<String> = result.hits.iter().map(|h| h.tool.slug.to_string()).collect();
        s.sort();
        s
    }

    fn query(q: &str) -> ToolQuery {
        ToolQuery { q: Some(q.into()), per_page: 100, ..ToolQuery::default() }
    }

    #[test]
    fn german_word_forms_find_the_same_tools() {
        let c = bundled();
        let plural = c.search(&query("Bürgerhaushalte"));
        let singular = c.search(&query("Bürgerhaushalt"));
        assert!(slugs(&plural).contains(&"decidim".to_owned()), "{:?}", slugs(&plural));
        assert_eq!(slugs(&plural), slugs(&singular));
        assert!(!slugs(&plural).contains(&"limesurvey".to_owned()));
    }

    #[test]
    fn a_query_without_umlauts_finds_the_words_with_them() {
        let c = bundled();
        assert_eq!(slugs(&c.search(&query("Buergerhaushalt"))), slugs(&c.search(&query("Bürgerhaushalt"))));
        assert!(slugs(&c.search(&query("Maengelmelder"))).contains(&"maengelmelder".to_owned()));
    }

    #[test]
    fn synonyms_of_the_field_find_each_other() {
        let c = bundled();
        let budget = slugs(&c.search(&query("Bürgerbudget")));
        assert!(budget.contains(&"consul-democracy".to_owned()), "{budget:?}");
        // "Mängelmelder" is also a kind of tool: it finds the defect-reporting tools.
        let defects = slugs(&c.search(&query("Mängelmelder")));
        assert!(
            defects.contains(&"klarschiff".to_owned()) && defects.contains(&"fixmystreet".to_owned()),
            "{defects:?}"
        );
        // "barrierefrei" finds the tools whose records state accessibility facts.
        let accessible = slugs(&c.search(&query("barrierefrei")));
        for t in c.tools().iter().filter(|t| t.accessibility.is_known()) {
            assert!(accessible.contains(&t.slug.to_string()), "{} has accessibility facts", t.slug);
        }
    }

    #[test]
    fn a_search_that_finds_nothing_suggests_the_nearest_words() {
        let c = bundled();
        let r = c.search(&query("Umfrgen"));
        assert_eq!(r.total, 0);
        assert_eq!(r.suggestions, vec!["umfragen".to_owned()]);
        assert!(!c.search(&query(&r.suggestions[0])).hits.is_empty());
        assert!(c.search(&query("Quantenphysik")).suggestions.is_empty(), "nothing near: no suggestion");
    }

    #[test]
    fn a_part_of_a_compound_finds_the_compound() {
        let c = bundled();
        assert!(slugs(&c.search(&query("Mängel"))).contains(&"maengelmelder".to_owned()));
    }

    #[test]
    fn all_terms_must_match() {
        let c = bundled();
        let both = slugs(&c.search(&query("Umfragen Karte")));
        let surveys = slugs(&c.search(&query("Umfragen")));
        assert!(both.len() < surveys.len());
        assert!(c.search(&query("Umfragen Quantenphysik")).hits.is_empty());
    }

    #[test]
    fn facets_combine_and_count_the_result() {
        let c = bundled();
        let q = ToolQuery {
            functions: vec!["participatory-budgeting".into()],
            licence: vec![LicenceFacet::OpenSource],
            per_page: 100,
            ..ToolQuery::default()
        };
        let r = c.search(&q);
        assert!(r.total > 0);
        for hit in &r.hits {
            assert!(hit.tool.functions.values.contains(&"participatory-budgeting".into()));
            assert!(hit.tool.licence.as_option().unwrap().open_source);
        }
        let pb = r.facets.functions.iter().find(|f| f.key == "participatory-budgeting").unwrap();
        assert_eq!(pb.count, r.total);
    }

    #[test]
    fn paging_splits_the_result_without_losing_tools() {
        let c = bundled();
        let all = c.search(&ToolQuery { per_page: 100, sort: SortOrder::Name, ..ToolQuery::default() });
        let mut paged = Vec::new();
        for page in 1..=all.total.div_ceil(4) {
            let r = c.search(&ToolQuery { per_page: 4, page, sort: SortOrder::Name, ..ToolQuery::default() });
            paged.extend(r.hits.iter().map(|h| h.tool.slug.to_string()));
        }
        let names: Vec<String> = all.hits.iter().map(|h| h.tool.slug.to_string()).collect();
        assert_eq!(names, paged);
    }

    #[test]
    fn results_do_not_depend_on_the_order_of_the_records() {
        let doc = bundled::document().unwrap();
        let mut reversed = doc.tools.clone();
        reversed.reverse();
        let a = Catalogue::new(1, doc.taxonomy.clone().unwrap(), doc.tools, doc.interfaces.clone());
        let b = Catalogue::new(1, doc.taxonomy.unwrap(), reversed, doc.interfaces);
        let order = |c: &Catalogue| {
            c.search(&query("Beteiligung")).hits.iter().map(|h| h.tool.slug.to_string()).collect::<Vec<_>>()
        };
        assert_eq!(order(&a), order(&b));
    }

    #[test]
    fn a_tool_with_its_publiccode_facts_exports_a_valid_file() {
        let c = bundled();
        let yaml = publiccode::export(c.tool("decidim").unwrap(), &c.taxonomy).unwrap();
        assert_eq!(publiccode::check(&yaml).unwrap(), Vec::<String>::new());
        assert!(yaml.contains("AGPL-3.0-or-later"));
        let again = publiccode::import(&yaml, c.tool("decidim"), time::macros::date!(2026 - 11 - 26)).unwrap();
        assert_eq!(again.name, "Decidim");
    }

    #[test]
    fn a_tool_without_a_public_repository_is_not_exported_with_guesses() {
        let c = bundled();
        // Slido is closed source: its record says so (`source_repository: null`).
        let err = publiccode::export(c.tool("slido").unwrap(), &c.taxonomy).unwrap_err();
        assert!(
            matches!(err, publiccode::PubliccodeError::Incomplete(ref m) if m.contains(&"source_repository")),
            "{err}"
        );
    }
}
