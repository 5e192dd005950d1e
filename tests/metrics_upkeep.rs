//! The metrics recorder's memory over time: histogram samples recorded
//! while nobody scrapes `/metrics` (or with no HTTP listener at all) must
//! not pile up. The recorder keeps every raw sample until an upkeep (or a
//! scrape) folds it into its buckets; `Exporter::install` starts that
//! upkeep. A binary of its own: it counts the heap bytes in use through a
//! global allocator and installs the process-wide recorder.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

/// The system allocator, keeping count of the bytes allocated and not freed.
struct CountingAllocator;

static BYTES_IN_USE: AtomicIsize = AtomicIsize::new(0);

fn count(delta: isize) {
    BYTES_IN_USE.fetch_add(delta, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let block = unsafe { System.alloc(layout) };
        if !block.is_null() {
            count(layout.size() as isize);
        }
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let block = unsafe { System.alloc_zeroed(layout) };
        if !block.is_null() {
            count(layout.size() as isize);
        }
        block
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(block, layout, new_size) };
        if !moved.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        moved
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        unsafe { System.dealloc(block, layout) };
        count(-(layout.size() as isize));
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// As many samples as the engine observer records for this many calls
/// (wait, speed of answer, handle time).
fn record_calls(calls: usize) {
    for call in 0..calls {
        let seconds = (call % 60) as f64;
        metrics::histogram!("acdd_wait_seconds", "queue" => "bench", "channel" => "phone", "outcome" => "answered")
            .record(seconds);
        metrics::histogram!("acdd_speed_of_answer_seconds", "queue" => "bench", "channel" => "phone").record(seconds);
        metrics::histogram!("acdd_operator_handle_seconds", "operator" => "op1", "channel" => "phone").record(seconds);
    }
}

#[tokio::test]
async fn histogram_samples_do_not_pile_up_without_scrapes() {
    const CALLS_PER_ROUND: usize = 50_000;
    // Longer than the upkeep interval: one upkeep runs between two rounds.
    const PAUSE: Duration = Duration::from_secs(6);
    let _exporter = acdd::metrics::Exporter::install().unwrap();
    record_calls(CALLS_PER_ROUND);
    tokio::time::sleep(PAUSE).await;
    let after_first = BYTES_IN_USE.load(Ordering::Relaxed);
    for _ in 0..2 {
        record_calls(CALLS_PER_ROUND);
        tokio::time::sleep(PAUSE).await;
    }
    let grown = BYTES_IN_USE.load(Ordering::Relaxed) - after_first;
    // Kept raw, the two rounds' 300,000 samples would take 2.4 MB or more.
    assert!(
        grown < 512 * 1024,
        "the heap grew by {grown} bytes over {} calls' histogram samples",
        2 * CALLS_PER_ROUND
    );
}
