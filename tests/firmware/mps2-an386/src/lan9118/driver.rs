//! The controller as an `embassy-net` device.
//!
//! The network task asks for a received frame; when the RX FIFO is empty it leaves its
//! waker, and the controller's interrupt wakes it when a frame arrives (or a link
//! change, or an error). Until then the core sleeps: nothing polls.

use core::task::Context;

use embassy_net_driver::{Capabilities, HardwareAddress, LinkState};

use super::{Lan9118, MAX_FRAME, WAKER};

/// The controller with its frame buffers.
pub struct Device {
    chip: Lan9118,
    rx: [u8; MAX_FRAME],
    tx: [u8; MAX_FRAME],
}

impl Device {
    pub const fn new(chip: Lan9118) -> Self {
        Self { chip, rx: [0; MAX_FRAME], tx: [0; MAX_FRAME] }
    }
}

/// A received frame, in the RX buffer.
pub struct RxToken<'a> {
    frame: &'a mut [u8],
}

/// Room for a frame to send.
pub struct TxToken<'a> {
    chip: &'a mut Lan9118,
    buffer: &'a mut [u8; MAX_FRAME],
}

impl embassy_net_driver::Driver for Device {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, cx: &mut Context<'_>) -> Option<(RxToken<'_>, TxToken<'_>)> {
        // Registered before looking, so that a frame arriving in between wakes the task.
        WAKER.register(cx.waker());
        self.chip.handle_events();
        let len = self.chip.receive(&mut self.rx)?;
        let rx = RxToken { frame: &mut self.rx[..len] };
        Some((rx, TxToken { chip: &mut self.chip, buffer: &mut self.tx }))
    }

    /// Always room: a frame the TX FIFO cannot take is dropped and counted (the FIFO
    /// drains at line rate; QEMU's sends each frame as soon as it is written).
    fn transmit(&mut self, _cx: &mut Context<'_>) -> Option<TxToken<'_>> {
        Some(TxToken { chip: &mut self.chip, buffer: &mut self.tx })
    }

    fn link_state(&mut self, cx: &mut Context<'_>) -> LinkState {
        WAKER.register(cx.waker());
        self.chip.handle_events();
        if self.chip.link_up {
            LinkState::Up
        } else {
            LinkState::Down
        }
    }

    fn capabilities(&self) -> Capabilities {
        let mut capabilities = Capabilities::default();
        capabilities.max_transmission_unit = MAX_FRAME;
        capabilities
    }

    fn hardware_address(&self) -> HardwareAddress {
        HardwareAddress::Ethernet(self.chip.mac_address())
    }
}

impl embassy_net_driver::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

impl embassy_net_driver::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        // The stack never asks for more than the MTU it was given.
        let frame = &mut self.buffer[..len.min(MAX_FRAME)];
        let result = f(frame);
        self.chip.send(frame);
        result
    }
}
