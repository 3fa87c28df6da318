//! One shard of the registry: a hash table of `Arc<SessionHandle>` that many threads read
//! with no lock while one writer at a time changes it. The only module of the crate with
//! `unsafe` code.
//!
//! # Layout
//!
//! The table is an array of 64-byte **chunks** (a power of two of them), each one cache
//! line: a control word and seven 8-byte slots. A slot holds a session as the raw pointer
//! of an `Arc<SessionHandle>` (`Arc::into_raw`), or null; the key is the id inside the
//! session, never stored again. The control word holds, in bytes 0..7, a **tag** per slot
//! (`0x80 | top 7 bits of the id's hash` when the slot is full, `0` when it is empty), and
//! in byte 7 the chunk's **overflow count**: how many sessions of the table were placed
//! beyond this chunk on their probe path because it was full (saturating at 255, and then
//! sticky until the table is rebuilt). A lookup reads one control word, compares all seven
//! tags at once, dereferences only the slots whose tag matches, and stops at the first
//! chunk whose overflow count is zero: one cache line of the table and the session's own
//! line, for most lookups. No tombstones: a removal frees its slot and takes its count
//! back off the chunks it had overflowed.
//!
//! The table's address carries the base-2 logarithm of its chunk count in its low six bits
//! (chunks are 64-byte aligned), so one atomic load gives a reader both.
//!
//! # Concurrency
//!
//! * **Writers** (register, replace, remove, growth) hold the shard's mutex: one at a time,
//!   so the table's state only changes by one writer's stores, each computed from the
//!   state the last writer left.
//! * **Readers** take no lock. They pin the thread's epoch ([`reclaim::pin`]), load the
//!   table (`Acquire`), then its control words and slots (`Acquire`). A writer publishes a
//!   session by storing its slot (`Release`) before the tag that points to it (`Release`),
//!   and a new table by storing its address (`Release`) after filling it.
//! * **Reclamation.** What a reader may still hold is freed only after every thread pinned
//!   at the time has unpinned: a removed or replaced session's `Arc` (the registry's
//!   reference) and a table replaced by a larger one are handed to the collector *after*
//!   they are unlinked, and the collector runs their destructors later. A table that was
//!   replaced is never written again, so a reader that loaded it sees a consistent
//!   snapshot.
//! * The id comparison is the only thing that decides a match: a stale tag, a slot that
//!   was reused, or a table being replaced can only make a reader dereference a session it
//!   then rejects, or miss a session registered while it looked. A session present for the
//!   whole lookup is found: every chunk before it on its probe path counts it in its
//!   overflow count for as long as it is present.
//!
//! The collector is the crate's own epoch collector (`epoch.rs`), whose readers pay a
//! plain store and a compiler fence. Under `--cfg loom` the same collector runs with
//! `fence(SeqCst)` on both sides, so the models check the table and the collector
//! together.

use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::Arc;

use crate::sync::{self, AtomicPtr, AtomicU64, AtomicUsize, Mutex, MutexGuard};
use crate::{SessionHandle, SessionId};

pub(crate) use reclaim::{Guard, pin};

/// Slots per chunk: a control word and seven pointers fill one 64-byte line.
const SLOTS: usize = 7;
/// Sessions a table holds per chunk before it grows (6 of 7 slots: at most 86 % full).
const LOAD_PER_CHUNK: usize = 6;
/// The low bits of a table's address that carry `log2(chunks)`.
const LOG2_MASK: usize = 63;

/// Byte `i` of the control word: the tag of slot `i` (`i < 7`) or the overflow count.
const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;
/// The top bit of each slot's tag byte (bytes 0..7).
const SLOT_HI: u64 = 0x0080_8080_8080_8080;
const OVERFLOW_SHIFT: u32 = 56;
const OVERFLOW_ONE: u64 = 1 << OVERFLOW_SHIFT;
const OVERFLOW_SATURATED: u64 = 0xFF;

/// One cache line of the table.
#[repr(C, align(64))]
struct Chunk {
    control: AtomicU64,
    slots: [AtomicPtr<SessionHandle>; SLOTS],
    /// Under loom: a cell the readers read and the table's destructor writes, so that loom
    /// reports a reader that could still be in a table when it is freed.
    #[cfg(loom)]
    alive: loom::cell::UnsafeCell<()>,
}

