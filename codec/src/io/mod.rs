//! Adapters over `embedded-io` streams.
