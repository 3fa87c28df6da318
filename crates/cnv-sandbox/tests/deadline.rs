//! Deadlines in one process: the watchdog calls back on overrun, stays quiet when the
//! call finishes, and costs no thread when the band is unbounded. (The overrun that
//! ends a restricted process is in `escape.rs`.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use cnv_caps::ResourceBand;
use cnv_sandbox::{Budget, Deadline, Outcome};

#[test]
fn an_overrun_calls_back_on_the_watchdog_thread() {
    let (sender, receiver) = mpsc::channel();
    let deadline = Deadline::arm(Duration::from_millis(1), move |overrun| {
        let thread = std::thread::current().name().map(str::to_owned);
        sender.send((overrun, thread)).expect("send");
    })
    .expect("arm");
    // Wait for the callback: no clock is read by the test.
    let (overrun, thread) = receiver.recv().expect("the callback ran");
    assert_eq!(overrun.budget, Duration::from_millis(1));
    assert!(overrun.elapsed >= overrun.budget);
    assert_eq!(thread.as_deref(), Some("cnv-deadline"));
    match deadline.finish() {
        Outcome::Overran { budget, elapsed } => {
            assert_eq!(budget, Duration::from_millis(1));
            assert!(elapsed >= budget);
        }
        other => panic!("expected an overrun, got {other:?}"),
    }
}

#[test]
fn finishing_in_time_disarms_the_watchdog() {
    let fired = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&fired);
    let deadline = Deadline::arm(ResourceBand::Slow, move |_| {
        flag.store(true, Ordering::SeqCst);
    })
    .expect("arm");
    assert_eq!(deadline.budget().limit(), Some(Duration::from_secs(60)));
    let outcome = deadline.finish();
    assert!(outcome.in_time(), "{outcome:?}");
    // `finish` joined the watchdog: it can no longer fire.
    assert!(!fired.load(Ordering::SeqCst));
}

#[test]
fn dropping_disarms_too() {
    let fired = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&fired);
    drop(
        Deadline::arm(ResourceBand::Medium, move |_| {
            flag.store(true, Ordering::SeqCst);
        })
        .expect("arm"),
    );
    assert!(!fired.load(Ordering::SeqCst));
}

#[test]
fn cold_is_unbounded_and_starts_no_watchdog() {
    let deadline =
        Deadline::arm(ResourceBand::Cold, |_| unreachable!("Cold never overruns")).expect("arm");
    assert_eq!(deadline.budget(), Budget::UNBOUNDED);
    assert!(
        format!("{deadline:?}").contains("watchdog: None"),
        "{deadline:?}"
    );
    assert!(deadline.finish().in_time());
}

#[test]
fn every_band_gets_its_runtime() {
    for &band in ResourceBand::ALL {
        assert_eq!(Budget::from(band).limit(), band.max_runtime(), "{band}");
    }
}
