//! Epoch-based reclamation whose readers execute no atomic read-modify-write and no fence.
//!
//! A lookup must not free-run into memory a writer has just freed, so writers hand what
//! they unlink (a removed session's `Arc`, an outgrown table) to this collector, which
//! frees it once every thread that could have loaded it has finished its lookup. The
//! classic epoch scheme (crossbeam-epoch) does that, but its `pin` is a locked
//! compare-and-swap — a full barrier per lookup, which costs what the shard lock cost and
//! stops consecutive lookups from overlapping their cache misses. Here the barrier is
//! **asymmetric**: a reader announces itself with a plain store and a compiler fence, and
//! the rare thread that advances the epoch (once per [`BAG`] retirements) pays instead,
//! with one `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` system call that makes every
//! running thread of the process execute a full barrier (Linux's
//! `membarrier(2)`; the scheme of userspace RCU and of the `seize` crate). Where the
//! system call is missing or refused, both sides fall back to `fence(SeqCst)`.
//!
//! # The protocol
//!
//! * A global epoch `G` only grows. Each thread owns a [`Participant`] record: `0` while
//!   the thread is not pinned, `e << 1 | 1` while it is pinned in epoch `e` (the value of
//!   `G` it read, with `Acquire`, when it pinned). Pins nest; only the outermost one
//!   writes the record.
//! * `G` advances from `g` to `g + 1` only when every pinned record says `g`, read after a
//!   heavy barrier (so a reader's announcement is either seen, or the reader's loads that
//!   follow it see everything that happened before the barrier).
//! * A thread pinned in `p` retires garbage it has already unlinked with the tag `p + 1`,
//!   an upper bound of `G` at that moment (`G` cannot pass `p + 1` while the thread is
//!   pinned in `p`). Garbage tagged `t` is freed once `G >= t + 2`. A reader that could
//!   have loaded it pinned in some `r <= t` (before the unlink) and keeps `G <= r + 1 <
//!   t + 2` while it stays pinned; a reader that pinned after `G` passed `t` read `G` with
//!   `Acquire` from the advance that followed the unlink, so it cannot see the garbage.
//! * Retired garbage waits in a thread-local bag; every [`BAG`] retirements the thread
//!   tries to advance `G` and frees what has expired. A thread that exits hands its bag
//!   to a global list that the next collection frees.
//!
//! # Under loom
//!
//! The models run this collector with its `fence(SeqCst)` fallback on both sides (loom
//! models `SeqCst` fences, not system calls), and without thread-local bags: every
//! retirement goes to the global list and collects at once, because loom cannot run a
//! thread-local destructor that takes a lock. Every unpin then tries to advance the epoch
//! and free (up to three times), so the models free garbage while other threads are still
//! pinned; `__loom_collect` lets a model drive the collector after its threads have joined.

use core::cell::RefCell;
use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};

use crossbeam_utils::CachePadded;

use super::Garbage;
use crate::sync::{self, AtomicBool, AtomicU64, AtomicUsize, Mutex, fence};

/// How much a thread retires before it tries to advance the epoch and free, in
/// [`Garbage::weight`]s (a session weighs 1, a table its chunk count, so that outgrown
/// tables are freed soon). Each attempt costs a system call that interrupts the process's
/// other running threads, so it is amortized over many retirements (every 64 sessions
/// measured 1.3× slower than the `RwLock` registry on a 90/10 lookup/replace mix; every
/// 1024 about even).
const BAG: usize = 1024;

/// One thread's announcement. Records are allocated once and never freed; a record whose
/// thread has exited is reused by the next new thread.
struct Participant {
    /// `0`: not pinned; `epoch << 1 | 1`: pinned in `epoch`. Written only by its thread.
    state: CachePadded<AtomicU64>,
    /// Nesting depth of the thread's guards. Only its thread reads or writes it.
    nesting: AtomicUsize,
    /// Whether no thread owns the record.
    free: AtomicBool,
}

/// A retired piece of garbage and the epoch after which it may be freed (see the module).
struct Retired {
    tag: u64,
    garbage: Garbage,
}

struct Global {
    epoch: CachePadded<AtomicU64>,
    participants: Mutex<Vec<&'static Participant>>,
    /// Bags of exited threads and garbage retired without a thread-local bag.
    orphans: Mutex<Vec<Retired>>,
}

#[cfg(not(loom))]
static GLOBAL: Global = Global {
    epoch: CachePadded::new(AtomicU64::new(0)),
    participants: Mutex::new(Vec::new()),
    orphans: Mutex::new(Vec::new()),
};

#[cfg(loom)]
loom::lazy_static! {
    static ref GLOBAL: Global = Global {
        epoch: CachePadded::new(AtomicU64::new(0)),
        participants: Mutex::new(Vec::new()),
        orphans: Mutex::new(Vec::new()),
    };
}

