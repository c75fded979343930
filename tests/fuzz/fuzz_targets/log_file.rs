#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tracklab_fuzz::log_file(data));
