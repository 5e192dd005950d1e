//! Calls answered by a real softphone, baresip, as operator alice, with
//! the real binary on loopback; the caller is SIPp with its audio at the
//! test's own UDP socket: baresip's tone reaches the caller, holding plays
//! the queue's music instead, and a queue with `record_calls` keeps a
//! stereo WAV of what the caller said and heard (served by the API).

mod common;

use std::path::Path;
use std::process::Child;
use std::time::Duration;

use common::scrape::value;
use common::sipp_calls::{
    HOLD_MUSIC_SAMPLE, HOTLINE, assert_succeeded, hold_music_byte, media_caller, metrics, pcmu_packet, start_in,
    wait_for_media_port,
};
use common::{Acdd, TestDir};

/// A trunk call (`trunk_call_media` to `desk`, which rings alice first)
/// answered by baresip as alice, bridged. Fields drop in this order: the
/// phone first, the loopback alias last.
struct BaresipCall {
    phone: common::baresip::Baresip,
    media: std::net::UdpSocket,
    caller: Child,
    /// acdd's RTP port for the caller.
    port: u16,
    acdd: Acdd,
    _dir: TestDir,
    _alias: common::baresip::LoopbackAlias,
}

impl BaresipCall {
    /// alice presses `key` (hold, resume) on baresip; acdd's log says
    /// `holds` (`holds=true`, `holds=false`) soon after.
    fn press(&self, key: &str, holds: &str) {
        let answer = self.phone.command(key);
        assert!(
            self.acdd
                .wait_for_log(&["holds or resumes", holds], Duration::from_secs(10)),
            "{key}: {answer}\n{}\n{}",
            self.phone.log(),
            self.acdd.log_text()
        );
    }
}

/// A caller (SIPp, media from the test) bridged with baresip as alice. With
/// `hold_music`, the call goes to queue "quiet" (ringback while waiting,
/// a `music_file` of `HOLD_MUSIC_SAMPLE`s for when alice holds the call),
/// else to "desk".
fn baresip_call(name: &str, hold_music: bool) -> BaresipCall {
    baresip_call_with(name, hold_music, "")
}

/// `baresip_call`, with `quiet` after queue "quiet"'s lines (more of its
/// settings, then any other tables).
fn baresip_call_with(name: &str, hold_music: bool, quiet: &str) -> BaresipCall {
    let alias = common::baresip::LoopbackAlias::ensure();
    let dir = TestDir::new(name);
    let (extra, number) = match hold_music {
        true => {
            let music = acdd::media::write_g711_wav(
                &dir.0.join("hold.wav"),
                acdd::media::G711::Ulaw,
                &[HOLD_MUSIC_SAMPLE; 8000],
            )
            .unwrap();
            let quiet = format!(
                "[[queues]]\nname = \"quiet\"\nchannels = [\"phone\"]\noperators = [\"alice\"]\n\
                 check_availability = false\nmusic_file = \"{}\"\n{quiet}\n\n[[routes.phone]]\nnumber = \"+4930777555\"\nqueue = \"quiet\"\n",
                music.display()
            );
            (format!("{HOTLINE}\n{quiet}"), "+4930777555")
        }
        false => (HOTLINE.to_string(), "+4930444444"),
    };
    let acdd = start_in(&dir, extra, true);
    let phone = common::baresip::Baresip::start(&dir.0, &acdd, "alice", 30);
    assert!(
        acdd.wait_for_log(
            &["registration changed", "alice", "contacts=1"],
            Duration::from_secs(15)
        ),
        "baresip did not register:\n{}\n{}",
        phone.log(),
        acdd.log_text()
    );
    // baresip answers by itself.
    let (media, caller) = media_caller(&dir.0, &acdd, "trunk_call_media", number);
    let port = wait_for_media_port(&dir.0, &acdd);
    assert!(acdd.wait_for_log(&["call bridged"], Duration::from_secs(15)));
    BaresipCall {
        phone,
        media,
        caller,
        port,
        acdd,
        _dir: dir,
        _alias: alias,
    }
}

#[test]
fn a_baresip_operator_answers_by_itself_and_its_audio_reaches_the_caller() {
    let call = baresip_call("tel-baresip", false);
    let (acdd, phone, media, port) = (&call.acdd, &call.phone, &call.media, call.port);
    // The caller speaks for 2 s while counting what comes back: baresip's
    // 440 Hz sine, relayed by acdd (nothing else plays to a bridged caller).
    let Listened { heard, tones, .. } = speak_and_listen(media, port, 0..100);
    assert!(
        heard >= 50 && tones >= 50,
        "baresip's audio reached the caller through acdd: {heard} PCMU packets, {tones} with a tone\n{}\n{}",
        phone.log(),
        acdd.log_text()
    );
    assert_succeeded("caller", &call.caller.wait_with_output().unwrap(), acdd);
    assert!(acdd.wait_for_log(&["caller hung up"], Duration::from_secs(15)));
}

