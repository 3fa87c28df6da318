//! The frame queue against its peers: crossbeam's raw `ArrayQueue` (what `FrameQueue`
//! wraps, without the counts), `std::sync::mpsc::sync_channel`, and a `Mutex<VecDeque>`.
//! All hold `Frame`s, with capacity 1024.
//!
//! * `queue/enqueue_dequeue_pair` — one thread enqueues a frame and dequeues it again.
//!   The same frame cycles through the queue, so nothing is allocated or built in the
//!   loop: the row is the cost of the pair.
//! * `queue/spsc_1p1c` — one producer thread and one consumer thread move frames; a full
//!   or empty queue is retried with a spin hint. Time per frame moved.

use std::hint::{black_box, spin_loop};
use std::thread;
use std::time::{Duration, Instant};

use cnv::registry::{Frame, FrameQueue, SessionId, StreamId};
use cnv_benches::queues::{BoundedQueue, MutexDeque, SyncChannel};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossbeam_queue::ArrayQueue;

const CAPACITY: usize = 1024;

fn frame(session: SessionId, sequence: u64) -> Frame {
    Frame::with_timestamp(
        session,
        StreamId::new(0),
        sequence,
        Duration::ZERO,
        Vec::new(),
    )
}

fn pair(c: &mut Criterion) {
    let mut group = c.benchmark_group("queue/enqueue_dequeue_pair");
    group.throughput(Throughput::Elements(1));
    let session = SessionId::new_v4();

    fn cycle<Q: BoundedQueue<Frame>>(
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        name: &str,
        queue: &Q,
        session: SessionId,
    ) {
        let mut slot = Some(frame(session, 0));
        group.bench_function(name, |b| {
            b.iter(|| {
                let frame = slot.take().expect("the frame cycles");
                if queue.push(frame).is_err() {
                    unreachable!("the queue is empty before each push");
                }
                slot = queue.pop();
            });
        });
    }

    cycle(
        &mut group,
        "cnv FrameQueue",
        &FrameQueue::new(CAPACITY),
        session,
    );
    cycle(
        &mut group,
        "crossbeam ArrayQueue (raw)",
        &ArrayQueue::new(CAPACITY),
        session,
    );
    {
        // The channel's receiver is held for the whole run: no mutex per item.
        let channel = SyncChannel::new(CAPACITY);
        let receiver = channel.receiver();
        let mut slot = Some(frame(session, 0));
        group.bench_function("std mpsc::sync_channel", |b| {
            b.iter(|| {
                let frame = slot.take().expect("the frame cycles");
                if channel.sender().try_send(frame).is_err() {
                    unreachable!("the channel is empty before each send");
                }
                slot = receiver.try_recv().ok();
            });
        });
    }
    cycle(
        &mut group,
        "Mutex<VecDeque>",
        &MutexDeque::new(CAPACITY),
        session,
    );
    group.finish();
}

/// Moves `iters` frames from a producer thread to this thread and returns the time.
fn move_frames(
    iters: u64,
    session: SessionId,
    push: &(dyn Fn(Frame) -> Result<(), Frame> + Sync),
    pop: &mut dyn FnMut() -> Option<Frame>,
) -> Duration {
    thread::scope(|scope| {
        let start = Instant::now();
        scope.spawn(move || {
            for sequence in 0..iters {
                let mut item = frame(session, sequence);
                while let Err(back) = push(item) {
                    item = back;
                    spin_loop();
                }
            }
        });
        let mut received = 0;
        while received < iters {
            match pop() {
                Some(item) => {
                    black_box(item);
                    received += 1;
                }
                None => spin_loop(),
            }
        }
        start.elapsed()
    })
}

fn spsc(c: &mut Criterion) {
    let mut group = c.benchmark_group("queue/spsc_1p1c");
    group.throughput(Throughput::Elements(1));
    let session = SessionId::new_v4();

    fn run<Q: BoundedQueue<Frame>>(
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        name: &str,
        queue: &Q,
        session: SessionId,
    ) {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                move_frames(iters, session, &|f| queue.push(f), &mut || queue.pop())
            });
        });
    }

    run(
        &mut group,
        "cnv FrameQueue",
        &FrameQueue::new(CAPACITY),
        session,
    );
    run(
        &mut group,
        "crossbeam ArrayQueue (raw)",
        &ArrayQueue::new(CAPACITY),
        session,
    );
    {
        let channel = SyncChannel::new(CAPACITY);
        let receiver = channel.receiver();
        let sender = channel.sender();
        group.bench_function("std mpsc::sync_channel", |b| {
            b.iter_custom(|iters| {
                move_frames(
                    iters,
                    session,
                    &|f| {
                        sender.try_send(f).map_err(|e| match e {
                            std::sync::mpsc::TrySendError::Full(f)
                            | std::sync::mpsc::TrySendError::Disconnected(f) => f,
                        })
                    },
                    &mut || receiver.try_recv().ok(),
                )
            });
        });
    }
    run(
        &mut group,
        "Mutex<VecDeque>",
        &MutexDeque::new(CAPACITY),
        session,
    );
    group.finish();
}

criterion_group!(benches, pair, spsc);
criterion_main!(benches);
