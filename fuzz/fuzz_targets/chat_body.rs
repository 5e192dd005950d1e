//! Any bytes as a chat webhook body, and any text through the chat tracker
//! (phone numbers and e-mail addresses found in messages): never a panic.
#![no_main]

use acdd::channels::chat::ChatMessage;
use acdd::crm::identity;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<ChatMessage>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = identity::find_in_text(text, None);
        let _ = identity::find_in_text(text, "DE".parse().ok());
        let _ = identity::phone(text, None);
        let _ = identity::email(text);
    }
});
