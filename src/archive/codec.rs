//! The one place that knows how archives are compressed, so the codec can change by measurement
//! without touching `receive` or `verify`.
//!
//! An archive is gzip made of independent members, one per [`CHUNK`] of the tar stream (RFC 1952
//! §2.2: a gzip file is a series of members; `gzip -d`, GNU tar, Python's `gzip` and flate2's
//! `MultiGzDecoder` read them all). Independent members let the compressor thread pool work on
//! several chunks at once (see `compressor`), and a whole chunk at a time suits libdeflate, which
//! compresses buffers, not streams.
//!
//! libdeflate at level 1, by measurement (issue 4; 1 MiB chunks of the 1 GiB benchmark database,
//! release build, this 2-core machine, one core, three runs each, interleaved): libdeflate ~320
//! MiB/s to a ratio of 0.324, flate2's zlib-rs backend ~305 MiB/s to 0.417, flate2's default
//! miniz_oxide ~245 MiB/s to 0.384. libdeflate is both the fastest and the smallest; its level 2
//! runs at ~230 MiB/s for 0.315, not worth it. Cutting into 1 MiB members costs nothing
//! measurable in ratio (deflate's window is 32 KiB).

use std::io::{self, BufRead, Read, Write};

use flate2::bufread::GzDecoder;

/// Bytes of the tar stream per gzip member: large enough that a member's header and trailer (18
/// bytes) and the restarted window cost nothing, small enough that a few in flight per thread
/// keep memory flat.
pub const CHUNK: usize = 1 << 20;

/// How an archive is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// gzip (`.tar.gz`), one member per [`CHUNK`], at this libdeflate level (0–12).
    Gzip {
        /// The compression level: 1 is fastest.
        level: i32,
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

    /// Compresses one chunk at a time; one per thread.
    pub fn chunk_encoder(self) -> ChunkEncoder {
        match self {
            Self::Gzip { level } => {
                let level = libdeflater::CompressionLvl::new(level)
                    .unwrap_or_else(|_| libdeflater::CompressionLvl::fastest());
                ChunkEncoder {
                    compressor: libdeflater::Compressor::new(level),
                    scratch: Vec::new(),
                }
            }
        }
    }

    /// A writer that compresses into `out` on the calling thread, chunk by chunk: the same bytes
    /// as the compressor thread pool writes.
    pub fn encoder<W: Write>(self, out: W) -> Encoder<W> {
        Encoder {
            chunk: self.chunk_encoder(),
            buf: Vec::with_capacity(CHUNK),
            members: 0,
            out,
        }
    }

    /// A reader that decompresses every member of `input`. It stops before bytes that do not
    /// start a member, which stay unread in `input` for the caller to notice.
    pub fn decoder<R: BufRead>(self, input: R) -> Decoder<R> {
        match self {
            Self::Gzip { .. } => Decoder {
                state: State::Member(GzDecoder::new(input)),
            },
        }
    }
}

/// Compresses a chunk into one complete gzip member.
pub struct ChunkEncoder {
    compressor: libdeflater::Compressor,
    /// The worst-case output, allocated and zeroed once: a fresh zeroed buffer per chunk showed
    /// as ~2.5% of the controller's CPU in `perf` (memset and page faults), more than copying
    /// the member out of here.
    scratch: Vec<u8>,
}

impl ChunkEncoder {
    /// `input` as one gzip member.
    pub fn compress(&mut self, input: &[u8]) -> io::Result<Vec<u8>> {
        let bound = self.compressor.gzip_compress_bound(input.len());
        if self.scratch.len() < bound {
            self.scratch.resize(bound, 0);
        }
        let n = self
            .compressor
            .gzip_compress(input, &mut self.scratch)
            .map_err(|e| io::Error::other(format!("libdeflate: {e:?}")))?;
        Ok(self.scratch[..n].to_vec())
    }
}

/// A compressing writer; [`Encoder::finish`] writes the last member and must be called.
pub struct Encoder<W: Write> {
    chunk: ChunkEncoder,
    buf: Vec<u8>,
    members: u64,
    out: W,
}

