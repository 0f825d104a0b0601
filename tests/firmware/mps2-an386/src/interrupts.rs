//! The board's interrupts: the vector table entries cortex-m-rt leaves to the device, and
//! the NVIC lines of the peripherals the firmware uses (QEMU's hw/arm/mps2.c wires them).

use cortex_m::interrupt::InterruptNumber;
use cortex_m::peripheral::NVIC;

/// The external interrupts the firmware takes.
#[derive(Debug, Clone, Copy)]
#[repr(u16)]
pub enum Irq {
    /// CMSDK APB timer 0: the clock's wraps (src/time.rs).
    Timer0 = 8,
    /// CMSDK APB timer 1: the alarm (src/time.rs).
    Timer1 = 9,
    /// The LAN9220 Ethernet controller (src/lan9118).
    Ethernet = 13,
}

// SAFETY: each variant is an interrupt line of the board, below the table's length.
unsafe impl InterruptNumber for Irq {
    fn number(self) -> u16 {
        self as u16
    }
}

/// Lets `irq` through to the core.
pub fn unmask(irq: Irq) {
    // SAFETY: the handlers are in the table below before any line is unmasked, and none
    // relies on a critical section by masking its own line.
    unsafe { NVIC::unmask(irq) };
}

/// One entry of the vector table: a handler, or a reserved slot.
pub union Vector {
    handler: unsafe extern "C" fn(),
    reserved: usize,
}

extern "C" {
    fn TIMER0();
    fn TIMER1();
    fn ETHERNET();
}

const UNUSED: Vector = Vector { reserved: 0 };

/// The external interrupts' part of the vector table (cortex-m-rt's `device` feature
/// places it after the exceptions); unused lines are reserved slots, never unmasked.
#[link_section = ".vector_table.interrupts"]
#[no_mangle]
pub static __INTERRUPTS: [Vector; 14] = [
    UNUSED,
    UNUSED,
    UNUSED,
    UNUSED,
    UNUSED,
    UNUSED,
    UNUSED,
    UNUSED,
    Vector { handler: TIMER0 },
    Vector { handler: TIMER1 },
    UNUSED,
    UNUSED,
    UNUSED,
    Vector { handler: ETHERNET },
];
