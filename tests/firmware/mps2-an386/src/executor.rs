//! The executor's thread loop, sleeping with WFI while no task is ready.
//!
//! embassy-executor's Cortex-M loop waits with WFE, which QEMU does not emulate as a
//! sleep (it returns at once), so the core would spin at full speed while idle. This loop
//! waits with WFI instead: the core sleeps until an interrupt (the MAC's, or a timer's)
//! and the host CPU with it.

use core::sync::atomic::{AtomicBool, Ordering};

use embassy_executor::{raw, Spawner};
use static_cell::StaticCell;

/// Set when a task was woken since the last poll.
static PENDED: AtomicBool = AtomicBool::new(false);

/// Called by the executor, from a task or an interrupt handler, when a task is woken.
#[export_name = "__pender"]
fn pender(_context: *mut ()) {
    PENDED.store(true, Ordering::Release);
}

/// Runs `init` with a spawner, then the tasks, forever.
pub fn run(init: impl FnOnce(Spawner)) -> ! {
    static EXECUTOR: StaticCell<raw::Executor> = StaticCell::new();
    let executor = EXECUTOR.init(raw::Executor::new(core::ptr::null_mut()));
    init(executor.spawner());
    loop {
        // SAFETY: polled from this one thread only, never re-entrantly.
        unsafe { executor.poll() };
        // With interrupts masked, no wake can slip between the check and the WFI: a
        // pending interrupt ends the WFI, and runs once they are unmasked.
        cortex_m::interrupt::disable();
        if !PENDED.swap(false, Ordering::AcqRel) {
            cortex_m::asm::wfi();
        }
        // SAFETY: not inside a critical section (this loop holds none).
        unsafe { cortex_m::interrupt::enable() };
    }
}
