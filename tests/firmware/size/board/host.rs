//! The host runtime (x86_64 Linux): the C runtime calls `main`, which reads the whole
//! conversation from stdin into memory; what the probe writes goes to stdout.

mod libc {
    #[link(name = "c")]
    unsafe extern "C" {
        pub fn read(fd: i32, buf: *mut u8, count: usize) -> isize;
        pub fn write(fd: i32, buf: *const u8, count: usize) -> isize;
        pub fn _exit(code: i32) -> !;
    }
}

/// Room for the conversation.
static mut INPUT: [u8; 65536] = [0; 65536];

#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    // SAFETY: single-threaded; filled here, only read after.
    let input = unsafe { &mut *core::ptr::addr_of_mut!(INPUT) };
    let mut len = 0;
    while len < input.len() {
        // SAFETY: the unfilled rest of `input`.
        let n = unsafe { libc::read(0, input[len..].as_mut_ptr(), input.len() - len) };
        match usize::try_from(n) {
            Ok(n @ 1..) => len += n,
            _ => break,
        }
    }
    super::run(&input[..len], crate::serve)
}

pub fn write(mut buf: &[u8]) -> Result<(), ()> {
    while !buf.is_empty() {
        // SAFETY: `buf` is valid for its length.
        let n = unsafe { libc::write(1, buf.as_ptr(), buf.len()) };
        match usize::try_from(n) {
            Ok(n @ 1..) => buf = &buf[n..],
            _ => return Err(()),
        }
    }
    Ok(())
}

pub fn exit(ok: bool) -> ! {
    // SAFETY: ends the process.
    unsafe { libc::_exit(if ok { 0 } else { 1 }) }
}

/// The top of the measured stack: a local of the caller (inlined into it).
#[inline(always)]
pub fn stack_top() -> usize {
    let here = 0u8;
    core::hint::black_box(&here as *const u8 as usize)
}

/// How far below the top the stack is painted.
pub fn stack_limit(top: usize) -> usize {
    top - 256 * 1024
}
