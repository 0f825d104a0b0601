/// The result of feeding bytes to a decoder: done, or more input needed.
///
/// As in `httparse`, running out of input is not an error: `Partial` says how many
/// more bytes are needed at least (`needed >= 1`), and the caller reads more and
/// calls again with the longer buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Status<T> {
    /// A value was decoded from the first `consumed` bytes of the input.
    Complete {
        /// The decoded value.
        value: T,
        /// How many input bytes it took.
        consumed: usize,
    },
    /// The input ends before a value is complete; at least `needed` more bytes are required.
    Partial {
        /// A lower bound for the number of bytes still missing (at least 1).
        needed: usize,
    },
}

impl<T> Status<T> {
    /// Returns `true` for [`Status::Complete`].
    pub const fn is_complete(&self) -> bool {
        matches!(self, Self::Complete { .. })
    }

    /// Maps the completed value, keeping `consumed`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Status<U> {
        match self {
            Self::Complete { value, consumed } => Status::Complete { value: f(value), consumed },
            Self::Partial { needed } => Status::Partial { needed },
        }
    }
}
