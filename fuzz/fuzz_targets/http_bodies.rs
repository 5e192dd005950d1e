//! Any bytes as the body of each API request that reads one (web form as
//! URL-encoded and JSON, status change, reply, transfer, chat webhook): a
//! clear error or a value, never a panic; accepted values keep the rules
//! (a reply is never blank, a status names presence or workday).
#![no_main]

use acdd::api::bodies;
use acdd::channels::chat::ChatMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    match kind % 6 {
        0 => {
            let _ = bodies::form_fields("application/x-www-form-urlencoded", body);
        }
        1 => {
            let _ = bodies::form_fields("application/json; charset=utf-8", body);
        }
        2 => {
            if let Ok(update) = bodies::status_update(body) {
                assert!(update.presence.is_some() || update.workday.is_some());
            }
        }
        3 => {
            if let Ok(text) = bodies::reply_text(body) {
                assert!(!text.trim().is_empty());
            }
        }
        4 => {
            let _ = bodies::transfer_to(body);
        }
        _ => {
            let _ = serde_json::from_slice::<ChatMessage>(body);
        }
    }
});