impl Chunk {
    fn new() -> Self {
        Self {
            control: AtomicU64::new(0),
            slots: core::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
            #[cfg(loom)]
            alive: loom::cell::UnsafeCell::new(()),
        }
    }

    /// Under loom, records a read of this chunk's memory.
    #[inline]
    fn touch(&self) {
        #[cfg(loom)]
        self.alive.with(|_| ());
    }
}

#[cfg(loom)]
impl Drop for Chunk {
    fn drop(&mut self) {
        self.alive.with_mut(|_| ());
    }
}

/// The tag of a session whose id hashes to `hash`: never `0`, the tag of an empty slot.
#[inline]
fn tag_of(hash: u64) -> u8 {
    (hash >> 57) as u8 | 0x80
}

/// The slots of `control` whose tag is `tag`.
#[inline]
fn matching(control: u64, tag: u8) -> Slots {
    let x = control ^ (LO * u64::from(tag));
    // The top bit of each byte of `x` that is zero (exact: no borrow crosses bytes).
    Slots(!(((x & !HI) + !HI) | x | !HI) & SLOT_HI)
}

/// The empty slots of `control`.
#[inline]
fn empty(control: u64) -> Slots {
    Slots(!control & SLOT_HI)
}

#[inline]
fn overflow(control: u64) -> u64 {
    control >> OVERFLOW_SHIFT
}

/// A set of slot indices, as the top bits of their control bytes.
#[derive(Clone, Copy)]
struct Slots(u64);

impl Iterator for Slots {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let slot = self.0.trailing_zeros() as usize / 8;
        self.0 &= self.0 - 1;
        Some(slot)
    }
}

/// The chunks of one table, decoded from the shard's tagged pointer.
#[derive(Clone, Copy)]
struct Table {
    base: *mut Chunk,
    mask: usize,
}

impl Table {
    /// A new empty table of `chunks` chunks (a power of two), as a tagged pointer.
    fn allocate(chunks: usize) -> *mut Chunk {
        debug_assert!(chunks.is_power_of_two());
        let chunks: Box<[Chunk]> = (0..chunks).map(|_| Chunk::new()).collect();
        let log2 = chunks.len().trailing_zeros() as usize;
        Box::into_raw(chunks)
            .cast::<Chunk>()
            .map_addr(|addr| addr | log2)
    }

    #[inline]
    fn decode(tagged: *mut Chunk) -> Self {
        let log2 = tagged.addr() & LOG2_MASK;
        Self {
            base: tagged.map_addr(|addr| addr & !LOG2_MASK),
            mask: (1 << log2) - 1,
        }
    }

    #[inline]
    fn chunks(self) -> usize {
        self.mask + 1
    }

    /// Sessions the table holds before it must grow.
    #[inline]
    fn capacity(self) -> usize {
        self.chunks() * LOAD_PER_CHUNK
    }

    /// Chunk `index` (taken modulo the chunk count).
    ///
    /// # Safety
    ///
    /// The table must not have been freed: it is the shard's current table seen by its
    /// writer, or a table loaded while the caller's epoch guard was pinned.
    #[inline]
    unsafe fn chunk<'t>(self, index: usize) -> &'t Chunk {
        // SAFETY: `index & mask` is below the chunk count the table was allocated with,
        // and the caller guarantees the allocation is alive.
        let chunk = unsafe { &*self.base.add(index & self.mask) };
        chunk.touch();
        chunk
    }

    /// The probe path of `hash`: its home chunk, then triangular steps (1, 2, 3, … chunks
    /// further), which visit every chunk of a power-of-two table once in `chunks` steps.
    #[inline]
    fn probe(self, hash: u64) -> Probe {
        Probe {
            position: hash as usize & self.mask,
            stride: 0,
            remaining: self.chunks(),
            mask: self.mask,
        }
    }

