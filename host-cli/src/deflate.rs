//! permessage-deflate for wsc's connections: the memory each one lends its inflater, and
//! how it compresses.

use std::sync::Mutex;

use wscodec::deflate::{
    Compressor, CompressorState, InflateState, Inflater, PerMessageDeflate, StateKey, StatePool,
};
use wscodec::io::Deflate;
use wscodec::{Role, RxBuffer};

/// The inflater's window: 32 KiB, the largest a peer may use, so that every offer can be
/// taken with context takeover.
pub(crate) const WINDOW: usize = 32 * 1024;
/// miniz_oxide's fastest level: an echo of Autobahn's 128 KiB messages stays well
/// within the cases' time limits, at about a third of level 6's ratio lost on text.
pub(crate) const LEVEL: u8 = 1;

/// The heap memory one connection lends permessage-deflate: the inflater's state and
/// window (about 42.5 KiB), taken only when deflate was agreed.
pub(crate) struct Memory {
    state: Box<InflateState>,
    window: Vec<u8>,
}

impl Memory {
    pub(crate) fn new() -> Self {
        Self { state: Box::default(), window: vec![0; WINDOW] }
    }

    /// Lends the memory, with `output` for the messages inflated in reassembly mode. The
    /// connection compresses what it sends; `resetting` compresses each message on its
    /// own and says so in the negotiation.
    pub(crate) fn lend<R: RxBuffer>(&mut self, output: R, resetting: bool) -> Deflate<'_, R> {
        let compressor = Compressor::new(LEVEL).with_pool(STATES);
        let deflate = Deflate::new(Inflater::new(&mut self.state, &mut self.window, output))
            .compressing(compressor);
        if resetting {
            deflate.resetting()
        } else {
            deflate
        }
    }
}

/// The compressor states all connections share: a connection takes one for the message it
/// compresses and gives it back, so the 312 KiB of a state exist once per message being
/// compressed at the time, not once per connection.
const STATES: StatePool = StatePool { take: take_state, give: give_state };

/// The most idle states kept for the next messages; more are dropped.
const KEEP_STATES: usize = 4;

/// Idle compressor states.
static IDLE_STATES: Mutex<Vec<CompressorState>> = Mutex::new(Vec::new());

/// A state for `key`: an idle one, or a new one built on a short-lived thread, because
/// building takes about 96 KiB of stack, which would otherwise stay resident in the
/// connection's thread for its whole life.
fn take_state(key: StateKey) -> Option<CompressorState> {
    let idle = IDLE_STATES.lock().ok().and_then(|mut idle| {
        let at = idle.iter().position(|state| state.key() == key)?;
        Some(idle.swap_remove(at))
    });
    idle.or_else(|| {
        let builder = std::thread::Builder::new().name("compressor state".into());
        builder.stack_size(1024 * 1024).spawn(move || key.build()).ok()?.join().ok()
    })
}

fn give_state(state: CompressorState) {
    if let Ok(mut idle) = IDLE_STATES.lock() {
        if idle.len() < KEEP_STATES {
            idle.push(state);
        }
    }
}

/// A client's permessage-deflate memory: the inflater's, and output storage for messages
/// of up to `max_message` bytes (zero-filled on demand by the system, so untouched pages
/// cost nothing).
pub(crate) struct ClientMemory {
    memory: Memory,
    output: Vec<u8>,
}

impl ClientMemory {
    pub(crate) fn new(max_message: usize) -> Self {
        Self { memory: Memory::new(), output: vec![0; max_message.saturating_add(1)] }
    }

    /// Lends it for one connection. A client compresses each message on its own and
    /// hints so (`client_no_context_takeover`): a server then needs no window for it, and
    /// every server choice (Autobahn's included) can be followed.
    pub(crate) fn lend(&mut self) -> Deflate<'_, &mut [u8]> {
        self.memory.lend(&mut self.output[..], true)
    }
}

/// What was agreed, for a log line or a report: the header value, then how each
/// direction is compressed.
pub(crate) fn describe(agreed: &PerMessageDeflate, me: Role) -> String {
    let direction = |d: wscodec::deflate::Direction| {
        format!(
            "{}-bit window, {}",
            d.max_window_bits,
            if d.no_context_takeover { "each message on its own" } else { "context kept" }
        )
    };
    let (sent, received) = (agreed.send(me), agreed.receive(me));
    format!("{agreed} (sent: {}; received: {})", direction(sent), direction(received))
}
