//! Paths in the JSON hubfleet writes (reports): as text, for
//! `#[serde(serialize_with = "crate::lossy_path::serialize")]`.

/// Serializes an optional path as text, bytes that are not UTF-8 shown as U+FFFD: serde refuses
/// such a path, which would cost the whole report.
pub fn serialize<S: serde::Serializer>(
    path: &Option<std::path::PathBuf>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match path {
        Some(path) => serializer.serialize_some(&path.to_string_lossy()),
        None => serializer.serialize_none(),
    }
}