    /// Frees the table's memory (not the sessions its slots point to).
    ///
    /// # Safety
    ///
    /// `tagged` came from [`Table::allocate`], is freed once, and no thread can reach it.
    unsafe fn free(tagged: *mut Chunk) {
        let table = Self::decode(tagged);
        let chunks = ptr::slice_from_raw_parts_mut(table.base, table.chunks());
        // SAFETY: the allocation of `Table::allocate`, a boxed slice of this many chunks,
        // which the caller says nobody else can reach.
        drop(unsafe { Box::from_raw(chunks) });
    }
}

/// Chunk positions along one probe path.
struct Probe {
    position: usize,
    stride: usize,
    remaining: usize,
    mask: usize,
}

impl Iterator for Probe {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let position = self.position;
        self.stride += 1;
        self.position = (self.position + self.stride) & self.mask;
        Some(position)
    }
}

/// A session found by a reader, valid while the reader's guard is pinned.
pub(crate) struct Found<'g> {
    session: NonNull<SessionHandle>,
    _guard: PhantomData<&'g Guard>,
}

impl<'g> Found<'g> {
    /// The session.
    #[inline]
    pub(crate) fn session(&self) -> &'g SessionHandle {
        // SAFETY: the pointer was loaded from a slot while the guard of `'g` was pinned.
        // Slots hold `Arc::into_raw` pointers the table owns a reference to, and the table
        // gives that reference up only through the collector, after unlinking it; the
        // collector runs the drop only once every guard pinned before it has unpinned.
        unsafe { self.session.as_ref() }
    }

    /// A new reference to the session.
    #[inline]
    pub(crate) fn to_arc(&self) -> Arc<SessionHandle> {
        let session = self.session.as_ptr().cast_const();
        // SAFETY: `session` is an `Arc::into_raw` pointer whose reference, held by the
        // table, is alive for `'g` (see `session`); adding a reference and taking it out
        // as an `Arc` leaves the table's own reference untouched.
        unsafe {
            Arc::increment_strong_count(session);
            Arc::from_raw(session)
        }
    }
}

/// One shard: its current table, the mutex of its writers, and its counts.
///
/// Two cache lines: the table pointer, which every lookup loads, alone on the first; the
/// writers' mutex and the counts, which every write changes, on the second. A write then
/// never takes the line lookups read away from other cores (only a table that grows
/// does), so lookups on one core and writes on another do not bounce it between them.
#[repr(C, align(128))]
pub(crate) struct Shard {
    read: ReadLine,
    write: WriteLine,
    /// The shard owns one reference to each session in its table.
    _owns: PhantomData<Arc<SessionHandle>>,
}

/// What lookups read.
#[repr(align(64))]
struct ReadLine {
    /// The current table, tagged with `log2` of its chunk count.
    table: AtomicPtr<Chunk>,
}

/// What writers write.
#[repr(align(64))]
struct WriteLine {
    /// Held by whoever changes the table.
    writer: Mutex<()>,
    /// Sessions in the table. Written only under `writer`.
    len: AtomicUsize,
    removed: AtomicU64,
    replaced: AtomicU64,
    rejected: AtomicU64,
}

/// A shard's counts, read without its lock.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ShardCounts {
    pub(crate) len: usize,
    pub(crate) removed: u64,
    pub(crate) replaced: u64,
    pub(crate) rejected: u64,
}

