//! What every proof binary shares: the panic handler that cannot link, and opaque input.
#![no_std]

/// Input the optimizer knows nothing about: `N` bytes and a length up to `N`.
#[inline(always)]
pub fn opaque<const N: usize>() -> ([u8; N], usize) {
    let buf = core::hint::black_box([0u8; N]);
    (buf, core::hint::black_box(N))
}

/// The first `len` bytes of `buf` (all of it if `len` is larger), without a panic path.
#[inline(always)]
pub fn opaque_ref(buf: &[u8], len: usize) -> &[u8] {
    match buf.get(..len) {
        Some(s) => s,
        None => buf,
    }
}

/// Mutable twin of [`opaque_ref`].
#[inline(always)]
pub fn opaque_mut(buf: &mut [u8], len: usize) -> &mut [u8] {
    let len = if len > buf.len() { buf.len() } else { len };
    match buf.split_at_mut_checked(len) {
        Some((head, _)) => head,
        None => &mut [],
    }
}

/// Keeps a result alive so the call is not optimized away.
#[inline(always)]
pub fn keep<T>(value: T) {
    core::hint::black_box(value);
}

/// Defines `main` and the panic handler of a proof binary around `$body`.
#[macro_export]
macro_rules! proof {
    ($body:block) => {
        // The C runtime calls `main`; it is libc, not Rust's std.
        #[link(name = "c")]
        unsafe extern "C" {}

        #[cfg(feature = "locate")]
        #[panic_handler]
        #[inline(never)]
        fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
            loop {}
        }

        #[cfg(not(feature = "locate"))]
        #[panic_handler]
        fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
            unsafe extern "C" {
                // Defined nowhere: referencing it fails the link.
                fn wscodec_panic_path_survived_optimization() -> !;
            }
            unsafe { wscodec_panic_path_survived_optimization() }
        }

        #[unsafe(no_mangle)]
        pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
            $body
            0
        }
    };
}
