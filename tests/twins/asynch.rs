//! The driver as it is, over `io::asynch`.

use bisync_macros::internal_noop as bisync;
use embedded_io_async as io;
use wscodec::io::asynch as twin;

/// The lock the halves of a split connection share on one executor.
type Lock<T> = embassy_sync::mutex::Mutex<embassy_sync::blocking_mutex::raw::NoopRawMutex, T>;

#[allow(clippy::duplicate_mod)] // The one driver of both twins.
#[path = "drive.rs"]
mod drive;
pub(crate) use drive::*;
