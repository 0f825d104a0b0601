//! Reconnection delays: exponential backoff with full jitter, sans-IO.
//!
//! A client that loses its connection should not hammer the server: each failed attempt
//! doubles the ceiling of the wait (from `initial_ms` up to `max_ms`), and the actual
//! wait is drawn uniformly between zero and that ceiling ("full jitter"), so that many
//! devices dropped at the same moment do not all come back at the same moment. A
//! connection that stayed up long enough resets the schedule.
//!
//! Like the rest of the crate this module reads no clock and draws no random numbers:
//! the caller passes a fresh random `u32` to each [`Backoff::next_delay_ms`] call (a
//! hardware RNG on firmware, the OS on a host) and reports how long a connection lasted
//! with [`Backoff::connection_lasted`]. Whether a close code is worth a retry at all is
//! [`should_retry`].
//!
//! # Examples
//!
//! ```
//! use wscodec::backoff::{should_retry, Backoff};
//! use wscodec::CloseCode;
//!
//! let mut backoff = Backoff::new(100, 5_000).with_max_retries(3);
//! // The server went away (1006): wait at most 100 ms, then 200 ms, then 400 ms ...
//! assert!(should_retry(Some(CloseCode::ABNORMAL)));
//! assert_eq!(backoff.next_delay_ms(u32::MAX), Some(100)); // the random draw sets the point
//! assert_eq!(backoff.next_delay_ms(0), Some(0));          // anywhere from 0 to the ceiling
//! assert!(backoff.next_delay_ms(0x8000_0000).is_some_and(|ms| ms <= 400));
//! assert_eq!(backoff.next_delay_ms(7), None); // three retries, then give up
//!
//! // A connection that stayed up for a while starts the schedule again.
//! backoff.connection_lasted(60_000);
//! assert_eq!(backoff.attempt(), 0);
//! assert_eq!(backoff.next_delay_ms(u32::MAX), Some(100));
//!
//! // A normal close or a policy close is final.
//! assert!(!should_retry(Some(CloseCode::NORMAL)));
//! assert!(!should_retry(Some(CloseCode::POLICY_VIOLATION)));
//! ```

use crate::CloseCode;

/// An exponential backoff schedule with full jitter (all times in milliseconds).
///
/// Attempt `n` (counting from 0) waits a uniformly drawn time in
/// `0..=min(max_ms, initial_ms * 2^n)`. The ceiling saturates at `max_ms`; nothing
/// overflows and nothing panics, whatever the arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Backoff {
    initial_ms: u32,
    max_ms: u32,
    stable_ms: u32,
    max_retries: Option<u32>,
    attempt: u32,
}

impl Backoff {
    /// A schedule whose first ceiling is `initial_ms` and whose ceiling never exceeds
    /// `max_ms` (if `max_ms < initial_ms`, `max_ms` wins). Retries are unlimited, and a
    /// connection that lasted `max_ms` (at least one second) resets the schedule.
    pub const fn new(initial_ms: u32, max_ms: u32) -> Self {
        let stable_ms = if max_ms > 1_000 { max_ms } else { 1_000 };
        Self { initial_ms, max_ms, stable_ms, max_retries: None, attempt: 0 }
    }

    /// Gives up after `retries` delays in a row (without a stable connection between
    /// them): [`next_delay_ms`](Self::next_delay_ms) then returns `None`.
    #[must_use]
    pub const fn with_max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// A connection that lasted at least `stable_ms` resets the schedule
    /// (see [`connection_lasted`](Self::connection_lasted)).
    #[must_use]
    pub const fn with_stable_after_ms(mut self, stable_ms: u32) -> Self {
        self.stable_ms = stable_ms;
        self
    }

    /// How many delays were handed out since the last reset.
    pub const fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The ceiling of the next delay: `min(max_ms, initial_ms * 2^attempt)`.
    pub const fn ceiling_ms(&self) -> u32 {
        let cap = self.max_ms;
        if self.initial_ms == 0 {
            return 0;
        }
        // Past 32 doublings any non-zero `initial_ms` exceeds every u32.
        if self.attempt >= 32 {
            return cap;
        }
        let scaled = (self.initial_ms as u64) << self.attempt;
        if scaled > cap as u64 {
            cap
        } else {
            // `scaled <= cap`, a u32.
            scaled as u32
        }
    }

    /// The delay before the next attempt, drawn from `random` (a fresh, uniformly
    /// random `u32` for each call), or `None` once the retries are used up.
    ///
    /// The result lies in `0..=`[`ceiling_ms`](Self::ceiling_ms) as it was before the
    /// call; `random = u32::MAX` gives the ceiling itself and `0` gives zero.
    pub fn next_delay_ms(&mut self, random: u32) -> Option<u32> {
        if self.max_retries.is_some_and(|max| self.attempt >= max) {
            return None;
        }
        let ceiling = u64::from(self.ceiling_ms());
        // Scale the draw onto 0..=ceiling without modulo bias worth mentioning:
        // (random * (ceiling + 1)) >> 32 is below ceiling + 1 because random < 2^32.
        let delay = (u64::from(random) * (ceiling + 1)) >> 32;
        self.attempt = self.attempt.saturating_add(1);
        // `delay <= ceiling <= u32::MAX`, so the conversion cannot fail.
        Some(u32::try_from(delay).unwrap_or(u32::MAX))
    }

