//! The driver made blocking, over `io::blocking`.

use bisync_macros::internal_strip_async as bisync;
use embedded_io as io;
use wscodec::io::blocking as twin;

/// The lock the halves of a split connection share on a host.
type Lock<T> = std::sync::Mutex<T>;

#[allow(clippy::duplicate_mod)] // The one driver of both twins.
#[path = "drive.rs"]
mod drive;
pub(crate) use drive::*;
