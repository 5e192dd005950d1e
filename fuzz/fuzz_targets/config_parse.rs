//! Any bytes as a configuration file: parsing and validation never panic,
//! and every refusal names a line and column inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match acdd::config::parse(std::path::Path::new("fuzz.toml"), text) {
        Ok(config) => {
            let _ = config.engine_setup();
            let _ = config.summary();
        }
        Err(error) => {
            let lines = text.split('\n').count();
            assert!(error.line >= 1 && error.line <= lines.max(1), "{error}");
        }
    }
});
