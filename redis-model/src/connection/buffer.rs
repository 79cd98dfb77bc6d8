//! The driver's read and write buffers: small while the connection is idle, as large as the
//! traffic needs while it is busy.
//!
//! A client holds many connections (a pool per node of a cluster) and most of them sit idle,
//! so what an idle one keeps is paid for every connection. A buffer starts small, grows
//! geometrically under load or for a large reply or command, and is freed once the connection
//! turns idle with the buffer empty, if it grew past [`IDLE_MAX`]. The next busy period starts
//! with as much room as the last one needed, in one allocation rather than by growing again.
//! While the connection stays busy nothing is freed or made smaller: the allocation is reused
//! as its bytes are consumed, and another is made only when the replies callers still hold
//! (slices of it) leave too little room.

use bytes::BytesMut;

/// The largest buffer an idle connection keeps. Small replies and commands, one caller at a
/// time, fit in it, so such a connection keeps its buffers between requests instead of
/// allocating them for each.
const IDLE_MAX: usize = 4 * 1024;

#[derive(Debug)]
pub(super) struct Buffer {
    pub(super) bytes: BytesMut,
    /// The largest capacity seen since the buffer was last allocated from empty: a lower
    /// bound on its allocation, which `BytesMut::capacity` is not once bytes are taken off the
    /// front.
    allocated: usize,
    /// The most bytes held at once since the connection was last idle.
    peak: usize,
    /// The free space [`Buffer::make_room`] makes.
    chunk: usize,
    min_chunk: usize,
    max_chunk: usize,
}

impl Buffer {
    /// An empty buffer, that makes room `min_chunk` at a time at first and never more than
    /// `max_chunk` at a time.
    pub(super) fn new(min_chunk: usize, max_chunk: usize) -> Self {
        Buffer {
            bytes: BytesMut::new(),
            allocated: 0,
            peak: 0,
            chunk: min_chunk,
            min_chunk,
            max_chunk,
        }
    }

    /// Makes a chunk of room when less than a quarter of one is free. An allocation no bytes
    /// point into any more is reused rather than replaced.
    pub(super) fn make_room(&mut self) {
        if self.free() < self.chunk / 4 {
            self.bytes.reserve(self.chunk);
            self.allocated = self.allocated.max(self.bytes.capacity());
        }
    }

    pub(super) fn free(&self) -> usize {
        self.bytes.capacity() - self.bytes.len()
    }

    /// Records what the buffer holds, after bytes were added.
    pub(super) fn filled(&mut self) {
        self.peak = self.peak.max(self.bytes.len());
        self.allocated = self.allocated.max(self.bytes.capacity());
    }

    /// Doubles the room made at a time, up to the most: a read took all the free space, so
    /// more was waiting.
    pub(super) fn grow_chunk(&mut self) {
        self.chunk = (self.chunk * 2).min(self.max_chunk);
    }

    /// The connection has turned idle: the next busy period makes room by the most this one
    /// held, and the buffer is freed if it is empty and larger than an idle connection keeps.
    pub(super) fn on_idle(&mut self) {
        self.chunk = self
            .peak
            .next_power_of_two()
            .clamp(self.min_chunk, self.max_chunk);
        self.peak = 0;
        if self.bytes.is_empty() && self.allocated > IDLE_MAX {
            self.bytes = BytesMut::new();
            self.allocated = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Buf;

    use super::*;

    const MIN: usize = 1024;
    const MAX: usize = 64 * 1024;

    /// What a read of `n` bytes does to the buffer.
    fn read(buf: &mut Buffer, n: usize) {
        buf.make_room();
        let free = buf.free();
        let n = n.min(free);
        buf.bytes.extend_from_slice(&vec![b'x'; n]);
        buf.filled();
        if n == free {
            buf.grow_chunk();
        }
    }

    #[test]
    fn starts_small_and_keeps_a_small_buffer_when_idle() {
        let mut buf = Buffer::new(MIN, MAX);
        assert_eq!(buf.bytes.capacity(), 0, "nothing before the first use");
        read(&mut buf, 100);
        assert_eq!(buf.bytes.capacity(), MIN);
        buf.bytes.advance(100);
        let at = buf.bytes.as_ptr();
        buf.on_idle();
        read(&mut buf, 100);
        assert_eq!(
            buf.bytes.as_ptr(),
            at,
            "the same allocation, kept while idle"
        );
    }

    #[test]
    fn grows_geometrically_for_a_large_reply_and_is_freed_when_idle() {
        let mut buf = Buffer::new(MIN, MAX);
        let large = 1 << 20;
        let mut reads = 0;
        while buf.bytes.len() < large {
            let missing = large - buf.bytes.len();
            read(&mut buf, missing);
            reads += 1;
        }
        assert!(reads < 40, "{reads} reads for 1 MiB");
        assert!(buf.bytes.capacity() < 2 * large + MAX);
        // The reply is split off and dropped by its caller; the connection turns idle.
        drop(buf.bytes.split_to(large));
        buf.on_idle();
        assert_eq!(buf.bytes.capacity(), 0);
        assert_eq!(
            buf.chunk, MAX,
            "the next busy period starts with the most room"
        );
        // A busy period of small replies brings the room back to the least.
        read(&mut buf, 100);
        buf.bytes.advance(100);
        buf.on_idle();
        assert_eq!(buf.chunk, MIN);
        assert_eq!(
            buf.bytes.capacity(),
            0,
            "the chunk made on waking is freed again"
        );
    }

    #[test]
    fn a_partial_frame_is_kept_when_idle() {
        let mut buf = Buffer::new(MIN, MAX);
        read(&mut buf, 10 * MIN);
        read(&mut buf, 10 * MIN);
        let held = buf.bytes.len();
        buf.on_idle();
        assert_eq!(buf.bytes.len(), held);
    }
}
