//! The log macros of the application: `log`'s on the host stand-in (feature `log`, the
//! default: `main.rs` prints them), `defmt`'s on a board with a defmt logger (feature
//! `defmt`: wscodec's errors, close codes and events then go out in their compact
//! `defmt::Format` form).
//!
//! Declared first in `lib.rs` with `#[macro_use]`, so every module sees them.
//!
//! A call must suit both: positional `{}` arguments that are `Display` (or `{:?}` and
//! `Debug`) for `log` and `defmt::Format` for defmt.

macro_rules! info {
    ($($arg:tt)*) => {{
        #[cfg(feature = "defmt")]
        ::defmt::info!($($arg)*);
        #[cfg(not(feature = "defmt"))]
        ::log::info!($($arg)*);
    }};
}

macro_rules! warn {
    ($($arg:tt)*) => {{
        #[cfg(feature = "defmt")]
        ::defmt::warn!($($arg)*);
        #[cfg(not(feature = "defmt"))]
        ::log::warn!($($arg)*);
    }};
}
