//! Configuration parsing and validation: the example is valid; each mistake
//! is reported at the right place with a plain reason.

use std::path::Path;

use super::{ConfigError, parse};

const EXAMPLE: &str = include_str!("../../config/acdd.toml");

fn error_of(text: &str) -> ConfigError {
    parse(Path::new("test.toml"), text).expect_err("configuration should be refused")
}

/// A small valid configuration; tests append to it or replace parts.
const BASE: &str = r#"[listen]
sip_udp = "127.0.0.1:5060"

[[operators]]
id = "alice"
extension = "101"

[[operators]]
id = "bob"
extension = "102"

[[queues]]
name = "support"
channels = ["phone", "chat"]
operators = ["alice", "bob"]
"#;

#[test]
fn the_example_configuration_is_valid() {
    let config = parse(Path::new("config/acdd.toml"), EXAMPLE).unwrap();
    let setup = config.engine_setup();
    assert_eq!(setup.queues.len(), 2);
    assert_eq!(setup.operators.len(), 3);
    // 3 rings of 5 seconds.
    assert_eq!(setup.queues[0].offer_timeout_ms.0[0], 15_000);
}

#[test]
fn base_is_valid() {
    parse(Path::new("t"), BASE).unwrap();
}

#[test]
fn unknown_keys_are_refused_with_their_place() {
    let e = error_of(&BASE.replace("extension = \"102\"", "extension = \"102\"\ncolour = \"blue\""));
    assert_eq!((e.line, e.column), (11, 1), "{e}");
    assert!(e.reason.contains("colour"), "{e}");
    assert!(e.to_string().starts_with("test.toml:11:1: "), "{e}");
}

