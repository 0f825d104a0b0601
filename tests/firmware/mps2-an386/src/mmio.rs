//! Memory-mapped peripheral registers.

/// A peripheral's 32-bit registers, by offset from its base address.
#[derive(Debug, Clone, Copy)]
pub struct Registers {
    base: usize,
}

impl Registers {
    /// The registers of the peripheral at `base`.
    pub const fn at(base: usize) -> Self {
        Self { base }
    }

    pub fn read(self, offset: usize) -> u32 {
        // SAFETY: `base` is a peripheral of the board's memory map (constants in this
        // crate), the offsets are its registers, aligned; reads have no effect on memory.
        unsafe { core::ptr::read_volatile((self.base + offset) as *const u32) }
    }

    pub fn write(self, offset: usize, value: u32) {
        // SAFETY: as for `read`; the peripheral's state is all a write changes.
        unsafe { core::ptr::write_volatile((self.base + offset) as *mut u32, value) }
    }
}
