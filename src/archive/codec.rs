//! The one place that knows how archives are compressed, so the codec can change by measurement
//! without touching `receive` or `verify`.
//!
//! gzip through flate2's default backend (miniz_oxide) at level 1: on a 147 MiB SQLite database
//! of random-ish rows (release build, this 2-core machine) miniz_oxide compresses at ~225 MiB/s
//! to a ratio of 0.415, zlib-rs at about the same speed to 0.512 (its level 1 is zlib-ng's
//! `deflate_quick`); higher levels of either run at half the speed or less. gzip keeps the archive
//! openable with any `tar xzf`.

use std::io::{self, Read, Write};

use flate2::write::GzEncoder;

/// How an archive is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// gzip (`.tar.gz`) at this deflate level (0–9).
    Gzip {
        /// The deflate level: 1 is fastest.
        level: u32,
    },
}

impl Default for Codec {
    fn default() -> Self {
        Self::Gzip { level: 1 }
    }
}

impl Codec {
    /// The file name extension of an archive, without the leading dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Gzip { .. } => "tar.gz",
        }
    }

    /// A writer that compresses into `out`.
    pub fn encoder<W: Write>(self, out: W) -> Encoder<W> {
        match self {
            Self::Gzip { level } => Encoder(GzEncoder::new(out, flate2::Compression::new(level))),
        }
    }

    /// A reader that decompresses `input`. It reads one gzip member; bytes after it stay unread.
    pub fn decoder<R: io::BufRead>(self, input: R) -> impl Read {
        match self {
            Self::Gzip { .. } => flate2::bufread::GzDecoder::new(input),
        }
    }
}

/// A compressing writer; [`Encoder::finish`] writes the trailer and must be called.
pub struct Encoder<W: Write>(GzEncoder<W>);

impl<W: Write> Encoder<W> {
    /// Writes what is buffered and the codec's trailer, and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        self.0.finish()
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;

    #[test]
    fn round_trips() {
        let codec = Codec::default();
        let mut encoder = codec.encoder(Vec::new());
        encoder.write_all(b"hello hub").unwrap();
        let compressed = encoder.finish().unwrap();
        let mut text = String::new();
        GzDecoder::new(&compressed[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "hello hub");
        let mut again = String::new();
        codec
            .decoder(&compressed[..])
            .read_to_string(&mut again)
            .unwrap();
        assert_eq!(again, "hello hub");
    }
}
