//! Compression on a pool of threads of its own, fed through bounded channels, so that receiving
//! (the SSH stream, tar parsing, the sha256 of every member) and compressing overlap, and the
//! compressing itself runs on every core.
//!
//! The archive's uncompressed bytes are cut into [`CHUNK`]s; each becomes an independent gzip
//! member (see `codec`), compressed by one of the workers, and a writer thread puts the members
//! in order into the output, hashing the archive as it goes (the shape of pigz). On issue 4's
//! benchmark compression was the bound of the whole stream: gzip level 1 on one thread ran at
//! ~245 MiB/s while the transport carries ~600 MiB/s.
//!
//! Memory stays bounded by construction: at most [`in_flight`] chunks are handed over and not
//! yet written (each up to two buffers of [`CHUNK`] bytes, the input and its member), plus the one
//! being filled.

use std::io::{self, Write};
use std::num::NonZeroUsize;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::{Scope, ScopedJoinHandle};

use super::codec::{CHUNK, Codec};
use super::hashing::{HashingWriter, Sha256Sum};

/// What the writer thread made: the archive's sha256, its size, and the output writer.
pub type Compressed<W> = (Sha256Sum, u64, W);

/// A compressed chunk: one gzip member, or why compressing failed.
type Member = io::Result<Vec<u8>>;
/// A chunk to compress, and where its member goes.
type Job = (Vec<u8>, SyncSender<Member>);

/// The compressing threads: one per core the process may use.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// Chunks handed over and not yet written: two per worker, so each worker has the next chunk
/// ready when it finishes one, while the writer waits on the oldest.
fn in_flight(workers: usize) -> usize {
    2 * workers
}

/// Starts compressing with `codec` into `out` on threads of `scope`. Write the archive's
/// uncompressed bytes to the returned [`ChunkSender`], [`ChunkSender::close`] it, then
/// [`Compressor::finish`].
pub fn spawn<'scope, W: Write + Send + 'scope>(
    scope: &'scope Scope<'scope, '_>,
    codec: Codec,
    out: W,
) -> (ChunkSender, Compressor<'scope, W>) {
    let workers = workers();
    let (jobs, job_rx) = sync_channel::<Job>(workers);
    let job_rx = Arc::new(Mutex::new(job_rx));
    for _ in 0..workers {
        let job_rx = Arc::clone(&job_rx);
        scope.spawn(move || {
            let mut encoder = codec.chunk_encoder();
            // Ends when the sender is closed or dropped. A lock poisoned by a panicking worker
            // ends this one too; the writer then sees a member never sent.
            while let Some((chunk, member)) = job_rx.lock().ok().and_then(|rx| rx.recv().ok()) {
                // The writer may have stopped (a write failed): nothing more to do for this one.
                let _ = member.send(encoder.compress(&chunk));
            }
        });
    }
    let (order, order_rx) = sync_channel::<Receiver<Member>>(in_flight(workers));
    let handle = scope.spawn(move || {
        let mut out = HashingWriter::new(out);
        // Members in the order their chunks were handed over. An error drops `order_rx`, so the
        // receiving side fails its next hand-over instead of blocking.
        for member in order_rx {
            let member = member
                .recv()
                .map_err(|_| io::Error::other("a compressing thread stopped"))??;
            out.write_all(&member)?;
        }
        Ok(out.finish())
    });
    let sender = ChunkSender {
        channels: Some((jobs, order)),
        buf: Vec::with_capacity(CHUNK),
        members: 0,
    };
    (sender, Compressor { handle })
}

/// The writing end: batches writes into chunks for the compressing threads.
pub struct ChunkSender {
    /// Jobs for the workers, and the writer's queue of members in order; `None` once closed.
    channels: Option<(SyncSender<Job>, SyncSender<Receiver<Member>>)>,
    buf: Vec<u8>,
    members: u64,
}

impl ChunkSender {
    /// Hands over what is buffered (waiting while too many chunks are in flight).
    fn send(&mut self) -> io::Result<()> {
        let stopped = || io::Error::new(io::ErrorKind::BrokenPipe, "the compressor stopped");
        let (jobs, order) = self.channels.as_ref().ok_or_else(stopped)?;
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        let (member, member_rx) = sync_channel(1);
        // The writer's place first: it bounds what is in flight, and a job is never compressed
        // without the writer waiting for it.
        order.send(member_rx).map_err(|_| stopped())?;
        jobs.send((chunk, member)).map_err(|_| stopped())?;
        self.members += 1;
        Ok(())
    }

    /// Hands over the rest and closes the channels: the writer finishes after the last member.
    /// Empty input still makes one member: a file of no member at all is not gzip.
    pub fn close(mut self) -> io::Result<()> {
        if !self.buf.is_empty() || self.members == 0 {
            self.send()?;
        }
        self.channels = None;
        Ok(())
    }
}

impl Write for ChunkSender {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&buf[..n]);
        if self.buf.len() == CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    /// Members are only made of whole chunks but the last: nothing to do until the chunk is full.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The writer thread (the workers end with the channels and are joined by the scope).
pub struct Compressor<'scope, W> {
    handle: ScopedJoinHandle<'scope, io::Result<Compressed<W>>>,
}

impl<W> Compressor<'_, W> {
    /// Waits for the writer: the finished archive, or the output's error (a full disk). Call it
    /// after the [`ChunkSender`] is closed or dropped, or it waits forever.
    pub fn finish(self) -> io::Result<Compressed<W>> {
        match self.handle.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_writes_the_same_bytes_as_one_thread() {
        for len in [0, 1000, 3 * CHUNK + 17] {
            let input = crate::archive::fixtures::sqlite_like(len);
            let mut one = Codec::default().encoder(Vec::new());
            one.write_all(&input).unwrap();
            let expected = one.finish().unwrap();
            let (sum, bytes, pooled) = std::thread::scope(|scope| {
                let (mut chunks, compressor) = spawn(scope, Codec::default(), Vec::new());
                // Odd-sized writes: the chunks are cut the same whatever the writes.
                for piece in input.chunks(77_777) {
                    chunks.write_all(piece).unwrap();
                }
                chunks.close().unwrap();
                compressor.finish().unwrap()
            });
            assert!(pooled == expected, "{len} bytes");
            assert_eq!(
                (sum, bytes),
                (Sha256Sum::of(&expected), expected.len() as u64)
            );
        }
    }
}
