//! Benchmarks live in the benchmarks issue.