impl Shard {
    /// An empty shard with room for `capacity` sessions before it grows.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            read: ReadLine {
                table: AtomicPtr::new(Table::allocate(chunks_for(capacity))),
            },
            write: WriteLine {
                writer: Mutex::new(()),
                len: AtomicUsize::new(0),
                removed: AtomicU64::new(0),
                replaced: AtomicU64::new(0),
                rejected: AtomicU64::new(0),
            },
            _owns: PhantomData,
        }
    }

    /// The session with `id` (whose hash is `hash`), without a lock.
    #[inline]
    pub(crate) fn find<'g>(
        &self,
        id: &SessionId,
        hash: u64,
        _guard: &'g Guard,
    ) -> Option<Found<'g>> {
        let table = Table::decode(self.read.table.load(Acquire));
        let tag = tag_of(hash);
        for position in table.probe(hash) {
            // SAFETY: `table` was loaded while `_guard` is pinned; a table is freed only
            // through the collector after the shard stopped pointing to it.
            let chunk = unsafe { table.chunk(position) };
            let control = chunk.control.load(Acquire);
            for slot in matching(control, tag) {
                if let Some(session) = NonNull::new(chunk.slots[slot].load(Acquire)) {
                    let found = Found {
                        session,
                        _guard: PhantomData,
                    };
                    if found.session().matches(id) {
                        return Some(found);
                    }
                }
            }
            if overflow(control) == 0 {
                break;
            }
        }
        None
    }

    /// Calls `visit` with every session of the current table, without a lock.
    pub(crate) fn for_each<'g>(&self, _guard: &'g Guard, mut visit: impl FnMut(Found<'g>)) {
        let table = Table::decode(self.read.table.load(Acquire));
        for position in 0..table.chunks() {
            // SAFETY: as in `find`: loaded under `_guard`.
            let chunk = unsafe { table.chunk(position) };
            let control = chunk.control.load(Acquire);
            for slot in full(control) {
                if let Some(session) = NonNull::new(chunk.slots[slot].load(Acquire)) {
                    visit(Found {
                        session,
                        _guard: PhantomData,
                    });
                }
            }
        }
    }

    /// The shard's counts.
    pub(crate) fn counts(&self) -> ShardCounts {
        ShardCounts {
            len: self.write.len.load(Relaxed),
            removed: self.write.removed.load(Relaxed),
            replaced: self.write.replaced.load(Relaxed),
            rejected: self.write.rejected.load(Relaxed),
        }
    }

    /// Sessions the current table holds before it grows.
    pub(crate) fn capacity(&self) -> usize {
        Table::decode(self.read.table.load(Acquire)).capacity()
    }

    /// Takes the shard's writer lock.
    #[inline]
    pub(crate) fn write(&self) -> Writer<'_> {
        Writer {
            _lock: sync::lock(&self.write.writer),
            shard: self,
        }
    }
}

/// Adds one to a count only the holder of the writer lock writes (a load and a store: no
/// locked instruction).
#[inline]
fn bump(count: &AtomicU64) {
    count.store(count.load(Relaxed) + 1, Relaxed);
}

/// The slots of `control` that hold a session.
#[inline]
fn full(control: u64) -> Slots {
    Slots(control & SLOT_HI)
}

/// The chunk count of a table for `sessions` sessions: a power of two, at least one.
fn chunks_for(sessions: usize) -> usize {
    sessions.div_ceil(LOAD_PER_CHUNK).max(1).next_power_of_two()
}

impl Drop for Shard {
    fn drop(&mut self) {
        let tagged = self.read.table.load(Acquire);
        let table = Table::decode(tagged);
        for position in 0..table.chunks() {
            // SAFETY: `&mut self`: no reader or writer can reach the shard any more, and
            // its current table is alive until it is freed below.
            let chunk = unsafe { table.chunk(position) };
            for slot in &chunk.slots {
                let session = slot.load(Relaxed);
                if !session.is_null() {
                    // SAFETY: the table's own reference, taken with `Arc::into_raw` and
                    // given up exactly once, here.
                    drop(unsafe { Arc::from_raw(session.cast_const()) });
                }
            }
        }
        // SAFETY: the current table, which no thread can reach any more.
        unsafe { Table::free(tagged) };
    }
}

/// A shard with its writer lock held.
pub(crate) struct Writer<'s> {
    _lock: MutexGuard<'s, ()>,
    shard: &'s Shard,
}

/// Where a session with a given id is in the current table.
struct Place {
    /// Probe steps from the session's home chunk to its chunk.
    steps: usize,
    position: usize,
    slot: usize,
}

