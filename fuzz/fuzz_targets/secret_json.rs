//! Fuzz target `secret_json`: see [`suomifi_ops_fuzz::secret_json`] for what it feeds and what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| suomifi_ops_fuzz::secret_json(data));
