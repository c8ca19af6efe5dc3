#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hw_fuzz::ipmi_pre_session(data));
