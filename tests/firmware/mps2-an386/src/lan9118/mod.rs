//! The board's Ethernet controller: an SMSC/Microchip LAN9220, register-compatible with
//! the LAN9118 (QEMU emulates it as `lan9118`). No crate drives it; this follows the
//! LAN9118 datasheet and QEMU's model (hw/net/lan9118.c).
//!
//! The controller keeps frames in FIFOs that are read and written a 32-bit word at a
//! time through fixed addresses: received frames in the RX data FIFO, each announced by a
//! word in the RX status FIFO (its length and error flags); frames to send go into the
//! TX data FIFO after two command words, and each sent frame leaves a word in the TX
//! status FIFO. Its interrupt line says a frame arrived or something went wrong; the
//! handler only acknowledges it and wakes the network task ([`driver`]), which does the
//! work.
//!
//! What would wedge a naive driver is dropped, counted and logged instead: a frame longer
//! than the MTU (or flagged bad) is read out of the FIFO and discarded; frames the
//! controller dropped because its RX FIFO overflowed are counted from its counter; a frame
//! that does not fit in the TX FIFO is not sent (TCP sends it again). The counts are in
//! [`Counters`].

pub mod driver;

use core::sync::atomic::{AtomicU32, Ordering};

use embassy_sync::waitqueue::AtomicWaker;

use crate::interrupts::{self, Irq};
use crate::mmio::Registers;

/// The controller on the MPS2 (QEMU: hw/arm/mps2.c).
const BASE: usize = 0x4020_0000;

/// The largest frame sent or received: the MTU (1500) and the Ethernet header, without
/// the frame check sequence (the controller adds and strips it).
pub const MAX_FRAME: usize = 1514;

// Registers (datasheet section 5.3).
const RX_DATA_FIFO: usize = 0x00;
const TX_DATA_FIFO: usize = 0x20;
const RX_STATUS_FIFO: usize = 0x40;
const TX_STATUS_FIFO: usize = 0x48;
const IRQ_CFG: usize = 0x54;
const INT_STS: usize = 0x58;
const INT_EN: usize = 0x5C;
const BYTE_TEST: usize = 0x64;
const RX_CFG: usize = 0x6C;
const TX_CFG: usize = 0x70;
const HW_CFG: usize = 0x74;
const RX_FIFO_INF: usize = 0x7C;
const TX_FIFO_INF: usize = 0x80;
const PMT_CTRL: usize = 0x84;
const RX_DROP: usize = 0xA0;
const MAC_CSR_CMD: usize = 0xA4;
const MAC_CSR_DATA: usize = 0xA8;

/// What BYTE_TEST reads on a LAN9118-family controller in 32-bit mode.
const BYTE_TEST_VALUE: u32 = 0x8765_4321;
const HW_CFG_SRST: u32 = 1 << 0;
/// HW_CFG: TX FIFO size 5 KiB (4,608 bytes of data, 512 of status), and the
/// must-be-one bit.
const HW_CFG_VALUE: u32 = (5 << 16) | (1 << 20);
const PMT_CTRL_READY: u32 = 1 << 0;
/// IRQ_CFG: de-assertion interval 220 µs, IRQ enabled, active high, push-pull (the line
/// is level-sensitive at the NVIC).
const IRQ_CFG_VALUE: u32 = (0x22 << 24) | (1 << 8) | (1 << 4) | (1 << 0);
const TX_CFG_TX_ON: u32 = 1 << 1;

// Interrupts (INT_STS, INT_EN).
const INT_RSFL: u32 = 1 << 3; // a frame's status is in the RX status FIFO
const INT_RXDF: u32 = 1 << 6; // a frame was dropped (RX FIFO full)
const INT_TDFO: u32 = 1 << 10; // TX data FIFO overrun
const INT_TXE: u32 = 1 << 13; // transmitter error
const INT_RXE: u32 = 1 << 14; // receiver error
const INT_PHY: u32 = 1 << 18; // link change
const INT_ENABLED: u32 = INT_RSFL | INT_RXDF | INT_TDFO | INT_TXE | INT_RXE | INT_PHY;

// Status words.
const RX_STATUS_ERROR: u32 = 1 << 15;
const TX_STATUS_ERROR: u32 = 1 << 15;
const TX_CMD_A_FIRST: u32 = 1 << 13;
const TX_CMD_A_LAST: u32 = 1 << 12;