impl Writer<'_> {
    /// The current table. Only the holder of the writer lock replaces it, and the lock
    /// orders the previous writer's store before this load.
    #[inline]
    fn table(&self) -> Table {
        Table::decode(self.shard.read.table.load(Relaxed))
    }

    #[inline]
    fn len(&self) -> usize {
        self.shard.write.len.load(Relaxed)
    }

    #[inline]
    fn set_len(&self, len: usize) {
        self.shard.write.len.store(len, Relaxed);
    }

    /// Where the session with `id` is.
    #[inline]
    fn search(&self, table: Table, id: &SessionId, hash: u64) -> Option<Place> {
        let tag = tag_of(hash);
        for (steps, position) in table.probe(hash).enumerate() {
            // SAFETY: the current table; only this writer could retire it.
            let chunk = unsafe { table.chunk(position) };
            let control = chunk.control.load(Relaxed);
            for slot in matching(control, tag) {
                let session = chunk.slots[slot].load(Relaxed);
                // SAFETY: a slot of the current table holds a session the table owns.
                if !session.is_null() && unsafe { &*session }.matches(id) {
                    return Some(Place {
                        steps,
                        position,
                        slot,
                    });
                }
            }
            if overflow(control) == 0 {
                break;
            }
        }
        None
    }

    /// Adds `session`, unless its id is already present.
    ///
    /// # Errors
    ///
    /// The session back, and the rejection counted, when the id is present.
    #[inline]
    pub(crate) fn insert(&mut self, session: Arc<SessionHandle>) -> Result<(), Arc<SessionHandle>> {
        let id = session.id();
        let hash = id.hash64();
        let table = self.table();
        let len = self.len();
        // The common case in one chunk: the table has room, and the home chunk has an
        // empty slot and has never overflowed, so the id can only be in this chunk.
        if len < table.capacity() {
            // SAFETY: the current table.
            let chunk = unsafe { table.chunk(hash as usize) };
            let control = chunk.control.load(Relaxed);
            let tag = tag_of(hash);
            if overflow(control) == 0 {
                let present = matching(control, tag).any(|slot| {
                    let other = chunk.slots[slot].load(Relaxed);
                    // SAFETY: a slot of the current table holds a session the table owns.
                    !other.is_null() && unsafe { &*other }.matches(&id)
                });
                if present {
                    bump(&self.shard.write.rejected);
                    return Err(session);
                }
                if let Some(slot) = empty(control).next() {
                    // The slot first, then the tag that makes readers look at it.
                    chunk.slots[slot].store(Arc::into_raw(session).cast_mut(), Release);
                    chunk
                        .control
                        .store(control | u64::from(tag) << (8 * slot), Release);
                    self.set_len(len + 1);
                    return Ok(());
                }
            }
        }
        if self.search(table, &id, hash).is_some() {
            bump(&self.shard.write.rejected);
            return Err(session);
        }
        self.make_room();
        place(
            self.table(),
            hash,
            Arc::into_raw(session).cast_mut(),
            Release,
        );
        self.set_len(self.len() + 1);
        Ok(())
    }

    /// Adds `session`, replacing and returning the session that had its id.
    #[inline]
    pub(crate) fn replace(&mut self, session: Arc<SessionHandle>) -> Option<Arc<SessionHandle>> {
        let id = session.id();
        let hash = id.hash64();
        let table = self.table();
        let Some(found) = self.search(table, &id, hash) else {
            self.make_room();
            place(
                self.table(),
                hash,
                Arc::into_raw(session).cast_mut(),
                Release,
            );
            self.set_len(self.len() + 1);
            return None;
        };
        // SAFETY: the current table.
        let chunk = unsafe { table.chunk(found.position) };
        // Same id, same hash, same tag: only the slot changes.
        let previous = chunk.slots[found.slot].load(Relaxed);
        chunk.slots[found.slot].store(Arc::into_raw(session).cast_mut(), Release);
        bump(&self.shard.write.replaced);
        // SAFETY: the slot no longer holds `previous` (the store above).
        Some(unsafe { give_up(previous) })
    }

    /// Removes the session with `id` and returns it.
    #[inline]
    pub(crate) fn remove(&mut self, id: &SessionId) -> Option<Arc<SessionHandle>> {
        let hash = id.hash64();
        let table = self.table();
        let found = self.search(table, id, hash)?;
        let unlinked = self.unlink(table, hash, &found);
        // SAFETY: just unlinked; the table's reference is given up here only.
        Some(unsafe { give_up(unlinked) })
    }

    /// Removes `session` if the table still holds this very `Arc` (not one that replaced
    /// it). Returns whether it did.
    pub(crate) fn remove_same(&mut self, session: &SessionHandle) -> bool {
        let id = session.id();
        let hash = id.hash64();
        let table = self.table();
        match self.search(table, &id, hash) {
            Some(found) => {
                // SAFETY: the current table.
                let chunk = unsafe { table.chunk(found.position) };
                if !ptr::eq(chunk.slots[found.slot].load(Relaxed), session) {
                    return false;
                }
                let unlinked = self.unlink(table, hash, &found);
                // SAFETY: just unlinked; the table's reference is given up here only.
                unsafe { retire_session(unlinked) };
                true
            }
            None => false,
        }
    }

    /// Takes the session at `found` out of the table and returns the table's reference,
    /// still to be given up through the collector.
    fn unlink(&mut self, table: Table, hash: u64, found: &Place) -> *mut SessionHandle {
        // SAFETY: the current table.
        let chunk = unsafe { table.chunk(found.position) };
        let control = chunk.control.load(Relaxed);
        chunk
            .control
            .store(control & !(0xFF << (8 * found.slot)), Release);
        let session = chunk.slots[found.slot].load(Relaxed);
        chunk.slots[found.slot].store(ptr::null_mut(), Release);
        // The chunks before it on its path no longer overflow on its account.
        for position in table.probe(hash).take(found.steps) {
            // SAFETY: the current table.
            let chunk = unsafe { table.chunk(position) };
            let control = chunk.control.load(Relaxed);
            if overflow(control) != OVERFLOW_SATURATED {
                chunk.control.store(control - OVERFLOW_ONE, Relaxed);
            }
        }
        self.set_len(self.len() - 1);
        bump(&self.shard.write.removed);
        session
    }

    /// Makes room for one more session.
    #[inline]
    fn make_room(&mut self) {
        let len = self.len();
        if len == self.table().capacity() {
            self.grow(len + 1);
        }
    }

    /// Makes room for `needed` sessions in all: a table of at least `needed` (and at least
    /// twice the sessions it holds, so growing one by one costs `O(1)` amortized).
    pub(crate) fn reserve(&mut self, needed: usize) {
        if needed > self.table().capacity() {
            self.grow(needed);
        }
    }

    /// Moves the sessions into a larger table, publishes it, and retires the old one.
    ///
    /// The table stores no hashes, so each session's id is read again: a cache miss per
    /// session. They are read first, in a loop whose iterations do not depend on each
    /// other, so the processor overlaps the misses; the moves then touch only the new table.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, needed: usize) {
        let old_tagged = self.shard.read.table.load(Relaxed);
        let old = Table::decode(old_tagged);
        let mut sessions = Vec::with_capacity(self.len());
        for position in 0..old.chunks() {
            // SAFETY: the current table.
            let chunk = unsafe { old.chunk(position) };
            let control = chunk.control.load(Relaxed);
            for slot in full(control) {
                sessions.push(chunk.slots[slot].load(Relaxed));
            }
        }
        // SAFETY: each pointer is a session the current table owns.
        let hashes: Vec<u64> = sessions
            .iter()
            .map(|&session| unsafe { &*session }.id().hash64())
            .collect();
        let new_tagged = Table::allocate(chunks_for(needed.max(2 * sessions.len())));
        let new = Table::decode(new_tagged);
        for (&hash, &session) in hashes.iter().zip(&sessions) {
            // Nobody can see the new table yet; its publication below orders these stores.
            place(new, hash, session, Relaxed);
        }
        self.shard.read.table.store(new_tagged, Release);
        // Readers may still be in the old table: it is freed once they are all gone. The
        // sessions now belong to the new table.
        // SAFETY: the shard no longer points to the old table (the store above), and it is
        // retired once.
        unsafe { reclaim::retire(&pin(), Garbage::Table(old_tagged)) };
    }
}

