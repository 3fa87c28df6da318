//! The frame queue under 4 producers and 4 consumers: every frame arrives exactly once,
//! each producer's frames arrive in order, and the counts are exact after the join.

#![cfg(not(loom))]

use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use cnv_registry::{Frame, FrameQueue, SessionId, StreamId};

const PRODUCERS: u32 = 4;
const CONSUMERS: usize = 4;
const PER_PRODUCER: u64 = 262_144; // 4 × 2^18 = 1 048 576 frames in all

fn backoff(spins: &mut u32) {
    *spins += 1;
    if *spins < 64 {
        std::hint::spin_loop();
    } else {
        // 8 threads on a 2-core machine: let the other side run.
        thread::yield_now();
    }
}

#[test]
fn mpmc_every_frame_once_and_in_producer_order() {
    let queue = FrameQueue::new(1024);
    let session = SessionId::new_v4();
    let barrier = Barrier::new(PRODUCERS as usize + CONSUMERS);
    let total = u64::from(PRODUCERS) * PER_PRODUCER;
    let taken = AtomicUsize::new(0);
    let refused = AtomicUsize::new(0);

    let received: Vec<Vec<(u32, u64)>> = thread::scope(|scope| {
        for producer in 0..PRODUCERS {
            let (queue, barrier, refused) = (&queue, &barrier, &refused);
            scope.spawn(move || {
                barrier.wait();
                for sequence in 0..PER_PRODUCER {
                    // The producer is the stream: one stream per producer.
                    let mut frame = Frame::with_timestamp(
                        session,
                        StreamId::new(producer),
                        sequence,
                        Duration::ZERO,
                        Vec::new(),
                    );
                    let mut spins = 0;
                    while let Err(back) = queue.enqueue(frame) {
                        refused.fetch_add(1, Ordering::Relaxed);
                        frame = back;
                        backoff(&mut spins);
                    }
                }
            });
        }
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                let (queue, barrier, taken) = (&queue, &barrier, &taken);
                scope.spawn(move || {
                    barrier.wait();
                    let mut mine = Vec::new();
                    let mut spins = 0;
                    while (taken.load(Ordering::Relaxed) as u64) < total {
                        if let Some(frame) = queue.dequeue() {
                            taken.fetch_add(1, Ordering::Relaxed);
                            mine.push((frame.stream().get(), frame.sequence()));
                            spins = 0;
                        } else {
                            backoff(&mut spins);
                        }
                    }
                    mine
                })
            })
            .collect();
        consumers.into_iter().map(|h| h.join().unwrap()).collect()
    });

    // In order: a FIFO queue hands one producer's frames to any one consumer in order.
    for mine in &received {
        let mut last = [None::<u64>; PRODUCERS as usize];
        for &(producer, sequence) in mine {
            let previous = last[producer as usize].replace(sequence);
            assert!(
                previous.is_none_or(|p| p < sequence),
                "producer {producer}: {sequence} after {previous:?}"
            );
        }
    }
    // Exactly once: every (producer, sequence) appears one time overall.
    let mut seen = vec![0u8; total as usize];
    for &(producer, sequence) in received.iter().flatten() {
        seen[(u64::from(producer) * PER_PRODUCER + sequence) as usize] += 1;
    }
    assert!(
        seen.iter().all(|&n| n == 1),
        "a frame was lost or duplicated"
    );

    let stats = queue.stats();
    assert_eq!(stats.enqueued, total);
    assert_eq!(stats.dequeued, total);
    assert_eq!(stats.overflows, refused.load(Ordering::Relaxed) as u64);
    assert_eq!(stats.len, 0);
    assert!(queue.is_empty());
}

#[test]
fn dropping_a_non_empty_queue_drops_each_frame_once() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);

    #[derive(Debug)]
    struct Counted(#[allow(dead_code)] u32); // the number tells frames apart in a failure
    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }

    let queue = FrameQueue::new(16);
    for i in 0..16 {
        queue.enqueue(Counted(i)).unwrap();
    }
    // A refused frame comes back to the caller, who drops it: once.
    let back = queue.enqueue(Counted(99)).unwrap_err();
    drop(back);
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    // Five leave through `dequeue` and are dropped here.
    for _ in 0..5 {
        drop(queue.dequeue().unwrap());
    }
    assert_eq!(DROPS.load(Ordering::SeqCst), 6);
    // The other eleven are dropped with the queue.
    drop(queue);
    assert_eq!(DROPS.load(Ordering::SeqCst), 17);
}