/// Whether the heavy barrier is the `membarrier` system call (then readers need only a
/// compiler fence). Decided once, before any thread pins (see [`init`]); never changes.
#[cfg(not(loom))]
static EXPEDITED: AtomicBool = AtomicBool::new(false);
#[cfg(not(loom))]
static INIT: std::sync::Once = std::sync::Once::new();

/// Registers the process for expedited private `membarrier`s. Every thread calls it
/// before its first pin, and `Once` orders the decision before everything that thread
/// does next, so readers and the threads that advance the epoch agree on the barrier.
fn init() {
    #[cfg(not(loom))]
    INIT.call_once(|| EXPEDITED.store(membarrier::register(), Relaxed));
}

#[inline]
fn expedited() -> bool {
    #[cfg(not(loom))]
    {
        EXPEDITED.load(Relaxed)
    }
    #[cfg(loom)]
    {
        false
    }
}

/// The reader's half of the barrier pair: after its announcement, before its loads.
#[inline]
fn light_barrier() {
    if expedited() {
        #[cfg(not(loom))]
        core::sync::atomic::compiler_fence(SeqCst);
    } else {
        fence(SeqCst);
    }
}

/// The other half: makes every thread's announcement visible, or its later loads see
/// everything before this barrier. Returns `false` if the system call failed after it had
/// been registered (never seen in practice): readers then rely on a barrier that did not
/// happen, so the epoch must not advance.
fn heavy_barrier() -> bool {
    if expedited() {
        #[cfg(not(loom))]
        return membarrier::barrier();
        #[cfg(loom)]
        return false;
    } else {
        fence(SeqCst);
        true
    }
}

impl Participant {
    /// A record for the calling thread: a free one, or a new one.
    fn acquire() -> &'static Self {
        init();
        let mut participants = sync::lock(&GLOBAL.participants);
        if let Some(free) = participants.iter().find(|p| {
            p.free
                .compare_exchange(true, false, Acquire, Relaxed)
                .is_ok()
        }) {
            return free;
        }
        let record: &'static Self = Box::leak(Box::new(Self {
            state: CachePadded::new(AtomicU64::new(0)),
            nesting: AtomicUsize::new(0),
            free: AtomicBool::new(false),
        }));
        participants.push(record);
        record
    }
}

/// A thread's record and its bag of retired garbage.
struct Local {
    participant: &'static Participant,
    /// Oldest first: a thread's tags never decrease (each is the epoch it pinned in, plus
    /// one, and the epochs it reads never go back).
    bag: RefCell<Vec<Retired>>,
    /// What this thread retired since it last collected, in [`Garbage::weight`]s.
    since_collect: core::cell::Cell<usize>,
}

#[cfg(not(loom))]
impl Drop for Local {
    fn drop(&mut self) {
        let bag = std::mem::take(self.bag.get_mut());
        orphans().extend(bag);
        // A guard that outlives the thread-local (kept in another thread-local's value)
        // keeps the record pinned and owned: it is never reused.
        if self.participant.nesting.load(Relaxed) == 0 {
            self.participant.free.store(true, Release);
        }
    }
}

#[cfg(not(loom))]
thread_local! {
    static LOCAL: Local = Local {
        participant: Participant::acquire(),
        bag: RefCell::new(Vec::new()),
        since_collect: core::cell::Cell::new(0),
    };
}

#[cfg(loom)]
loom::thread_local! {
    static LOCAL: Local = Local {
        participant: Participant::acquire(),
        bag: RefCell::new(Vec::new()),
        since_collect: core::cell::Cell::new(0),
    };
}

fn orphans() -> sync::MutexGuard<'static, Vec<Retired>> {
    sync::lock(&GLOBAL.orphans)
}

/// A pinned thread: while it lives, nothing retired by any thread after the pin is freed.
pub(crate) struct Guard {
    participant: &'static Participant,
    /// The record was taken for this guard alone (the thread-local was gone).
    temporary: bool,
    /// Not `Send`: the record belongs to the thread.
    _not_send: core::marker::PhantomData<*const ()>,
}

/// Pins the calling thread.
#[inline]
pub(crate) fn pin() -> Guard {
    let (participant, temporary) = LOCAL
        .try_with(|local| (local.participant, false))
        .unwrap_or_else(|_| (Participant::acquire(), true));
    let nesting = participant.nesting.load(Relaxed);
    participant.nesting.store(nesting + 1, Relaxed);
    if nesting == 0 {
        let epoch = GLOBAL.epoch.load(Acquire);
        participant.state.store(epoch << 1 | 1, Relaxed);
        light_barrier();
    }
    Guard {
        participant,
        temporary,
        _not_send: core::marker::PhantomData,
    }
}

