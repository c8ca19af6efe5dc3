#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hw_fuzz::driver_info(data));
