//! Fuzz target `checkpoint`: see [`suomifi_ops_fuzz::checkpoint`] for what it feeds and what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| suomifi_ops_fuzz::checkpoint(data));