    /// Reports that a connection was established and then lasted `up_ms`; if that is at
    /// least the stable time, the schedule starts over.
    pub fn connection_lasted(&mut self, up_ms: u32) {
        if up_ms >= self.stable_ms {
            self.reset();
        }
    }

    /// Starts the schedule over: the next delay's ceiling is `initial_ms` again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Whether a connection that ended this way is worth reconnecting to.
///
/// `None` means no close code at all: the connection dropped (1006), or could not be
/// made. Retried: 1001 (going away, e.g. a server shutting down), 1006 (abnormal
/// closure), 1011 (internal error, often transient), 1012 (service restart), 1013 (try
/// again later) and 1014 (bad gateway). Everything else is final: 1000 (normal) ends
/// the session on purpose; 1002, 1003, 1007, 1008, 1009 and 1010 say this client did
/// something the server will refuse again; 1015 is a TLS configuration problem; and
/// application codes (3000–4999) mean what the application says, so the caller decides.
pub const fn should_retry(code: Option<CloseCode>) -> bool {
    match code {
        None => true,
        Some(code) => matches!(code.as_u16(), 1001 | 1006 | 1011..=1014),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_from_initial_and_stop_at_max() {
        let mut b = Backoff::new(100, 1_000);
        let mut ceilings = [0u32; 7];
        for c in &mut ceilings {
            *c = b.ceiling_ms();
            b.next_delay_ms(0);
        }
        assert_eq!(ceilings, [100, 200, 400, 800, 1_000, 1_000, 1_000]);
    }

    #[test]
    fn delays_stay_within_zero_and_the_ceiling() {
        let draws = [0, 1, 2, 0x7fff_ffff, 0x8000_0000, 0xdead_beef, u32::MAX - 1, u32::MAX];
        for &random in &draws {
            let mut b = Backoff::new(250, 30_000);
            for _ in 0..40 {
                let ceiling = b.ceiling_ms();
                let delay = b.next_delay_ms(random).unwrap();
                assert!(delay <= ceiling, "{delay} > {ceiling} (random {random:#x})");
            }
        }
    }

    #[test]
    fn extreme_draws_give_zero_and_the_ceiling() {
        let mut b = Backoff::new(100, 10_000);
        assert_eq!(b.next_delay_ms(0), Some(0));
        assert_eq!(b.next_delay_ms(u32::MAX), Some(200));
        assert_eq!(b.next_delay_ms(u32::MAX / 2), Some(200)); // the middle of 0..=400
    }

    #[test]
    fn extreme_parameters_never_overflow() {
        for (initial, max) in [(u32::MAX, u32::MAX), (1, u32::MAX), (u32::MAX, 1), (0, 0), (0, 9)] {
            let mut b = Backoff::new(initial, max);
            for _ in 0..100 {
                let ceiling = b.ceiling_ms();
                assert!(ceiling <= max, "{initial} {max}: {ceiling}");
                assert!(b.next_delay_ms(u32::MAX).unwrap() <= ceiling);
            }
            assert_eq!(b.attempt(), 100);
        }
        let mut b = Backoff::new(1, u32::MAX);
        for _ in 0..40 {
            b.next_delay_ms(0);
        }
        assert_eq!(b.ceiling_ms(), u32::MAX);
    }

    #[test]
    fn max_below_initial_caps_the_first_delay() {
        let mut b = Backoff::new(5_000, 1_000);
        assert_eq!(b.ceiling_ms(), 1_000);
        assert_eq!(b.next_delay_ms(u32::MAX), Some(1_000));
    }

    #[test]
    fn retries_run_out_and_a_stable_connection_resets_them() {
        let mut b = Backoff::new(10, 100).with_max_retries(2).with_stable_after_ms(500);
        assert!(b.next_delay_ms(1).is_some());
        assert!(b.next_delay_ms(1).is_some());
        assert_eq!(b.next_delay_ms(1), None);
        b.connection_lasted(499); // too short: still exhausted
        assert_eq!(b.next_delay_ms(1), None);
        b.connection_lasted(500);
        assert_eq!((b.attempt(), b.ceiling_ms()), (0, 10));
        assert!(b.next_delay_ms(1).is_some());
        assert_eq!(Backoff::new(1, 1).with_max_retries(0).next_delay_ms(5), None);
    }

    #[test]
    fn the_default_stable_time_is_max_but_at_least_a_second() {
        let mut b = Backoff::new(10, 100);
        b.next_delay_ms(0);
        b.connection_lasted(999);
        assert_eq!(b.attempt(), 1);
        b.connection_lasted(1_000);
        assert_eq!(b.attempt(), 0);
        let mut b = Backoff::new(10, 20_000);
        b.next_delay_ms(0);
        b.connection_lasted(19_999);
        assert_eq!(b.attempt(), 1);
        b.connection_lasted(20_000);
        assert_eq!(b.attempt(), 0);
    }

    #[test]
    fn only_transient_closes_are_retried() {
        let retried = [1001, 1006, 1011, 1012, 1013, 1014];
        for code in 1000..=1015 {
            let expected = retried.contains(&code);
            assert_eq!(should_retry(Some(CloseCode::new(code))), expected, "{code}");
        }
        assert!(should_retry(None));
        assert!(!should_retry(Some(CloseCode::new(4000))));
    }
}