impl Drop for Guard {
    #[inline]
    fn drop(&mut self) {
        let nesting = self.participant.nesting.load(Relaxed) - 1;
        self.participant.nesting.store(nesting, Relaxed);
        if nesting == 0 {
            // Everything this thread read while pinned happens before a collector that
            // sees it unpinned frees anything.
            self.participant.state.store(0, Release);
            if self.temporary {
                self.participant.free.store(true, Release);
            }
            // Under loom, every unpin collects as far as it can, so that the models free
            // garbage while other threads are still pinned.
            #[cfg(loom)]
            loom_collect();
        }
    }
}

/// Hands `garbage` to the collector: it is destroyed once no thread can still be reading
/// it.
///
/// # Safety
///
/// `garbage` is unlinked: no thread that pins from now on can reach it. It is retired once.
pub(super) unsafe fn retire(guard: &Guard, garbage: Garbage) {
    let pinned_in = guard.participant.state.load(Relaxed) >> 1;
    let mut retired = Some(Retired {
        tag: pinned_in + 1,
        garbage,
    });
    if !guard.temporary && cfg!(not(loom)) {
        let full = LOCAL.try_with(|local| {
            let weight = retired.as_ref().map_or(1, |r| r.garbage.weight());
            local.bag.borrow_mut().extend(retired.take());
            let since = local.since_collect.get() + weight;
            local
                .since_collect
                .set(if since >= BAG { 0 } else { since });
            since >= BAG
        });
        if matches!(full, Ok(true)) {
            collect();
        }
    }
    // No thread-local bag (the thread is exiting, or loom): the orphans take it.
    if let Some(retired) = retired {
        orphans().push(retired);
        if cfg!(loom) {
            collect();
        }
    }
}

/// For the loom models: tries to advance the epoch and free, as often as it takes to free
/// everything retired before, once no thread is pinned.
#[cfg(loom)]
pub(crate) fn loom_collect() {
    for _ in 0..3 {
        collect();
    }
}

/// Tries to advance the epoch, then frees what this thread's bag and the orphans hold that
/// has expired.
fn collect() {
    let epoch = try_advance();
    let expired = |retired: &Retired| epoch >= retired.tag + 2;
    let mut ready: Vec<Retired> = Vec::new();
    let _ = LOCAL.try_with(|local| {
        // The bag is oldest first, so what has expired is a prefix of it.
        let mut bag = local.bag.borrow_mut();
        let old = bag.partition_point(expired);
        ready.extend(bag.drain(..old));
    });
    {
        let mut orphans = orphans();
        if !orphans.is_empty() {
            ready.extend(orphans.extract_if(.., |retired| expired(retired)));
        }
    }
    // No lock or borrow is held while destructors run. The sessions are cold (they were
    // retired up to three epochs ago), and dropping an `Arc` is a locked decrement that
    // waits for its cache miss: touch them all first, in a loop whose loads do not depend
    // on each other, so the processor overlaps the misses (as `grow` does).
    for retired in &ready {
        retired.garbage.touch();
    }
    for retired in ready {
        // SAFETY: expired garbage: the epoch has advanced twice past every pin that could
        // have loaded it (see the module), and each piece is destroyed once.
        unsafe { retired.garbage.destroy() };
    }
}

/// Advances the global epoch by one if every pinned thread is in it; returns the epoch.
fn try_advance() -> u64 {
    let epoch = GLOBAL.epoch.load(Acquire);
    if !heavy_barrier() {
        return epoch;
    }
    {
        let participants = sync::lock(&GLOBAL.participants);
        for participant in participants.iter() {
            let state = participant.state.load(Acquire);
            if state & 1 == 1 && state >> 1 != epoch {
                return epoch;
            }
        }
    }
    match GLOBAL
        .epoch
        .compare_exchange(epoch, epoch + 1, AcqRel, Acquire)
    {
        Ok(_) => epoch + 1,
        Err(current) => current,
    }
}

/// Linux's `membarrier(2)`, private expedited: a full barrier on every CPU running a
/// thread of this process.
#[cfg(not(loom))]
mod membarrier {
    #[cfg(target_os = "linux")]
    const CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    #[cfg(target_os = "linux")]
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    /// Registers the process; whether expedited barriers are available.
    #[cfg(target_os = "linux")]
    pub(super) fn register() -> bool {
        // SAFETY: `membarrier` takes three integers and touches no memory of ours.
        unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                CMD_REGISTER_PRIVATE_EXPEDITED,
                0 as libc::c_long,
                0 as libc::c_long,
            ) == 0
        }
    }

    /// Issues the barrier; whether it succeeded.
    #[cfg(target_os = "linux")]
    pub(super) fn barrier() -> bool {
        // SAFETY: as in `register`.
        unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                CMD_PRIVATE_EXPEDITED,
                0 as libc::c_long,
                0 as libc::c_long,
            ) == 0
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn register() -> bool {
        false
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn barrier() -> bool {
        false
    }
}
