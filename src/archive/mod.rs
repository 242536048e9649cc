//! Backup archives: a host's backup arrives as an uncompressed tar stream whose last member is
//! `manifest.json`; [`receive`] hashes every member while it copies the stream into a compressed
//! archive and checks them all against the host's sums when the manifest arrives, [`store`] puts that archive into place atomically, and
//! [`verify`] re-checks an archive at any time.
//!
//! The pipeline reads off the files: `manifest` → `hashing` → `codec` (on the `compressor`
//! threads) → `receive` → `store`;
//! `verify` reads it back.

mod codec;
mod compressor;
mod dump_check;
mod hashing;
mod manifest;
mod progress;
mod receive;
mod store;
mod verify;

#[cfg(any(test, feature = "test-fixtures"))]
pub mod fixtures;

pub use codec::{Codec, Encoder};
pub use hashing::{HashingReader, HashingWriter, Sha256Sum};
pub use manifest::{
    DbBackend, MANIFEST_PATH, MAX_MANIFEST_BYTES, Manifest, ManifestError, Member, Role,
    SCHEMA_VERSION,
};
pub use progress::{NoProgress, Progress};
pub use receive::{MAX_MEMBERS, ReceiveError, Received, receive};
pub use store::{StoreError, Stored, store};
pub use verify::{Finding, Severity, Verification, verify, verify_reader};
