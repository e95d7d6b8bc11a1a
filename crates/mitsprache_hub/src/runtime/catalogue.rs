//! The catalogue and what is derived from it, as one immutable snapshot swapped atomically, so
//! a request never sees a matching index built from another revision than the catalogue it
//! reads, and reads never wait for the database.

use arc_swap::ArcSwap;
use mitsprache_catalogue::{Catalogue, bundled};
use mitsprache_matching::MatchIndex;
use mitsprache_store::{Store, StoreError};
use std::sync::Arc;

pub struct Snapshot {
    pub catalogue: Arc<Catalogue>,
    pub matching: Arc<MatchIndex>,
}

impl Snapshot {
    fn of(catalogue: Catalogue) -> Snapshot {
        let matching = Arc::new(MatchIndex::new(&catalogue));
        Snapshot { catalogue: Arc::new(catalogue), matching }
    }
}

pub struct CatalogueSnapshot {
    current: ArcSwap<Snapshot>,
}

impl CatalogueSnapshot {
    pub async fn load(store: &Store) -> Result<CatalogueSnapshot, StoreError> {
        Ok(CatalogueSnapshot { current: ArcSwap::from_pointee(Snapshot::of(read(store).await?)) })
    }

    pub fn get(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Rebuilds the snapshot when the stored revision differs from the one served.
    ///
    /// Refreshes run concurrently (after every write, and on a timer): a slower one that read
    /// an older revision must not replace the newer snapshot a faster one stored, or a write
    /// that was answered would vanish from reads until the next change.
    pub async fn refresh(&self, store: &Store) -> Result<bool, StoreError> {
        let stored = store.catalogue().revision().await?;
        if stored == self.current.load().catalogue.revision {
            return Ok(false);
        }
        let fresh = Arc::new(Snapshot::of(read(store).await?));
        let previous = self.current.rcu(|current| {
            if fresh.catalogue.revision > current.catalogue.revision { fresh.clone() } else { current.clone() }
        });
        Ok(fresh.catalogue.revision > previous.catalogue.revision)
    }
}

async fn read(store: &Store) -> Result<Catalogue, StoreError> {
    let data = store.catalogue().load().await?;
    // A store filled by an older import may lack the taxonomy; the bundled one keeps labels.
    let taxonomy = data.taxonomy.unwrap_or_else(bundled::taxonomy);
    Ok(Catalogue::new(data.revision, taxonomy, data.tools, data.interfaces))
}
