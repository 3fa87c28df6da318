//! Sessions at scale for [cnv]: a registry that holds a million concurrent agent sessions,
//! and a bounded queue that moves their frames between threads without losing one.
//!
//! * [`SessionHandle`] — one session: a random [`SessionId`], a name, its
//!   [`CapabilityContract`](cnv_caps::CapabilityContract), when it was created, its
//!   lifecycle [`SessionLifecycle`] and a sequence counter per [`StreamId`], all usable
//!   through `&self`. Built with [`SessionBuilder`].
//! * [`SessionRegistry`] — sessions by id, in shards chosen from the id's own random bits
//!   (no SipHash). Lookups take no lock ([`get`](SessionRegistry::get) clones the
//!   session's `Arc`, [`with`](SessionRegistry::with) lends it to a closure); writers take
//!   their shard's lock, and removed sessions are freed through epoch-based reclamation
//!   once no lookup can see them. A duplicate id is refused and never counted twice;
//!   statistics live in the shards, so lookups write nothing shared.
//! * [`FrameQueue`] — a bounded multi-producer multi-consumer queue of [`Frame`]s (or any
//!   `T`) on crossbeam's `ArrayQueue`: a full queue hands the frame back, and the counts
//!   of frames in, out and refused are exact.
//!
//! ```
//! use std::sync::Arc;
//! use cnv_registry::{FrameQueue, SessionBuilder, SessionRegistry, StreamId};
//! use cnv_caps::CapabilityContract;
//!
//! let registry = SessionRegistry::new(1024);
//! let session = Arc::new(
//!     SessionBuilder::new()
//!         .name("crawler")
//!         .capability(CapabilityContract::read_only())
//!         .build(),
//! );
//! registry.register(Arc::clone(&session))?;
//!
//! let queue = FrameQueue::new(1024);
//! let frame = session.frame(StreamId::new(0), b"GET /".to_vec());
//! queue.enqueue(frame).expect("the queue has room");
//! let frame = queue.dequeue().expect("one frame");
//! let sender = registry.get(&frame.session()).expect("registered");
//! assert_eq!(sender.name(), "crawler");
//! # Ok::<(), cnv_registry::DuplicateSession>(())
//! ```
//!
//! The guide's chapter "Sessions at scale" explains the design and `docs/PERFORMANCE.md`
//! measures it against `DashMap`, `Mutex<HashMap>`, crossbeam's `ArrayQueue`,
//! `std::sync::mpsc` and `Mutex<VecDeque>`.
//!
//! [cnv]: https://docs.rs/cnv

// `unsafe` lives in one module, `shard` (the lock-free shard tables and their epoch
// collector): lookups without a lock took 0.53× the time of the `RwLock` shards' on one
// thread (docs/PERFORMANCE.md), and no safe design reads shared memory without a lock.
// Every block states its invariant; tests/loom.rs models the protocol.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod counter;
mod error;
mod frame;
mod id;
mod queue;
mod registry;
mod session;
#[allow(unsafe_code)]
mod shard;
mod sync;

pub use error::{CapacityError, DuplicateSession, ShardCountError};
pub use frame::Frame;
pub use id::{BuildSessionIdHasher, SessionId, SessionIdHasher, StreamId};
pub use queue::{FrameQueue, MAX_CAPACITY, QueueStats};
pub use registry::{DEFAULT_SHARDS, Iter, MAX_SHARDS, RegistryStats, SessionRegistry};
pub use session::{LifecycleError, SessionBuilder, SessionHandle, SessionLifecycle};

/// For the loom models only: gives the calling thread's counter slot back, as its
/// thread-local destructor does outside loom.
#[cfg(loom)]
#[doc(hidden)]
pub use counter::release_thread_slot as __loom_release_thread_slot;

/// For the loom models only: drives the registry's epoch collector until everything
/// retired before is freed (no thread may be pinned). Outside loom, threads collect as
/// they write.
#[cfg(loom)]
#[doc(hidden)]
pub fn __loom_collect() {
    shard::loom_collect();
}

/// The `uuid` crate, whose [`Uuid`](uuid::Uuid) a [`SessionId`] wraps.
pub use uuid;