// MAC registers, reached through MAC_CSR_CMD / MAC_CSR_DATA.
const MAC_CR: u32 = 1;
const MAC_ADDRH: u32 = 2;
const MAC_ADDRL: u32 = 3;
const MAC_MII_ACC: u32 = 6;
const MAC_MII_DATA: u32 = 7;
const MAC_CSR_BUSY: u32 = 1 << 31;
const MAC_CSR_READ: u32 = 1 << 30;
/// MAC_CR: transmitter and receiver on, full duplex; frames to this address and
/// broadcasts only.
const MAC_CR_VALUE: u32 = (1 << 3) | (1 << 2) | (1 << 20);

// PHY registers, reached through MAC_MII_ACC / MAC_MII_DATA.
const PHY_ADDRESS: u32 = 1;
const PHY_BCR: u32 = 0;
const PHY_BSR: u32 = 1;
const PHY_ANAR: u32 = 4;
const PHY_INT_SOURCE: u32 = 29;
const PHY_INT_MASK: u32 = 30;
const PHY_BCR_RESET: u32 = 1 << 15;
/// Auto-negotiation on and restarted.
const PHY_BCR_AUTONEG: u32 = (1 << 12) | (1 << 9);
/// 10/100 half and full duplex, symmetric and asymmetric pause, 802.3.
const PHY_ANAR_VALUE: u32 = 0x01E1 | (3 << 10);
const PHY_BSR_LINK: u32 = 1 << 2;
/// Link down and auto-negotiation complete.
const PHY_INT_LINK: u32 = (1 << 4) | (1 << 6);
const MII_BUSY: u32 = 1 << 0;
const MII_WRITE: u32 = 1 << 1;

/// How many times a register is polled for a bit before giving up.
const POLLS: u32 = 100_000;

/// Interrupt causes taken by the handler, not yet looked at by the network task.
static PENDING: AtomicU32 = AtomicU32::new(0);
/// The network task, woken by the interrupt.
static WAKER: AtomicWaker = AtomicWaker::new();

/// Why the controller could not be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, defmt::Format)]
pub enum InitError {
    /// BYTE_TEST read something else: no LAN9118-family controller at the address.
    NotFound(u32),
    /// The soft reset, the PHY or a MAC register did not become ready.
    Timeout(&'static str),
}

/// Frames dropped and errors seen, since start.
#[derive(Debug, Clone, Copy, Default, defmt::Format)]
pub struct Counters {
    pub received: u32,
    pub sent: u32,
    /// Frames longer than [`MAX_FRAME`], discarded.
    pub rx_oversize: u32,
    /// Frames the controller flagged bad (CRC, runt, ...), discarded.
    pub rx_bad: u32,
    /// Frames the controller dropped for want of room in its RX FIFO (overruns).
    pub rx_overrun: u32,
    /// Frames not sent because the TX FIFO had no room for them.
    pub tx_fifo_full: u32,
    /// Frames the controller reported as not sent, and TX FIFO overruns.
    pub tx_errors: u32,
}

/// Logs a drop when its count is a power of two: every kind shows up at once, and a
/// flood of them does not flood the log.
fn log_drop(what: &str, count: u32, counters: &Counters) {
    if count.is_power_of_two() {
        defmt::warn!("ethernet: {} (x{}); {}", what, count, counters);
    }
}

/// The controller, started.
pub struct Lan9118 {
    regs: Registers,
    mac: [u8; 6],
    link_up: bool,
    counters: Counters,
}

impl Lan9118 {
    /// Resets and starts the controller: its MAC address from its EEPROM, the PHY
    /// auto-negotiating, interrupts on.
    pub fn new() -> Result<Self, InitError> {
        let regs = Registers::at(BASE);
        match regs.read(BYTE_TEST) {
            BYTE_TEST_VALUE => {}
            other => return Err(InitError::NotFound(other)),
        }
        regs.write(HW_CFG, HW_CFG_SRST);
        poll(|| regs.read(HW_CFG) & HW_CFG_SRST == 0, "soft reset")?;
        poll(|| regs.read(PMT_CTRL) & PMT_CTRL_READY != 0, "PMT_CTRL ready")?;
        regs.write(HW_CFG, HW_CFG_VALUE);

        let mut chip = Self { regs, mac: [0; 6], link_up: false, counters: Counters::default() };
        let low = chip.mac_read(MAC_ADDRL)?.to_le_bytes();
        let high = chip.mac_read(MAC_ADDRH)?.to_le_bytes();
        chip.mac = [low[0], low[1], low[2], low[3], high[0], high[1]];

        chip.phy_write(PHY_BCR, PHY_BCR_RESET)?;
        let mut reset = Ok(0);
        poll(
            || {
                reset = chip.phy_read(PHY_BCR);
                reset.map_or(true, |bcr| bcr & PHY_BCR_RESET == 0)
            },
            "PHY reset",
        )?;
        reset?;
        chip.phy_write(PHY_ANAR, PHY_ANAR_VALUE)?;
        chip.phy_write(PHY_BCR, PHY_BCR_AUTONEG)?;
        chip.phy_write(PHY_INT_MASK, PHY_INT_LINK)?;
        chip.link_up = chip.phy_read(PHY_BSR)? & PHY_BSR_LINK != 0;

        regs.write(RX_CFG, 0);
        regs.write(TX_CFG, TX_CFG_TX_ON);
        chip.mac_write(MAC_CR, MAC_CR_VALUE)?;
        regs.write(INT_STS, u32::MAX);
        regs.write(INT_EN, INT_ENABLED);
        regs.write(IRQ_CFG, IRQ_CFG_VALUE);
        interrupts::unmask(Irq::Ethernet);
        Ok(chip)
    }

