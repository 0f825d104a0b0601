//! The embassy time driver, on the board's two CMSDK APB timers (25 MHz, 32-bit, counting
//! down).
//!
//! - Timer 0 is the clock: it counts down from 2^32 - 1 again and again, and its interrupt
//!   counts the wraps (one every 171.8 s), which makes the 64-bit time.
//! - Timer 1 is the alarm: started for the next deadline of the timer queue, stopped in
//!   its interrupt, which wakes the tasks whose time has come and sets the next one.
//!
//! Between deadlines nothing interrupts the core: no periodic tick. Ticks are embassy-time's
//! default microseconds, 25 timer cycles each.

use core::cell::{Cell, RefCell};
use core::task::Waker;

use critical_section::{CriticalSection, Mutex};
use embassy_time_driver::Driver;
use embassy_time_queue_utils::Queue;

use crate::interrupts::{self, Irq};
use crate::mmio::Registers;

/// The timers' input clock.
const CYCLES_PER_TICK: u64 = 25_000_000 / embassy_time_driver::TICK_HZ;

const CLOCK: Registers = Registers::at(0x4000_0000);
const ALARM: Registers = Registers::at(0x4000_1000);

// Registers of a CMSDK APB timer.
const CTRL: usize = 0x0;
const VALUE: usize = 0x4;
const RELOAD: usize = 0x8;
const INTSTATUS: usize = 0xC;
const CTRL_ENABLE: u32 = 1 << 0;
const CTRL_IRQ_ENABLE: u32 = 1 << 3;

struct TimerDriver {
    /// Timer 0's wraps so far.
    wraps: Mutex<Cell<u32>>,
    queue: Mutex<RefCell<Queue>>,
}

embassy_time_driver::time_driver_impl!(static DRIVER: TimerDriver = TimerDriver {
    wraps: Mutex::new(Cell::new(0)),
    queue: Mutex::new(RefCell::new(Queue::new())),
});

/// Starts the clock. Call once, before the executor runs.
pub fn init() {
    ALARM.write(CTRL, 0);
    CLOCK.write(CTRL, 0);
    CLOCK.write(RELOAD, u32::MAX);
    CLOCK.write(CTRL, CTRL_ENABLE | CTRL_IRQ_ENABLE);
    interrupts::unmask(Irq::Timer0);
    interrupts::unmask(Irq::Timer1);
}

impl TimerDriver {
    fn cycles(&self, cs: CriticalSection<'_>) -> u64 {
        let value = CLOCK.read(VALUE);
        // A wrap whose interrupt has not run yet (it cannot inside the critical section):
        // it happened before `value` was read if the counter has reloaded since.
        let unseen = CLOCK.read(INTSTATUS) & 1 != 0 && value > u32::MAX / 2;
        let wraps = u64::from(self.wraps.borrow(cs).get()) + u64::from(unseen);
        (wraps << 32) | u64::from(u32::MAX - value)
    }

    /// Starts the alarm for `at`; false if `at` has already come.
    fn set_alarm(&self, cs: CriticalSection<'_>, at: u64) -> bool {
        ALARM.write(CTRL, 0);
        ALARM.write(INTSTATUS, 1);
        if at == u64::MAX {
            return true;
        }
        let now = self.cycles(cs) / CYCLES_PER_TICK;
        if at <= now {
            return false;
        }
        // A deadline further off than the timer reaches is met in steps.
        let cycles = (at - now).saturating_mul(CYCLES_PER_TICK).min(u64::from(u32::MAX));
        ALARM.write(RELOAD, cycles as u32);
        ALARM.write(CTRL, CTRL_ENABLE | CTRL_IRQ_ENABLE);
        true
    }

    /// Wakes what is due and sets the alarm for the next deadline.
    fn wake_due(&self, cs: CriticalSection<'_>) {
        let mut queue = self.queue.borrow_ref_mut(cs);
        loop {
            let next = queue.next_expiration(self.cycles(cs) / CYCLES_PER_TICK);
            if self.set_alarm(cs, next) {
                return;
            }
        }
    }
}

impl Driver for TimerDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| self.cycles(cs) / CYCLES_PER_TICK)
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            let earlier = self.queue.borrow_ref_mut(cs).schedule_wake(at, waker);
            if earlier {
                self.wake_due(cs);
            }
        });
    }
}

#[no_mangle]
extern "C" fn TIMER0() {
    critical_section::with(|cs| {
        CLOCK.write(INTSTATUS, 1);
        let wraps = DRIVER.wraps.borrow(cs);
        wraps.set(wraps.get().wrapping_add(1));
    });
}

#[no_mangle]
extern "C" fn TIMER1() {
    critical_section::with(|cs| DRIVER.wake_due(cs));
}