impl<W: Write> Encoder<W> {
    fn flush_chunk(&mut self) -> io::Result<()> {
        let member = self.chunk.compress(&self.buf)?;
        self.out.write_all(&member)?;
        self.buf.clear();
        self.members += 1;
        Ok(())
    }

    /// Writes what is buffered as the last member, and returns the inner writer. Empty input
    /// still makes one (empty) member: a file of no member at all is not gzip.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.buf.is_empty() || self.members == 0 {
            self.flush_chunk()?;
        }
        Ok(self.out)
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&buf[..n]);
        if self.buf.len() == CHUNK {
            self.flush_chunk()?;
        }
        Ok(n)
    }

    /// Members are only written whole; this flushes the output, not the chunk being filled.
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A decompressing reader over every member (see [`Codec::decoder`]).
pub struct Decoder<R: BufRead> {
    state: State<R>,
}

enum State<R: BufRead> {
    /// Inside a member; the first one is always entered, so empty input or input that is not
    /// gzip at all is an error, not an empty archive.
    Member(GzDecoder<R>),
    /// Between members: the next byte says whether another member follows.
    Between(R),
    /// Only while switching states.
    Switching,
}

/// gzip's first magic byte (RFC 1952 §2.3.1); the decoder checks the second.
const GZIP_ID1: u8 = 0x1f;

impl<R: BufRead> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match std::mem::replace(&mut self.state, State::Switching) {
                State::Member(mut member) => match member.read(buf) {
                    Ok(0) => self.state = State::Between(member.into_inner()),
                    result => {
                        self.state = State::Member(member);
                        return result;
                    }
                },
                State::Between(mut input) => {
                    let next = input.fill_buf().map(|b| b.first().copied());
                    match next {
                        Ok(Some(GZIP_ID1)) => self.state = State::Member(GzDecoder::new(input)),
                        // The end of the input, or bytes that are not gzip: left to the caller.
                        Ok(_) => {
                            self.state = State::Between(input);
                            return Ok(0);
                        }
                        Err(e) => {
                            self.state = State::Between(input);
                            return Err(e);
                        }
                    }
                }
                State::Switching => unreachable!("the state is always restored"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::MultiGzDecoder;

    fn compressed(input: &[u8]) -> Vec<u8> {
        let mut encoder = Codec::default().encoder(Vec::new());
        encoder.write_all(input).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn round_trips_through_several_members() {
        let input = crate::archive::fixtures::sqlite_like(2 * CHUNK + 12_345);
        let archive = compressed(&input);
        // What `gzip -d` and `tar xzf` do: read every member.
        let mut standard = Vec::new();
        MultiGzDecoder::new(&archive[..])
            .read_to_end(&mut standard)
            .unwrap();
        assert_eq!(standard, input);
        let mut ours = Vec::new();
        Codec::default()
            .decoder(&archive[..])
            .read_to_end(&mut ours)
            .unwrap();
        assert_eq!(ours, input);
    }

    #[test]
    fn empty_input_is_one_empty_member() {
        let archive = compressed(b"");
        assert!(archive.starts_with(&[0x1f, 0x8b]), "{archive:?}");
        let mut text = Vec::new();
        Codec::default()
            .decoder(&archive[..])
            .read_to_end(&mut text)
            .unwrap();
        assert_eq!(text, b"");
    }

    #[test]
    fn bytes_after_the_last_member_stay_unread() {
        let mut archive = compressed(b"hello hub");
        archive.extend_from_slice(b"junk");
        let mut input = &archive[..];
        let mut text = String::new();
        Codec::default()
            .decoder(&mut input)
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!((text.as_str(), input), ("hello hub", &b"junk"[..]));
    }

    #[test]
    fn input_that_is_not_gzip_is_an_error() {
        for input in [&b""[..], b"plain text"] {
            let mut text = Vec::new();
            let result = Codec::default().decoder(input).read_to_end(&mut text);
            assert!(result.is_err(), "{input:?}");
        }
    }
}
