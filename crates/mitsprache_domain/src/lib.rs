//! Entities and validated newtypes that every other crate speaks: locales, localized text,
//! slugs, facts that may be unknown, sources, e-mail addresses and accounts, and the injected
//! clock.
//!
//! Deliberately not here: anything that does I/O, knows HTTP or SQL, or belongs to a single
//! capability (the catalogue, matching and identity crates own their records).

mod account;
mod known;
mod locale;
mod role;
mod slug;

pub use account::{Account, Email, EmailError};
pub use known::{Known, Origin, Sourced, iso_date};
pub use locale::{Locale, LocalizedText};
pub use role::Role;
pub use slug::{Slug, SlugError};

use time::OffsetDateTime;

/// Time is injected so that tests can pin it; production uses [`SystemClock`].
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock tests move forward by hand, e.g. past a code's expiry.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<OffsetDateTime>);

impl ManualClock {
    pub fn new(start: OffsetDateTime) -> ManualClock {
        ManualClock(std::sync::Mutex::new(start))
    }

    pub fn advance(&self, by: time::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A clock that always answers the same instant; for tests and reproducible exports.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}