/// What came back to the caller in `speak_and_listen`.
#[derive(Debug)]
struct Listened {
    /// PCMU packets.
    heard: u32,
    /// Those whose samples vary (a tone, not silence).
    tones: u32,
    /// Those of the hold music (`hold_music_byte`s only).
    music: u32,
}

/// Sends a PCMU packet every ~20 ms from the caller's `media` socket to
/// acdd's `port` (sequence numbers `sequences`) and counts what comes back.
fn speak_and_listen(media: &std::net::UdpSocket, port: u16, sequences: std::ops::Range<u16>) -> Listened {
    speak_and_listen_with(media, port, sequences, 0xff)
}

/// `speak_and_listen`, every packet the caller sends `fill` bytes.
fn speak_and_listen_with(
    media: &std::net::UdpSocket,
    port: u16,
    sequences: std::ops::Range<u16>,
    fill: u8,
) -> Listened {
    let (mut heard, mut tones, mut music) = (0, 0, 0);
    let music_byte = hold_music_byte();
    let mut buffer = [0u8; 2048];
    for sequence in sequences {
        media
            .send_to(&pcmu_packet(sequence, fill), ("127.0.0.1", port))
            .unwrap();
        // Listen for the rest of this packet's 20 ms (RTP keeps coming, so
        // a plain read timeout would never run out).
        let until = std::time::Instant::now() + Duration::from_millis(20);
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            media.set_read_timeout(Some(left)).unwrap();
            let Ok((n, from)) = media.recv_from(&mut buffer) else {
                break;
            };
            assert_eq!(from.port(), port, "RTP comes from acdd's port for the caller");
            if n > 12 && buffer[1] & 0x7f == 0 {
                heard += 1;
                // A sine's samples vary; silence is one repeated byte.
                let payload = &buffer[12..n];
                if payload.iter().any(|b| *b != payload[0]) {
                    tones += 1;
                }
                if payload.iter().all(|b| *b == music_byte) {
                    music += 1;
                }
            }
        }
    }
    Listened { heard, tones, music }
}

#[test]
fn a_baresip_operator_holds_the_caller_who_hears_the_queues_music_until_resumed() {
    let call = baresip_call("tel-baresip-hold", true);
    let (acdd, media, port) = (&call.acdd, &call.media, call.port);
    let before = speak_and_listen(media, port, 0..20);
    // alice presses hold: baresip re-INVITEs, acdd answers from the media
    // and plays the queue's music to the caller instead of alice's tone.
    call.press("hold", "holds=true");
    let holding = speak_and_listen(media, port, 20..45);
    call.press("resume", "holds=false");
    assert_eq!(
        acdd.log_text().matches("leg's re-INVITE answered").count(),
        2,
        "{}",
        acdd.log_text()
    );
    assert!(!acdd.log_text().contains("re-INVITE refused"), "{}", acdd.log_text());
    // Back from hold, alice's tone reaches the caller again.
    let after = speak_and_listen(media, port, 45..75);
    // A few packets of the other source may still be on their way at each switch.
    assert!(
        before.tones >= 10
            && before.music == 0
            && holding.music >= 12
            && holding.tones <= 3
            && after.tones >= 15
            && after.music <= 3,
        "before hold {before:?}, on hold {holding:?}, after resume {after:?}\n{}\n{}",
        call.phone.log(),
        acdd.log_text()
    );
    assert_eq!(value(&metrics(acdd), "acdd_holds_total", &[]), Some(1.0));
    assert_succeeded("caller", &call.caller.wait_with_output().unwrap(), acdd);
}

/// The channels, sample rate and samples (interleaved) of a PCM16 WAV file.
fn read_wav(path: &Path) -> (u16, u32, Vec<i16>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!((&bytes[..4], &bytes[8..12]), (&b"RIFF"[..], &b"WAVE"[..]), "a WAV file");
    let (mut at, mut format, mut samples) = (12, None, None);
    while at + 8 <= bytes.len() {
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        let body = &bytes[at + 8..(at + 8 + size).min(bytes.len())];
        match &bytes[at..at + 4] {
            b"fmt " => {
                let channels = u16::from_le_bytes([body[2], body[3]]);
                let rate = u32::from_le_bytes(body[4..8].try_into().unwrap());
                assert_eq!(u16::from_le_bytes([body[14], body[15]]), 16, "16-bit samples");
                format = Some((channels, rate));
            }
            b"data" => samples = Some(body.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()),
            _ => {}
        }
        at += 8 + size + size % 2;
    }
    let (channels, rate) = format.expect("a fmt chunk");
    (channels, rate, samples.expect("a data chunk"))
}

