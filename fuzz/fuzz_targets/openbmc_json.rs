#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hw_fuzz::openbmc_json(data));