/// Puts `session` (an `Arc::into_raw` pointer the table now owns) in the first chunk of its
/// path with an empty slot, counting it in the overflow of the chunks before. The table
/// has room (the caller made sure).
#[inline]
fn place(
    table: Table,
    hash: u64,
    session: *mut SessionHandle,
    order: core::sync::atomic::Ordering,
) {
    let tag = tag_of(hash);
    for position in table.probe(hash) {
        // SAFETY: the writer's current table, or a new one only it can see.
        let chunk = unsafe { table.chunk(position) };
        let control = chunk.control.load(Relaxed);
        if let Some(slot) = empty(control).next() {
            // The slot first, then the tag that makes readers look at it.
            chunk.slots[slot].store(session, order);
            chunk
                .control
                .store(control | u64::from(tag) << (8 * slot), order);
            return;
        }
        if overflow(control) != OVERFLOW_SATURATED {
            chunk.control.store(control + OVERFLOW_ONE, Relaxed);
        }
    }
    unreachable!("a table with room has an empty slot on every probe path");
}

/// Hands a session the table no longer points to back to the caller: a new `Arc`, while
/// the table's own reference is given up through the collector (readers may still be
/// looking at the session).
///
/// # Safety
///
/// The table no longer points to the session, and its reference is given up once.
unsafe fn give_up(unlinked: *mut SessionHandle) -> Arc<SessionHandle> {
    let session = unlinked.cast_const();
    // SAFETY: the table's reference is alive until `retire_session` below gives it up.
    let returned = unsafe {
        Arc::increment_strong_count(session);
        Arc::from_raw(session)
    };
    // SAFETY: the caller's promise.
    unsafe { retire_session(unlinked) };
    returned
}

