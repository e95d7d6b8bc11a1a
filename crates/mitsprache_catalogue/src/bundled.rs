//! The catalogue shipped with the hub (folder `catalogue/` at the repository root), loaded into
//! an empty database on first start so that a fresh hub shows a full marketplace. Every fact in
//! it carries a source; see `catalogue/README.md` for how records are researched.

use crate::{CatalogueDocument, CatalogueItem, ParseError, Taxonomy, parse_document};

macro_rules! files {
    ($($path:literal),* $(,)?) => { &[$(($path, include_str!(concat!("../../../catalogue/", $path)))),*] };
}

/// (path below `catalogue/`, contents). A test checks that this list and the folder agree.
pub const FILES: &[(&str, &str)] = files![
    "taxonomy.json",
    "interfaces/adhocracy-rest.json",
    "interfaces/consul-graphql.json",
    "interfaces/dcat-ap-plu.json",
    "interfaces/decidim-graphql.json",
    "interfaces/decidim-oauth2-provider.json",
    "interfaces/dipas-pds.json",
    "interfaces/govocal-public-api.json",
    "interfaces/govocal-webhooks.json",
    "interfaces/idt-export.json",
    "interfaces/limesurvey-remotecontrol.json",
    "interfaces/limesurvey-rest.json",
    "interfaces/meinberlin-rest.json",
    "interfaces/oidc-login.json",
    "interfaces/oparl.json",
    "interfaces/open311-georeport-v2.json",
    "interfaces/polis-export.json",
    "interfaces/saml-login.json",
    "interfaces/xbeteiligung.json",
    "tools/adhocracy-plus.json",
    "tools/aula.json",
    "tools/barcamptools.json",
    "tools/beteiligung-nrw.json",
    "tools/beteiligungsportal-bw.json",
    "tools/beteiligungsportal-hessen.json",
    "tools/beteiligungsportal-sachsen-anhalt.json",
    "tools/beteiligungsportal-sachsen.json",
    "tools/bob-sh.json",
    "tools/civicom.json",
    "tools/civocracy.json",
    "tools/consul-democracy.json",
    "tools/crossiety.json",
    "tools/decidim.json",
    "tools/democy.json",
    "tools/demosplan.json",
    "tools/dipas.json",
    "tools/diplanbeteiligung.json",
    "tools/dorffunk.json",
    "tools/epartool.json",
    "tools/fixmystreet.json",
    "tools/go-vocal.json",
    "tools/ins-gis-beteiligung.json",
    "tools/klarschiff.json",
    "tools/kobotoolbox.json",
    "tools/lamapoll.json",
    "tools/limesurvey.json",
    "tools/liquidfeedback.json",
    "tools/loomio.json",
    "tools/maengelmelder.json",
    "tools/maerker-brandenburg.json",
    "tools/maptionnaire.json",
    "tools/mark-a-spot.json",
    "tools/meinberlin.json",
    "tools/meldoo.json",
    "tools/mentimeter.json",
    "tools/ontopica-dito.json",
    "tools/openpetition.json",
    "tools/openslides.json",
    "tools/particify.json",
    "tools/partimap.json",
    "tools/polis.json",
    "tools/polyas.json",
    "tools/slido.json",
    "tools/sosci-survey.json",
    "tools/stadtgestalten.json",
    "tools/tetraeder-inka.json",
    "tools/ushahidi.json",
    "tools/wer-denkt-was.json",
    "tools/your-priorities.json",
    "tools/zebralog.json",
];

/// The bundled catalogue as one document.
pub fn document() -> Result<CatalogueDocument, (String, ParseError)> {
    let mut doc = CatalogueDocument::default();
    for (path, text) in FILES {
        match parse_document(text).map_err(|e| ((*path).to_owned(), e))? {
            CatalogueItem::Document(d) => {
                doc.taxonomy = d.taxonomy.or(doc.taxonomy.take());
                doc.interfaces.extend(d.interfaces);
                doc.tools.extend(d.tools);
            }
            CatalogueItem::Tool(t) => doc.tools.push(*t),
            CatalogueItem::Interface(i) => doc.interfaces.push(i),
        }
    }
    Ok(doc)
}

pub fn taxonomy() -> Taxonomy {
    document().ok().and_then(|d| d.taxonomy).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate_catalogue;
    use std::collections::BTreeSet;

    #[test]
    fn every_file_in_the_catalogue_folder_is_bundled() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../catalogue");
        let mut on_disk = BTreeSet::new();
        for sub in ["", "interfaces", "tools"] {
            for entry in std::fs::read_dir(format!("{root}/{sub}")).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                if name.ends_with(".json") {
                    on_disk.insert(if sub.is_empty() { name } else { format!("{sub}/{name}") });
                }
            }
        }
        let bundled: BTreeSet<String> = FILES.iter().map(|(p, _)| (*p).to_owned()).collect();
        assert_eq!(on_disk, bundled);
    }

    #[test]
    fn the_bundled_catalogue_is_valid_and_large_enough() {
        let doc = document().unwrap();
        let taxonomy = doc.taxonomy.clone().unwrap();
        // The real date: a record read "tomorrow" is a typo the check must catch.
        let today = time::OffsetDateTime::now_utc().date();
        let errors = validate_catalogue(&taxonomy, &doc.tools, &doc.interfaces, today);
        assert!(errors.is_empty(), "{}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"));
        assert!(doc.tools.len() >= 40, "the marketplace issue asks for at least 40 real tools");
    }

    #[test]
    fn every_function_and_process_type_has_both_labels() {
        let t = taxonomy();
        for term in t.functions.iter().chain(&t.process_types) {
            assert!(
                !term.label.de.is_empty() && term.label.en.as_deref().is_some_and(|e| !e.is_empty()),
                "{}",
                term.key
            );
        }
    }
}
