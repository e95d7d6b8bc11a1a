//! Values read lately, kept for a short time: the portal's public pages are asked for far more
//! often than the records behind them change. A write of records through this instance empties
//! every such cache at once (`Hub::data_changed`); a write through another instance shows once
//! the value is older than the cache's `keep`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

pub(crate) struct Recent<T> {
    keep: Duration,
    /// Values kept at most; beyond it the stale ones go, and all of them when none is stale.
    max: usize,
    state: Mutex<State<T>>,
    /// One lock per key while its value is read: the requests that miss the same key at once
    /// (every request for a popular list, when it goes stale) wait for the first one's value
    /// instead of all asking the store; other keys are read beside it.
    reading: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

struct State<T> {
    /// Counts the clears, so that a value read before a write is not kept after it.
    generation: u64,
    entries: HashMap<String, (OffsetDateTime, Arc<T>)>,
}

impl<T> Recent<T> {
    pub(crate) fn new(keep: Duration, max: usize) -> Self {
        Recent {
            keep,
            max,
            state: Mutex::new(State { generation: 0, entries: HashMap::new() }),
            reading: Mutex::new(HashMap::new()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fresh(&self, at: OffsetDateTime, now: OffsetDateTime) -> bool {
        now >= at && now - at < self.keep
    }

    /// The value under `key` if it was read less than `keep` ago; else the generation to hand
    /// to `put` with the value read now.
    pub(crate) fn get(&self, key: &str, now: OffsetDateTime) -> Result<Arc<T>, u64> {
        let state = self.state();
        match state.entries.get(key) {
            Some((at, value)) if self.fresh(*at, now) => Ok(value.clone()),
            _ => Err(state.generation),
        }
    }

    /// Keeps `value`, read at `generation`, unless records were written since.
    pub(crate) fn put(&self, key: String, now: OffsetDateTime, generation: u64, value: Arc<T>) {
        let mut state = self.state();
        if state.generation != generation {
            return;
        }
        if state.entries.len() >= self.max {
            state.entries.retain(|_, (at, _)| self.fresh(*at, now));
            if state.entries.len() >= self.max {
                state.entries.clear();
            }
        }
        state.entries.insert(key, (now, value));
    }

    /// The value under `key`, read by `read` unless one read less than `keep` ago is there.
    pub(crate) async fn get_or_read<E, F>(&self, key: &str, now: OffsetDateTime, read: F) -> Result<Arc<T>, E>
    where
        F: std::future::Future<Output = Result<T, E>>,
    {
        if let Ok(value) = self.get(key, now) {
            return Ok(value);
        }
        let lock = {
            let mut reading = self.reading.lock().unwrap_or_else(|e| e.into_inner());
            reading.entry(key.to_owned()).or_default().clone()
        };
        // Removes the key's lock when the last one is out, also when a request is dropped while
        // it waits (a closed connection); a request arriving later makes a new one and finds the
        // value.
        let _leave = Leave { reading: &self.reading, key, lock: lock.clone() };
        let _reading = lock.lock().await;
        let generation = match self.get(key, now) {
            Ok(value) => return Ok(value),
            Err(generation) => generation,
        };
        let value = Arc::new(read.await?);
        self.put(key.to_owned(), now, generation, value.clone());
        Ok(value)
    }

    pub(crate) fn clear(&self) {
        let mut state = self.state();
        state.generation += 1;
        state.entries.clear();
    }
}

struct Leave<'a> {
    reading: &'a Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    key: &'a str,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        let mut reading = self.reading.lock().unwrap_or_else(|e| e.into_inner());
        // Held by the map, by this guard, and by the caller's clone, which lives until the
        // caller returns: three means no one else waits for it.
        if Arc::strong_count(&self.lock) <= 3 {
            reading.remove(self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn a_value_is_kept_until_it_is_stale_or_records_are_written() {
        let recent = Recent::new(Duration::seconds(5), 2);
        let generation = recent.get("a", at(0)).unwrap_err();
        recent.put("a".into(), at(0), generation, Arc::new(1));
        assert_eq!(*recent.get("a", at(4)).unwrap(), 1);
        assert!(recent.get("a", at(5)).is_err(), "stale after keep");
        assert!(recent.get("a", at(-1)).is_err(), "a clock set back does not keep it forever");
        recent.clear();
        assert!(recent.get("a", at(1)).is_err(), "a write empties it");
    }

    #[test]
    fn a_value_read_before_a_write_is_not_kept() {
        let recent = Recent::new(Duration::seconds(5), 2);
        let generation = recent.get("a", at(0)).unwrap_err();
        recent.clear();
        recent.put("a".into(), at(0), generation, Arc::new(1));
        assert!(recent.get("a", at(0)).is_err());
    }

    #[tokio::test]
    async fn requests_that_miss_at_once_read_once() {
        let recent = Arc::new(Recent::new(Duration::seconds(5), 2));
        let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut all = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (recent, reads) = (recent.clone(), reads.clone());
            all.spawn(async move {
                recent
                    .get_or_read("a", at(0), async {
                        reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        Ok::<_, ()>(7)
                    })
                    .await
            });
        }
        for value in all.join_all().await {
            assert_eq!(*value.unwrap(), 7);
        }
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(recent.reading.lock().unwrap().is_empty(), "no lock is left behind");
    }

    #[tokio::test]
    async fn a_slow_read_does_not_hold_up_another_key() {
        let recent = Arc::new(Recent::new(Duration::seconds(5), 4));
        let (started, wait) = tokio::sync::oneshot::channel::<()>();
        let slow = {
            let recent = recent.clone();
            tokio::spawn(async move {
                recent
                    .get_or_read("slow", at(0), async {
                        let _ = started.send(());
                        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                        Ok::<_, ()>(0)
                    })
                    .await
            })
        };
        wait.await.unwrap();
        let other = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            recent.get_or_read("other", at(0), async { Ok::<_, ()>(1) }),
        )
        .await;
        assert_eq!(*other.expect("not held up").unwrap(), 1);
        slow.abort();
        assert!(slow.await.is_err());
        assert!(recent.reading.lock().unwrap().is_empty(), "a dropped request leaves no lock behind");
    }

    #[test]
    fn it_holds_at_most_max_values() {
        let recent = Recent::new(Duration::seconds(5), 2);
        for (i, key) in ["a", "b", "c"].into_iter().enumerate() {
            let generation = recent.get(key, at(0)).unwrap_err();
            recent.put(key.into(), at(0), generation, Arc::new(i));
        }
        assert_eq!(recent.state().entries.len(), 1, "none was stale, so all went before c");
        assert_eq!(*recent.get("c", at(0)).unwrap(), 2);
    }
}
