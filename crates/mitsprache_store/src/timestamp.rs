//! Points in time are `OffsetDateTime` in the API and Unix seconds (BIGINT) in the tables.

use crate::StoreError;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

pub(crate) fn secs(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

pub(crate) fn from_secs(column: &str, s: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(s).map_err(|_| StoreError::Corrupt(column.to_owned(), s.to_string()))
}

/// The time in `column` of a row.
pub(crate) fn at(row: &AnyRow, column: &str) -> Result<OffsetDateTime, StoreError> {
    from_secs(column, row.try_get(column)?)
}

pub(crate) fn at_opt(row: &AnyRow, column: &str) -> Result<Option<OffsetDateTime>, StoreError> {
    row.try_get::<Option<i64>, _>(column)?.map(|s| from_secs(column, s)).transpose()
}