/// Gives up the table's reference to a session it no longer points to, once no reader
/// can be looking at it.
///
/// # Safety
///
/// The table no longer points to the session, and its reference is given up once.
unsafe fn retire_session(unlinked: *mut SessionHandle) {
    // SAFETY: the caller's promise is the one `retire` asks for.
    unsafe { reclaim::retire(&pin(), Garbage::Session(unlinked)) };
}

/// What a writer unlinks and the collector destroys once no reader can reach it.
enum Garbage {
    /// The table's reference to a session it no longer points to (an `Arc::into_raw`
    /// pointer).
    Session(*mut SessionHandle),
    /// A table replaced by a larger one; its sessions moved to the new table.
    Table(*mut Chunk),
}

// SAFETY: garbage is only touched by `destroy`, once, on whichever thread collects it; a
// session is `Send + Sync`, and a table is atomics and pointers to such sessions.
unsafe impl Send for Garbage {}

impl Garbage {
    /// How much the garbage counts towards a collection: 1 for a session's reference, the
    /// chunk count (64 bytes each) for a table.
    fn weight(&self) -> usize {
        match *self {
            Self::Session(_) => 1,
            Self::Table(table) => Table::decode(table).chunks(),
        }
    }

    /// Reads the session's reference count, so that its cache line is on its way before
    /// [`destroy`](Self::destroy) writes it.
    fn touch(&self) {
        if let Self::Session(session) = *self {
            // SAFETY: retired garbage is alive until `destroy`; the `Arc` is rebuilt only
            // to read its count and is not dropped.
            let arc = core::mem::ManuallyDrop::new(unsafe { Arc::from_raw(session.cast_const()) });
            core::hint::black_box(Arc::strong_count(&arc));
        }
    }

    /// Gives up the session's reference or frees the table.
    ///
    /// # Safety
    ///
    /// No thread can reach the garbage any more, and it is destroyed once.
    unsafe fn destroy(self) {
        match self {
            // SAFETY: the table's own reference, given up once, here.
            Self::Session(session) => drop(unsafe { Arc::from_raw(session.cast_const()) }),
            // SAFETY: a table from `Table::allocate`, unreachable, freed once.
            Self::Table(table) => unsafe { Table::free(table) },
        }
    }
}