#[test]
fn unknown_operator_in_a_queue() {
    let e = error_of(&BASE.replace(r#"operators = ["alice", "bob"]"#, r#"operators = ["alice", "eve"]"#));
    assert_eq!(e.line, 15);
    assert!(e.reason.contains("\"eve\", which is not defined"), "{e}");
}

#[test]
fn duplicate_ids_and_extensions() {
    let e = error_of(&BASE.replace("id = \"bob\"", "id = \"alice\""));
    assert!(e.reason.contains("operator id \"alice\" appears twice"), "{e}");
    assert_eq!(e.line, 9);
    let e = error_of(&BASE.replace("\"102\"", "\"101\""));
    assert!(e.reason.contains("extension \"101\" appears twice"), "{e}");
}

#[test]
fn a_number_routed_twice() {
    let text = format!(
        "{BASE}\n[[routes.phone]]\nnumber = \"+4930 1111\"\nqueue = \"support\"\n\n[[routes.phone]]\nnumber = \"+49301111\"\nqueue = \"support\"\n"
    );
    let e = error_of(&text);
    assert!(
        e.reason.contains("routed number") && e.reason.contains("appears twice"),
        "{e}"
    );
    assert_eq!(e.line, 22);
}

#[test]
fn route_to_a_queue_without_that_channel() {
    let text = format!("{BASE}\n[[routes.mail]]\nmailbox = \"a@example.com\"\nqueue = \"support\"\n");
    let e = error_of(&text);
    assert!(e.reason.contains("does not serve mail"), "{e}");
}

#[test]
fn overflow_cycle_between_queues() {
    let text = BASE.replace(
        "operators = [\"alice\", \"bob\"]\n",
        "operators = [\"alice\", \"bob\"]\nmissed = { action = \"queue\", queue = \"other\" }\n\n[[queues]]\nname = \"other\"\nchannels = [\"phone\"]\noperators = [\"bob\"]\nmissed = { action = \"queue\", queue = \"support\" }\n",
    );
    let e = error_of(&text);
    assert!(
        e.reason
            .contains("overflow cycle between queues: support → other → support"),
        "{e}"
    );
}

#[test]
fn zero_or_negative_timeouts() {
    for (key, value) in [
        ("offer_timeout_seconds", "0"),
        ("ring_count", "-1"),
        ("ring_interval_seconds", "0.0"),
        ("max_wait_seconds", "0"),
        ("retry_seconds", "0"),
        ("wrap_up_seconds", "-5"),
    ] {
        let e = error_of(&format!("{BASE}{key} = {value}\n"));
        assert!(e.reason.contains(key), "{key}: {e}");
        assert_eq!(e.line, 16, "{key}: {e}");
    }
}

#[test]
fn capacity_zero_for_a_served_channel() {
    let text = BASE.replace("extension = \"101\"", "extension = \"101\"\ncapacity = { chat = 0 }");
    let e = error_of(&text);
    assert!(
        e.reason.contains("chat capacity 0") && e.reason.contains("support"),
        "{e}"
    );
    assert_eq!(e.line, 7, "{e}");
    // Not serving mail: a mail capacity of 0 is fine.
    parse(
        Path::new("t"),
        &BASE.replace("extension = \"101\"", "extension = \"101\"\ncapacity = { mail = 0 }"),
    )
    .unwrap();
}

#[test]
fn missed_action_fields() {
    let e = error_of(&format!("{BASE}missed = {{ action = \"forward\" }}\n"));
    assert!(e.reason.contains("needs `to`"), "{e}");
    let e = error_of(&format!(
        "{BASE}missed = {{ action = \"queue\", queue = \"nowhere\" }}\n"
    ));
    assert!(e.reason.contains("\"nowhere\", which is not defined"), "{e}");
    let e = error_of(&format!("{BASE}missed = {{ action = \"teleport\" }}\n"));
    assert!(e.reason.contains("teleport"), "{e}");
    let e = error_of(&format!(
        "{BASE}missed = {{ action = \"forward\", to = \"sip:+4930@gw\" }}\n"
    ));
    assert!(e.reason.contains("needs [sip] outbound_gateway"), "{e}");
    let gateway = |value: &str| {
        BASE.replace(
            "sip_udp = \"127.0.0.1:5060\"\n",
            &format!("sip_udp = \"127.0.0.1:5060\"\n\n[sip]\noutbound_gateway = \"{value}\"\n"),
        )
    };
    let with_gateway = gateway("192.0.2.10:5060");
    parse(
        Path::new("t"),
        &format!("{with_gateway}missed = {{ action = \"forward\", to = \"sip:+4930@gw\" }}\n"),
    )
    .unwrap();
    let e = error_of(&gateway("gateway.example"));
    assert!(e.reason.contains("must be an IP address with a port"), "{e}");
    let caller_id = |value: &str| {
        BASE.replace(
            "sip_udp = \"127.0.0.1:5060\"\n",
            &format!("sip_udp = \"127.0.0.1:5060\"\n\n[sip]\noutbound_caller_id = \"{value}\"\n"),
        )
    };
    parse(Path::new("t"), &caller_id("+4930100100")).unwrap();
    let e = error_of(&caller_id("+49 30 100"));
    assert!(
        e.reason.contains("outbound_caller_id \"+49 30 100\" must be a number"),
        "{e}"
    );
}

#[test]
fn greeting_and_announcement_must_be_playable_wav_files_of_their_action() {
    let dir = tempfile::tempdir().unwrap();
    let good =
        crate::media::write_g711_wav(&dir.path().join("hello.wav"), crate::media::G711::Alaw, &[0; 800]).unwrap();
    let text = dir.path().join("notes.wav");
    std::fs::write(&text, "not audio").unwrap();
    let missing = dir.path().join("missing.wav");
    let with = |missed: String| format!("{BASE}missed = {{ {missed} }}\n");
    let ok = |missed: String| parse(Path::new("t"), &with(missed)).unwrap();
    let config = ok(format!(
        "action = \"voicemail\", greeting = {:?}",
        good.display().to_string()
    ));
    assert!(
        config.summary().contains("missed: voicemail after greeting"),
        "{}",
        config.summary()
    );
    let config = ok(format!(
        "action = \"hangup\", announcement = {:?}",
        good.display().to_string()
    ));
    assert!(
        config.summary().contains("missed: hang up after announcement"),
        "{}",
        config.summary()
    );
    let e = error_of(&with(format!(
        "action = \"voicemail\", greeting = {:?}",
        text.display().to_string()
    )));
    assert!(
        e.reason.contains("missed greeting cannot be played") && e.reason.contains("notes.wav"),
        "{e}"
    );
    assert!(e.reason.contains("not a WAV file"), "{e}");
    let e = error_of(&with(format!(
        "action = \"hangup\", announcement = {:?}",
        missing.display().to_string()
    )));
    assert!(
        e.reason.contains("missed announcement cannot be played") && e.reason.contains("missing.wav"),
        "{e}"
    );
    let e = error_of(&with(format!(
        "action = \"hangup\", greeting = {:?}",
        good.display().to_string()
    )));
    assert!(
        e.reason.contains("`greeting` only goes with action \"voicemail\""),
        "{e}"
    );
    let e = error_of(&with(format!(
        "action = \"voicemail\", announcement = {:?}",
        good.display().to_string()
    )));
    assert!(
        e.reason.contains("`announcement` only goes with action \"hangup\""),
        "{e}"
    );
}

#[test]
fn the_voicemail_and_recordings_folders_default_to_beside_the_database() {
    let config = parse(
        Path::new("t"),
        &format!("[storage]\nsqlite = \"/var/lib/acdd/acdd.db\"\n{BASE}"),
    )
    .unwrap();
    assert_eq!(config.storage.voicemail_dir(), Path::new("/var/lib/acdd/voicemail"));
    assert_eq!(config.storage.recordings_dir(), Path::new("/var/lib/acdd/recordings"));
    let config = parse(
        Path::new("t"),
        &format!("[storage]\nvoicemail_dir = \"/srv/voicemail\"\nrecordings_dir = \"/srv/tapes\"\n{BASE}"),
    )
    .unwrap();
    assert_eq!(config.storage.voicemail_dir(), Path::new("/srv/voicemail"));
    assert_eq!(config.storage.recordings_dir(), Path::new("/srv/tapes"));
    assert!(!config.queues[0].record_calls, "recording is off unless asked for");
}

#[test]
fn retention_is_off_unless_set_and_never_zero_days() {
    let config = parse(Path::new("t"), BASE).unwrap();
    assert!(config.storage.recordings_keep_days.is_none() && config.storage.voicemail_keep_days.is_none());
    let config = parse(
        Path::new("t"),
        &format!("[storage]\nrecordings_keep_days = 90\nvoicemail_keep_days = 30\n{BASE}"),
    )
    .unwrap();
    assert_eq!(
        config.storage.recordings_keep_days.as_ref().map(|d| *d.get_ref()),
        Some(90)
    );
    assert_eq!(
        config.storage.voicemail_keep_days.as_ref().map(|d| *d.get_ref()),
        Some(30)
    );
    let e = error_of(&format!("[storage]\nvoicemail_keep_days = 0\n{BASE}"));
    assert_eq!((e.line, e.column), (2, 23), "{e}");
    assert!(e.reason.contains("voicemail_keep_days must be at least 1"), "{e}");
}

#[test]
fn bad_values_and_syntax() {
    let e = error_of(
        &BASE
            .replace("mode", "x")
            .replace("channels = [\"phone\", \"chat\"]", "channels = [\"fax\"]"),
    );
    assert!(e.reason.contains("fax"), "{e}");
    let e = error_of("[listen\nsip_udp = 1");
    assert_eq!(e.line, 1, "{e}");
    let e = error_of(&BASE.replace("127.0.0.1:5060", "localhost"));
    assert_eq!(e.line, 2, "{e}");
    let e = error_of(&format!("{BASE}mode = \"random_walk\"\n"));
    assert!(e.reason.contains("random_walk"), "{e}");
}

#[test]
fn sip_credentials_need_a_secret() {
    let e = error_of(&BASE.replace("extension = \"101\"", "extension = \"101\"\nsip_username = \"alice\""));
    assert!(e.reason.contains("neither sip_password nor sip_ha1"), "{e}");
    let e = error_of(&BASE.replace(
        "extension = \"101\"",
        "extension = \"101\"\nsip_username = \"alice\"\nsip_ha1 = \"xyz\"",
    ));
    assert!(e.reason.contains("32 hexadecimal digits"), "{e}");
}

#[test]
fn a_waiting_announcement_needs_media_to_the_caller_an_interval_and_a_playable_file() {
    let dir = tempfile::tempdir().unwrap();
    let busy = crate::media::write_g711_wav(&dir.path().join("busy.wav"), crate::media::G711::Ulaw, &[0; 800]).unwrap();
    let announced = |hold: &str, every: i64, file: &Path| {
        BASE.replace(
            r#"operators = ["alice", "bob"]"#,
            &format!(
                "operators = [\"alice\", \"bob\"]\nhold = \"{hold}\"\nmusic_file = \"m.wav\"\n\
                 waiting_announcement = {{ file = \"{}\", every_seconds = {every} }}",
                file.display()
            ),
        )
    };
    parse(Path::new("t"), &announced("music", 20, &busy)).unwrap();
    parse(Path::new("t"), &announced("tone", 1, &busy)).unwrap();
    let e = error_of(&announced("ringback", 20, &busy));
    assert!(e.reason.contains("waiting_announcement needs hold"), "{e}");
    assert_eq!(e.line, 18, "{e}");
    let e = error_of(&announced("music", 0, &busy));
    assert!(e.reason.contains("every_seconds must be greater than zero"), "{e}");
    let e = error_of(&announced("music", 20, &dir.path().join("missing.wav")));
    assert!(e.reason.contains("waiting_announcement cannot be played"), "{e}");
}

#[test]
fn a_callback_key_is_one_key_and_needs_music() {
    let queue = |hold: &str, key: &str| {
        BASE.replace(
            r#"operators = ["alice", "bob"]"#,
            &format!(
                "operators = [\"alice\", \"bob\"]\nhold = \"{hold}\"\nmusic_file = \"m.wav\"\ncallback_key = \"{key}\""
            ),
        )
    };
    parse(Path::new("t"), &queue("music", "1")).unwrap();
    parse(Path::new("t"), &queue("music", "#")).unwrap();
    for bad in ["12", "", "x"] {
        let e = error_of(&queue("music", bad));
        assert!(e.reason.contains("callback_key must be one key"), "{bad:?}: {e}");
    }
    let e = error_of(&queue("tone", "1"));
    assert!(e.reason.contains("callback_key needs hold = \"music\""), "{e}");
}

#[test]
fn supervisors_are_operators() {
    let queue = |supervisors: &str| {
        BASE.replace(
            r#"operators = ["alice", "bob"]"#,
            &format!("operators = [\"alice\", \"bob\"]\nsupervisors = {supervisors}"),
        )
    };
    let config = parse(Path::new("t"), &queue(r#"["bob"]"#)).unwrap();
    assert_eq!(config.queues[0].supervisors[0].get_ref(), "bob");
    let e = error_of(&queue(r#"["zoe"]"#));
    assert!(
        e.reason.contains("lists supervisor \"zoe\", which is not defined"),
        "{e}"
    );
}