/// The sample a μ-law byte stands for.
fn ulaw_sample(byte: u8) -> i16 {
    let mut decoded = Vec::new();
    acdd::media::G711::Ulaw.decode(&[byte], &mut decoded);
    decoded[0]
}

#[test]
fn a_queue_that_records_calls_keeps_what_the_caller_said_and_heard_in_a_stereo_wav() {
    const SPEECH: u8 = 0x20;
    let call = baresip_call_with(
        "tel-record",
        true,
        "record_calls = true\n\n[admin]\ntoken = \"record-admin-token\"",
    );
    let (acdd, media, port) = (&call.acdd, &call.media, call.port);
    assert!(acdd.wait_for_log(&["recording the call"], Duration::from_secs(5)));
    // The caller speaks for 0.8 s hearing alice's tone, then alice holds
    // and the caller, silent, hears the queue's music.
    let talking = speak_and_listen_with(media, port, 0..40, SPEECH);
    call.press("hold", "holds=true");
    let holding = speak_and_listen(media, port, 40..80);
    assert!(talking.tones >= 20 && holding.music >= 20, "{talking:?} {holding:?}");
    assert_succeeded("caller", &call.caller.wait_with_output().unwrap(), acdd);
    assert!(
        acdd.wait_for_log(&["call recorded", "stored=true"], Duration::from_secs(15)),
        "{}",
        acdd.log_text()
    );
    let (channels, rate, samples) = read_wav(&call._dir.0.join("data/recordings/r1.wav"));
    assert_eq!((channels, rate), (2, 8000));
    let frames: Vec<[i16; 2]> = samples.chunks_exact(2).map(|f| [f[0], f[1]]).collect();
    // Left: the caller's 40 packets of speech (a few may fall before the
    // recording starts).
    let speech = ulaw_sample(SPEECH);
    let said = frames.iter().filter(|f| f[0] == speech).count();
    assert!((4800..=6400).contains(&said), "{said} samples of the caller's speech");
    assert!(
        frames.iter().all(|f| f[0] == speech || f[0] == 0),
        "the left channel is the caller only"
    );
    // Right, in 20 ms blocks: alice's sine (samples vary), then the music.
    let music = ulaw_sample(hold_music_byte());
    let blocks: Vec<&[[i16; 2]]> = frames.chunks_exact(160).collect();
    let is_tone = |b: &[[i16; 2]]| b.iter().any(|f| f[1] != b[0][1]);
    let is_music = |b: &[[i16; 2]]| b.iter().all(|f| f[1] == music);
    let tone_blocks = blocks.iter().filter(|b| is_tone(b)).count();
    let music_blocks = blocks.iter().filter(|b| is_music(b)).count();
    let first_music = blocks.iter().position(|b| is_music(b)).unwrap_or(0);
    let last_tone = blocks.iter().rposition(|b| is_tone(b)).unwrap_or(usize::MAX);
    assert!(
        tone_blocks >= 30 && music_blocks >= 30 && last_tone <= first_music + 2,
        "tone blocks {tone_blocks}, music blocks {music_blocks}, last tone at {last_tone}, first music at {first_music}"
    );
    // The customer's history links the file.
    let (status, card) = acdd.api("GET", "/api/v1/customers?phone=%2B4930555000", "record-admin-token", "");
    assert_eq!(status, 200, "{card}");
    assert!(card.contains("data/recordings/r1.wav"), "{card}");
    // The API serves the file as it is, to the admin only.
    let (status, head, body) = acdd.api_bytes("GET", "/api/v1/recordings/1", "record-admin-token", "");
    assert_eq!(status, 200, "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: audio/wav"), "{head}");
    let file = std::fs::read(call._dir.0.join("data/recordings/r1.wav")).unwrap();
    assert!(
        body == file,
        "the body is the file ({} bytes of {})",
        body.len(),
        file.len()
    );
    assert_eq!(acdd.api("GET", "/api/v1/recordings/1", "wrong-token", "").0, 401);
    assert_eq!(acdd.api("GET", "/api/v1/recordings/2", "record-admin-token", "").0, 404);
    assert_eq!(
        acdd.api("GET", "/api/v1/recordings/..%2Fr1", "record-admin-token", "")
            .0,
        400
    );
    assert_eq!(
        value(
            &metrics(acdd),
            "acdd_call_recordings_total",
            &[("queue", "quiet"), ("result", "recorded")]
        ),
        Some(1.0)
    );
}