    /// The MAC address the controller loaded from its EEPROM.
    pub fn mac_address(&self) -> [u8; 6] {
        self.mac
    }

    /// Looks at what the interrupt handler took since the last call: counts overruns and
    /// errors, follows link changes.
    fn handle_events(&mut self) {
        let events = PENDING.swap(0, Ordering::AcqRel);
        if events & INT_RXDF != 0 {
            // The controller's count of frames it dropped (cleared when read). QEMU's
            // model drops silently and reads 0 here: count at least one.
            let dropped = self.regs.read(RX_DROP).max(1);
            self.counters.rx_overrun = self.counters.rx_overrun.saturating_add(dropped);
            log_drop("RX FIFO overrun, frames dropped", self.counters.rx_overrun, &self.counters);
        }
        if events & (INT_TXE | INT_TDFO) != 0 {
            self.counters.tx_errors = self.counters.tx_errors.saturating_add(1);
            log_drop("transmitter error", self.counters.tx_errors, &self.counters);
        }
        if events & INT_RXE != 0 {
            self.counters.rx_bad = self.counters.rx_bad.saturating_add(1);
            log_drop("receiver error", self.counters.rx_bad, &self.counters);
        }
        if events & INT_PHY != 0 {
            // Reading the source acknowledges it.
            let _ = self.phy_read(PHY_INT_SOURCE);
            let up = self.phy_read(PHY_BSR).is_ok_and(|bsr| bsr & PHY_BSR_LINK != 0);
            if up != self.link_up {
                defmt::info!("ethernet: link {}", if up { "up" } else { "down" });
            }
            self.link_up = up;
        }
    }

    /// Takes the next good frame out of the RX FIFO into `frame`, and returns its length;
    /// `None` when no frame is waiting. Oversize and bad frames are discarded on the way.
    fn receive(&mut self, frame: &mut [u8; MAX_FRAME]) -> Option<usize> {
        loop {
            if (self.regs.read(RX_FIFO_INF) >> 16) & 0xFF == 0 {
                return None;
            }
            let status = self.regs.read(RX_STATUS_FIFO);
            // The length counts the 4-byte frame check sequence, which the FIFO holds too.
            let length = ((status >> 16) & 0x3FFF) as usize;
            let words = length.div_ceil(4);
            let Some(len) = length.checked_sub(4).filter(|len| *len <= MAX_FRAME) else {
                self.discard(words);
                self.counters.rx_oversize = self.counters.rx_oversize.saturating_add(1);
                log_drop(
                    "frame longer than the MTU dropped",
                    self.counters.rx_oversize,
                    &self.counters,
                );
                continue;
            };
            if status & RX_STATUS_ERROR != 0 {
                self.discard(words);
                self.counters.rx_bad = self.counters.rx_bad.saturating_add(1);
                log_drop("bad frame dropped", self.counters.rx_bad, &self.counters);
                continue;
            }
            let mut chunks = frame[..len].chunks_mut(4);
            for _ in 0..words {
                let word = self.regs.read(RX_DATA_FIFO).to_le_bytes();
                if let Some(chunk) = chunks.next() {
                    chunk.copy_from_slice(&word[..chunk.len()]);
                }
            }
            self.counters.received = self.counters.received.wrapping_add(1);
            return Some(len);
        }
    }