/// Deferred reclamation: the crate's own epoch collector (under loom too, with its fence
/// fallback).
mod epoch;
use epoch as reclaim;
#[cfg(loom)]
pub(crate) use epoch::loom_collect;

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::SessionBuilder;

    #[test]
    fn tags_match_exactly_and_empty_slots_are_found() {
        // Every full tag against a control word holding all kinds of bytes.
        let bytes: [u8; 8] = [0x80, 0xFF, 0x00, 0x81, 0x80, 0x7F, 0xFE, 0x80];
        let control = u64::from_le_bytes(bytes);
        for tag in 0x80..=0xFF_u8 {
            let expected: Vec<usize> = (0..SLOTS).filter(|&i| bytes[i] == tag).collect();
            assert_eq!(
                matching(control, tag).collect::<Vec<_>>(),
                expected,
                "{tag:#x}"
            );
        }
        // Byte 7 is the overflow count, never a slot.
        assert_eq!(matching(control, 0x80).collect::<Vec<_>>(), vec![0, 4]);
        assert_eq!(empty(control).collect::<Vec<_>>(), vec![2, 5]);
        assert_eq!(full(control).collect::<Vec<_>>(), vec![0, 1, 3, 4, 6]);
        assert_eq!(overflow(control), 0x80);
        assert!((0..64).all(|bits| tag_of(bits << 57) >= 0x80));
    }

    #[test]
    fn probes_visit_every_chunk_once() {
        let table = Table {
            base: ptr::null_mut(),
            mask: 63,
        };
        let mut seen: Vec<usize> = table.probe(0xDEAD_BEEF).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..64).collect::<Vec<_>>());
    }

    /// Sessions whose ids all hash to chunk 0 of a table of `chunks` chunks.
    fn colliding(count: usize, chunks: u64) -> Vec<Arc<SessionHandle>> {
        std::iter::repeat_with(|| Arc::new(SessionBuilder::new().build()))
            .filter(|s| s.id().hash64() % chunks == 0)
            .take(count)
            .collect()
    }

    fn control_words(shard: &Shard) -> Vec<u64> {
        let table = Table::decode(shard.read.table.load(Relaxed));
        (0..table.chunks())
            .map(|i| {
                // SAFETY: the shard's current table, and no other thread uses the shard.
                let chunk = unsafe { table.chunk(i) };
                chunk.control.load(Relaxed)
            })
            .collect()
    }

    fn overflow_counts(shard: &Shard) -> Vec<u64> {
        control_words(shard).into_iter().map(overflow).collect()
    }

    #[test]
    fn overflow_counts_come_back_to_zero_and_removal_leaves_no_tombstones() {
        let shard = Shard::with_capacity(8 * LOAD_PER_CHUNK);
        let chunks = Table::decode(shard.read.table.load(Relaxed)).chunks();
        assert_eq!(chunks, 8);
        // 20 sessions whose home is chunk 0: 7 fit there, the others overflow along the
        // probe path 0, 1, 3, 6, … and are still found.
        let sessions = colliding(20, chunks as u64);
        for session in &sessions {
            shard.write().insert(Arc::clone(session)).unwrap();
        }
        assert_eq!(
            Table::decode(shard.read.table.load(Relaxed)).chunks(),
            8,
            "no growth"
        );
        let counts = overflow_counts(&shard);
        assert_eq!(counts[0], 13);
        assert!(counts.iter().sum::<u64>() > 13);
        let guard = pin();
        for session in &sessions {
            let found = shard.find(&session.id(), session.id().hash64(), &guard);
            assert!(ptr::eq(found.unwrap().session(), &**session));
        }
        drop(guard);
        for session in &sessions {
            let removed = shard.write().remove(&session.id()).unwrap();
            assert!(Arc::ptr_eq(&removed, session));
        }
        assert!(overflow_counts(&shard).iter().all(|&count| count == 0));
        assert_eq!(shard.counts().len, 0);
        // Every slot is empty again, with no tombstone left behind.
        assert!(control_words(&shard).iter().all(|&control| control == 0));
    }

    #[test]
    fn a_saturated_overflow_count_stays_and_lookups_still_end() {
        // 300 sessions homed in chunk 0 of a table too large to grow: chunk 0 overflows
        // more than 255 times and its count sticks at 255.
        let shard = Shard::with_capacity(64 * LOAD_PER_CHUNK);
        let sessions = colliding(300, 64);
        for session in &sessions {
            shard.write().insert(Arc::clone(session)).unwrap();
        }
        assert_eq!(overflow_counts(&shard)[0], OVERFLOW_SATURATED);
        for session in &sessions {
            drop(shard.write().remove(&session.id()).unwrap());
        }
        assert_eq!(overflow_counts(&shard)[0], OVERFLOW_SATURATED);
        let absent = SessionBuilder::new().build().id();
        assert!(shard.find(&absent, absent.hash64(), &pin()).is_none());
        assert_eq!(shard.counts().removed, 300);
    }
}
