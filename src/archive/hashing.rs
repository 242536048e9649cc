//! SHA-256 while streaming: a reader and a writer that hash exactly the bytes that pass through
//! them, so a member or a whole archive is hashed once, as it is copied, never re-read or
//! buffered (the idea of uv's `uv-extract/src/hash.rs`).

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// A SHA-256 sum; shown and parsed as 64 lowercase hex digits, as `sha256sum` prints it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Sum([u8; 32]);

impl Sha256Sum {
    /// The sum of `bytes` (for small values such as the manifest; streams use the hashers).
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    fn from_hasher(hasher: Sha256) -> Self {
        Self(hasher.finalize().into())
    }
}

impl fmt::Display for Sha256Sum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Sha256Sum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Sum({self})")
    }
}

/// Why a string is not a SHA-256 sum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a sha256 sum (64 lowercase hex digits)")]
pub struct NotASha256(String);

impl FromStr for Sha256Sum {
    type Err = NotASha256;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Lowercase only: the host writes `hashlib.sha256().hexdigest()`, and one spelling keeps
        // sums comparable as text in reports.
        let lower = s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let mut sum = [0; 32];
        match hex::decode_to_slice(s, &mut sum) {
            Ok(()) if lower => Ok(Self(sum)),
            _ => Err(NotASha256(s.to_owned())),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Sha256Sum {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Sha256Sum {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A reader that hashes and counts every byte read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The sum and count of the bytes read, and the inner reader.
    pub fn finish(self) -> (Sha256Sum, u64, R) {
        (Sha256Sum::from_hasher(self.hasher), self.bytes, self.inner)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        // Only the newly read bytes: `buf` may hold stale data past `n`.
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// A writer that hashes and counts every byte the inner writer accepted.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The sum and count of the bytes written, and the inner writer.
    pub fn finish(self) -> (Sha256Sum, u64, W) {
        (Sha256Sum::from_hasher(self.hasher), self.bytes, self.inner)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        // A short write accepted only `n` bytes; the caller writes the rest again.
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // `printf abc | sha256sum`
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    /// Accepts at most two bytes per call, as a pipe or a socket may.
    struct Dribble(Vec<u8>);

    impl Write for Dribble {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(2);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn reader_and_writer_hash_exactly_the_bytes_passed() {
        let mut reader = HashingReader::new(&b"abc"[..]);
        let mut buf = [0xff; 64];
        while reader.read(&mut buf).unwrap() > 0 {}
        let (sum, bytes, _) = reader.finish();
        assert_eq!((sum.to_string().as_str(), bytes), (ABC, 3));

        let mut writer = HashingWriter::new(Dribble(Vec::new()));
        writer.write_all(b"abc").unwrap();
        let (sum, bytes, inner) = writer.finish();
        assert_eq!((sum.to_string().as_str(), bytes), (ABC, 3));
        assert_eq!(inner.0, b"abc");
        assert_eq!(Sha256Sum::of(b"abc").to_string(), ABC);
    }

    #[test]
    fn sums_parse_only_as_lowercase_hex() {
        assert_eq!(ABC.parse::<Sha256Sum>().unwrap().to_string(), ABC);
        for bad in [&ABC.to_uppercase(), &ABC[1..], "xyz", ""] {
            assert!(bad.parse::<Sha256Sum>().is_err(), "{bad}");
        }
    }
}