    /// Reads `words` words of a frame out of the RX FIFO and forgets them. (The
    /// datasheet's fast-forward would be quicker for long frames, but QEMU's model of it
    /// loses track of the FIFO.)
    fn discard(&self, words: usize) {
        for _ in 0..words {
            self.regs.read(RX_DATA_FIFO);
        }
    }

    /// Puts `frame` into the TX FIFO, or drops it if the FIFO has no room for it.
    fn send(&mut self, frame: &[u8]) {
        self.drain_tx_status();
        let free = (self.regs.read(TX_FIFO_INF) & 0xFFFF) as usize;
        if free < frame.len().div_ceil(4) * 4 + 8 {
            self.counters.tx_fifo_full = self.counters.tx_fifo_full.saturating_add(1);
            log_drop("TX FIFO full, frame dropped", self.counters.tx_fifo_full, &self.counters);
            return;
        }
        let len = frame.len() as u32;
        self.regs.write(TX_DATA_FIFO, TX_CMD_A_FIRST | TX_CMD_A_LAST | len);
        // Command B: the frame's tag (its number, echoed in the status word) and length.
        self.regs.write(TX_DATA_FIFO, (self.counters.sent << 16) | len);
        for chunk in frame.chunks(4) {
            let mut word = [0; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            self.regs.write(TX_DATA_FIFO, u32::from_le_bytes(word));
        }
        self.counters.sent = self.counters.sent.wrapping_add(1);
        self.drain_tx_status();
    }

    /// Takes the status words of sent frames, counting failures.
    fn drain_tx_status(&mut self) {
        while (self.regs.read(TX_FIFO_INF) >> 16) & 0xFF != 0 {
            if self.regs.read(TX_STATUS_FIFO) & TX_STATUS_ERROR != 0 {
                self.counters.tx_errors = self.counters.tx_errors.saturating_add(1);
                log_drop("frame not sent", self.counters.tx_errors, &self.counters);
            }
        }
    }

    fn mac_wait(&self) -> Result<(), InitError> {
        poll(|| self.regs.read(MAC_CSR_CMD) & MAC_CSR_BUSY == 0, "MAC CSR")
    }

    fn mac_read(&self, register: u32) -> Result<u32, InitError> {
        self.mac_wait()?;
        self.regs.write(MAC_CSR_CMD, MAC_CSR_BUSY | MAC_CSR_READ | register);
        self.mac_wait()?;
        Ok(self.regs.read(MAC_CSR_DATA))
    }

    fn mac_write(&self, register: u32, value: u32) -> Result<(), InitError> {
        self.mac_wait()?;
        self.regs.write(MAC_CSR_DATA, value);
        self.regs.write(MAC_CSR_CMD, MAC_CSR_BUSY | register);
        self.mac_wait()
    }

    fn mii_wait(&self) -> Result<(), InitError> {
        let mut idle = Ok(false);
        poll(
            || {
                idle = self.mac_read(MAC_MII_ACC).map(|acc| acc & MII_BUSY == 0);
                !matches!(idle, Ok(false))
            },
            "PHY access",
        )?;
        idle.map(|_| ())
    }

    fn phy_read(&self, register: u32) -> Result<u32, InitError> {
        self.mii_wait()?;
        self.mac_write(MAC_MII_ACC, (PHY_ADDRESS << 11) | (register << 6) | MII_BUSY)?;
        self.mii_wait()?;
        Ok(self.mac_read(MAC_MII_DATA)? & 0xFFFF)
    }

    fn phy_write(&self, register: u32, value: u32) -> Result<(), InitError> {
        self.mii_wait()?;
        self.mac_write(MAC_MII_DATA, value)?;
        self.mac_write(MAC_MII_ACC, (PHY_ADDRESS << 11) | (register << 6) | MII_WRITE | MII_BUSY)?;
        self.mii_wait()
    }
}

/// Polls `ready` until it holds, [`POLLS`] times at most.
fn poll(mut ready: impl FnMut() -> bool, what: &'static str) -> Result<(), InitError> {
    for _ in 0..POLLS {
        if ready() {
            return Ok(());
        }
    }
    Err(InitError::Timeout(what))
}

/// The controller's interrupt: acknowledges every cause, leaves them for the network
/// task, and wakes it.
#[no_mangle]
extern "C" fn ETHERNET() {
    let regs = Registers::at(BASE);
    let causes = regs.read(INT_STS);
    regs.write(INT_STS, causes);
    PENDING.fetch_or(causes, Ordering::AcqRel);
    WAKER.wake();
}
