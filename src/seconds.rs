//! Durations in the JSON hubfleet writes (inventory dumps, reports): seconds as a number, to the
//! millisecond, for `#[serde(serialize_with = "crate::seconds::serialize")]`.

use std::time::Duration;

/// `d` as seconds, rounded to the millisecond.
pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}
