//! The media layer over real UDP sockets on loopback: fake call legs (plain
//! tokio sockets sending RTP built with `rtp-rs`) talk through a
//! `MediaSession`. Each test uses its own port range so they run in parallel.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use acdd::media::{
    G711, LegId, MediaConfig, MediaError, MediaService, MediaSession, PlayEnd, PlaySource, Prompt, Tone, sdp,
};
use rtp_rs::{RtpPacketBuilder, RtpReader, Seq};
use tokio::net::UdpSocket;

const WAIT: Duration = Duration::from_secs(2);

fn service(first: u16, last: u16) -> MediaService {
    let ip = "127.0.0.1".parse().unwrap();
    MediaService::new(MediaConfig {
        bind: ip,
        advertise: ip,
        rtp_ports: [first, last],
    })
    .unwrap()
}

fn sdp_body(port: u16, formats: &str, rtpmaps: &[&str]) -> Vec<u8> {
    let mut body = format!(
        "v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP {formats}\r\n"
    );
    for map in rtpmaps {
        body.push_str(&format!("a=rtpmap:{map}\r\n"));
    }
    body.push_str("a=sendrecv\r\n");
    body.into_bytes()
}

fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    RtpPacketBuilder::new()
        .payload_type(pt)
        .sequence(Seq::from(seq))
        .timestamp(ts)
        .ssrc(ssrc)
        .payload(payload)
        .build()
        .unwrap()
}

async fn socket() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.unwrap()
}

fn port_of(socket: &UdpSocket) -> u16 {
    socket.local_addr().unwrap().port()
}

async fn recv(socket: &UdpSocket) -> Option<(Vec<u8>, SocketAddr)> {
    let mut buf = vec![0u8; 2048];
    match tokio::time::timeout(WAIT, socket.recv_from(&mut buf)).await {
        Ok(Ok((n, from))) => {
            buf.truncate(n);
            Some((buf, from))
        }
        _ => None,
    }
}

/// Nothing arrives within `wait`.
async fn quiet(socket: &UdpSocket, wait: Duration) -> bool {
    let mut buf = vec![0u8; 2048];
    tokio::time::timeout(wait, socket.recv_from(&mut buf)).await.is_err()
}

struct Header {
    pt: u8,
    seq: u16,
    ts: u32,
    ssrc: u32,
    marker: bool,
    payload: Vec<u8>,
}

fn header(packet: &[u8]) -> Header {
    let r = RtpReader::new(packet).expect("valid RTP");
    Header {
        pt: r.payload_type(),
        seq: u16::from(r.sequence_number()),
        ts: r.timestamp(),
        ssrc: r.ssrc(),
        marker: r.mark(),
        payload: r.payload().to_vec(),
    }
}

/// acdd's RTP address for a leg, read from the SDP it produced.
fn acdd_addr(body: &[u8]) -> SocketAddr {
    let audio = sdp::parse_audio(body).unwrap();
    SocketAddr::new(audio.addr.unwrap(), audio.port)
}

/// A caller leg that offered `formats` and got acdd's answer, and an operator
/// leg that got acdd's offer and answered with `answer_formats`.
struct Call {
    session: MediaSession,
    caller: LegId,
    operator: LegId,
    caller_socket: UdpSocket,
    operator_socket: UdpSocket,
    to_caller_leg: SocketAddr,
    to_operator_leg: SocketAddr,
    offer_to_operator: String,
}

async fn call(service: &MediaService, offer: (&str, &[&str]), answer: (&str, &[&str])) -> Call {
    let mut session = service.session();
    let caller_socket = socket().await;
    let operator_socket = socket().await;
    let caller = session.add_leg().unwrap();
    session
        .set_remote(caller, &sdp_body(port_of(&caller_socket), offer.0, offer.1))
        .unwrap();
    let operator = session.add_leg().unwrap();
    let offer_to_operator = session.local_sdp(operator).unwrap();
    session
        .set_remote(operator, &sdp_body(port_of(&operator_socket), answer.0, answer.1))
        .unwrap();
    let answer_to_caller = session.local_sdp(caller).unwrap();
    Call {
        to_caller_leg: acdd_addr(&answer_to_caller),
        to_operator_leg: acdd_addr(&offer_to_operator),
        offer_to_operator: String::from_utf8(offer_to_operator).unwrap(),
        session,
        caller,
        operator,
        caller_socket,
        operator_socket,
    }
}

#[tokio::test]
async fn bridged_legs_relay_packets_both_ways_with_payload_unchanged() {
    let service = service(42000, 42019);
    let c = call(
        &service,
        ("0 8 101", &["101 telephone-event/8000"]),
        ("0 101", &["101 telephone-event/8000"]),
    )
    .await;
    assert!(c.offer_to_operator.contains("m=audio "), "{}", c.offer_to_operator);
    c.session.bridge(c.caller, c.operator).unwrap();

    let count = 50u16;
    for (from, to, via) in [
        (&c.caller_socket, &c.operator_socket, c.to_caller_leg),
        (&c.operator_socket, &c.caller_socket, c.to_operator_leg),
    ] {
        let ssrc = u32::from(port_of(from));
        let mut seen = Vec::new();
        for i in 0..count {
            let payload: Vec<u8> = (0..160).map(|b| (b as u16 + i) as u8).collect();
            from.send_to(&rtp(0, 1000 + i, 5000 + u32::from(i) * 160, ssrc, &payload), via)
                .await
                .unwrap();
            let (packet, source) = recv(to).await.expect("relayed packet");
            // acdd sends from its own port for the receiving leg.
            assert!(source == c.to_caller_leg || source == c.to_operator_leg);
            assert_ne!(source, via);
            seen.push(header(&packet));
            assert_eq!(seen.last().unwrap().payload, payload);
        }
        assert!(seen.iter().all(|h| h.pt == 0));
        assert!(seen.iter().all(|h| h.ssrc == seen[0].ssrc));
        assert_ne!(seen[0].ssrc, ssrc, "acdd's own SSRC towards each leg");
        for pair in seen.windows(2) {
            assert_eq!(pair[1].seq, pair[0].seq.wrapping_add(1));
            assert_eq!(pair[1].ts.wrapping_sub(pair[0].ts), 160);
        }
    }
    // DTMF (telephone-event) goes through too.
    c.caller_socket
        .send_to(&rtp(101, 1050, 13000, 1, &[1, 0, 0, 160]), c.to_caller_leg)
        .await
        .unwrap();
    let dtmf = header(&recv(&c.operator_socket).await.unwrap().0);
    assert_eq!((dtmf.pt, dtmf.payload), (101, vec![1, 0, 0, 160]));

    let caller = c.session.stats(c.caller).unwrap();
    let operator = c.session.stats(c.operator).unwrap();
    assert_eq!((caller.received, caller.relayed, caller.sent), (51, 51, 50));
    assert_eq!((operator.received, operator.relayed, operator.sent), (50, 50, 51));
    assert_eq!(caller.lost + operator.lost, 0);
    assert_eq!(caller.received_bytes, 50 * 160 + 4);
    let total = c.session.totals();
    assert_eq!(total.relayed, 101);
    assert_eq!(service.pool().in_use(), 2);
    assert_eq!((service.live_legs(), service.stats().relayed), (2, 101));
    c.session.stop().await;
    assert_eq!(service.pool().in_use(), 0, "ports back in the pool after stop");
    // The service-wide counters keep what the ended session counted.
    assert_eq!(service.live_legs(), 0);
    assert_eq!(service.stats(), total);
}

#[tokio::test]
async fn sequence_gaps_are_counted_as_lost_and_foreign_packets_rejected() {
    let service = service(42020, 42029);
    let c = call(&service, ("8", &[]), ("8", &[])).await;
    c.session.bridge(c.caller, c.operator).unwrap();
    let mut relayed = Vec::new();
    for seq in [1u16, 2, 5, 6, 10] {
        c.caller_socket
            .send_to(&rtp(8, seq, u32::from(seq) * 160, 9, &[0xD5; 160]), c.to_caller_leg)
            .await
            .unwrap();
        relayed.push(header(&recv(&c.operator_socket).await.unwrap().0));
    }
    assert!(relayed.iter().all(|h| h.pt == 8));
    // The gaps reach the operator too: sequence numbers are not closed up.
    let steps: Vec<u16> = relayed.windows(2).map(|p| p[1].seq.wrapping_sub(p[0].seq)).collect();
    assert_eq!(steps, vec![1, 3, 1, 4]);
    // Not RTP, and a payload type that was not negotiated.
    c.caller_socket.send_to(b"hello", c.to_caller_leg).await.unwrap();
    c.caller_socket
        .send_to(&rtp(0, 11, 1760, 9, &[0xFF; 160]), c.to_caller_leg)
        .await
        .unwrap();
    // An RTCP receiver report on the RTCP port (RTP + 1): counted, not relayed.
    let rtcp_port = SocketAddr::new(c.to_caller_leg.ip(), c.to_caller_leg.port() + 1);
    let report = [0x80, 201, 0, 1, 0, 0, 0, 9];
    c.caller_socket.send_to(&report, rtcp_port).await.unwrap();
    assert!(quiet(&c.operator_socket, Duration::from_millis(200)).await);
    let stats = c.session.stats(c.caller).unwrap();
    assert_eq!(stats.rtcp, 1);
    assert_eq!(stats.received, 5);
    assert_eq!(stats.lost, 5, "3, 4, 7, 8, 9 missing");
    assert_eq!(stats.rejected, 2);
    c.session.stop().await;
}

#[tokio::test]
async fn media_latches_onto_where_packets_come_from() {
    let service = service(42030, 42039);
    // The SDP of the caller names a port nobody uses after latching.
    let c = call(&service, ("0", &[]), ("0", &[])).await;
    c.session.bridge(c.caller, c.operator).unwrap();
    let moved = socket().await;

    // Before the caller sends anything, acdd uses the SDP address.
    c.operator_socket
        .send_to(&rtp(0, 1, 0, 5, &[1; 160]), c.to_operator_leg)
        .await
        .unwrap();
    assert!(recv(&c.caller_socket).await.is_some());

    // The caller sends from its SDP port: latched there.
    c.caller_socket
        .send_to(&rtp(0, 99, 0, 7, &[99; 160]), c.to_caller_leg)
        .await
        .unwrap();
    assert_eq!(
        header(&recv(&c.operator_socket).await.unwrap().0).payload,
        vec![99; 160]
    );

    // Then its packets come from another port (a NAT rebinding): the first
    // two are not enough to move the stream, the third in sequence is.
    for seq in 100..103u16 {
        moved
            .send_to(&rtp(0, seq, 0, 7, &[seq as u8; 160]), c.to_caller_leg)
            .await
            .unwrap();
    }
    let (packet, _) = recv(&c.operator_socket).await.unwrap();
    assert_eq!(header(&packet).payload, vec![102; 160], "only the third is relayed");
    assert!(quiet(&c.operator_socket, Duration::from_millis(200)).await);

    c.operator_socket
        .send_to(&rtp(0, 2, 160, 5, &[3; 160]), c.to_operator_leg)
        .await
        .unwrap();
    let (packet, _) = recv(&moved).await.expect("sent to the latched port");
    assert_eq!(header(&packet).payload, vec![3; 160]);
    assert!(quiet(&c.caller_socket, Duration::from_millis(200)).await);

    // A stray packet from the old port does not take the stream back.
    c.caller_socket
        .send_to(&rtp(0, 103, 0, 7, &[4; 160]), c.to_caller_leg)
        .await
        .unwrap();
    assert!(quiet(&c.operator_socket, Duration::from_millis(200)).await);
    c.operator_socket
        .send_to(&rtp(0, 3, 320, 5, &[5; 160]), c.to_operator_leg)
        .await
        .unwrap();
    assert_eq!(header(&recv(&moved).await.unwrap().0).payload, vec![5; 160]);
    assert_eq!(c.session.stats(c.caller).unwrap().rejected, 3);
    c.session.stop().await;
}

fn tone_prompt(samples: usize) -> Prompt {
    Prompt::from_pcm((0..samples).map(|i| ((i as f64 * 0.3).sin() * 6000.0) as i16).collect())
}

#[tokio::test]
async fn hold_music_is_paced_rtp_and_the_operator_continues_the_same_stream() {
    let service = service(42040, 42049);
    let mut session = service.session();
    let caller_socket = socket().await;
    let caller = session.add_leg().unwrap();
    session
        .set_remote(caller, &sdp_body(port_of(&caller_socket), "8 0", &[]))
        .unwrap();
    let answer = String::from_utf8(session.local_sdp(caller).unwrap()).unwrap();
    assert!(
        answer.contains("m=audio ") && answer.contains(" RTP/AVP 8\r\n"),
        "{answer}"
    );
    // The music file is a 16-bit PCM WAV, as `music_file` would name.
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&music, spec).unwrap();
    for &sample in tone_prompt(1000).samples() {
        writer.write_sample(sample).unwrap();
    }
    writer.finalize().unwrap();
    let prompt = Prompt::load(&music).unwrap();
    assert_eq!(prompt.samples(), tone_prompt(1000).samples());
    let done = session.play(caller, PlaySource::Music(prompt.clone())).unwrap();

    let mut packets = Vec::new();
    let mut arrivals = Vec::new();
    for _ in 0..26 {
        packets.push(header(&recv(&caller_socket).await.expect("music").0));
        arrivals.push(Instant::now());
    }
    // 25 intervals of 20 ms after the first packet.
    let span = arrivals[25] - arrivals[0];
    assert!(
        span >= Duration::from_millis(440) && span <= Duration::from_millis(800),
        "26 packets took {span:?}"
    );
    let mut expected = Vec::new();
    let looped: Vec<i16> = prompt.samples().iter().cycle().take(26 * 160).copied().collect();
    G711::Alaw.encode(&looped, &mut expected);
    for (i, h) in packets.iter().enumerate() {
        assert_eq!(h.pt, 8);
        assert_eq!(h.payload, expected[i * 160..(i + 1) * 160], "packet {i}");
        assert_eq!(h.ssrc, packets[0].ssrc);
    }
    for pair in packets.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq.wrapping_add(1));
        assert_eq!(pair[1].ts.wrapping_sub(pair[0].ts), 160);
    }

    // The operator answers: the caller's stream goes on.
    let operator_socket = socket().await;
    let operator = session.add_leg().unwrap();
    let offer = session.local_sdp(operator).unwrap();
    let offer_text = String::from_utf8(offer.clone()).unwrap();
    assert!(
        offer_text.contains(" RTP/AVP 8 101\r\n"),
        "G.711 fixed by the caller: {offer_text}"
    );
    session
        .set_remote(operator, &sdp_body(port_of(&operator_socket), "8", &[]))
        .unwrap();
    session.bridge(caller, operator).unwrap();
    assert_eq!(done.await.unwrap(), PlayEnd::Replaced);
    // Drain music sent before the bridge took effect.
    let last_music = {
        let mut last = packets.last().unwrap().seq;
        while let Ok(Ok((n, _))) =
            tokio::time::timeout(Duration::from_millis(50), caller_socket.recv_from(&mut [0u8; 2048])).await
        {
            assert!(n > 12);
            last = last.wrapping_add(1);
        }
        last
    };
    let to_operator_leg = acdd_addr(&offer);
    let mut relayed = Vec::new();
    for i in 0..10u16 {
        operator_socket
            .send_to(
                &rtp(8, 30000 + i, 777_000 + u32::from(i) * 160, 0xABCD, &[i as u8; 160]),
                to_operator_leg,
            )
            .await
            .unwrap();
        relayed.push(header(&recv(&caller_socket).await.expect("operator audio").0));
    }
    assert!(
        relayed.iter().all(|h| h.ssrc == packets[0].ssrc),
        "same SSRC as the music"
    );
    assert_eq!(relayed[0].seq, last_music.wrapping_add(1), "sequence continues");
    assert!(relayed[0].marker, "marker on the new talkspurt");
    for pair in relayed.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq.wrapping_add(1));
        assert_eq!(pair[1].ts.wrapping_sub(pair[0].ts), 160);
        assert!(!pair[1].marker);
    }
    assert_eq!(relayed[9].payload, vec![9u8; 160]);
    let stats = session.stats(caller).unwrap();
    assert!(stats.played >= 26 && stats.sent == stats.played + 10, "{stats:?}");
    session.stop().await;
}

#[tokio::test]
async fn an_announcement_plays_once_then_reports_finished() {
    let service = service(42050, 42059);
    let mut session = service.session();
    let caller_socket = socket().await;
    let caller = session.add_leg().unwrap();
    session
        .set_remote(caller, &sdp_body(port_of(&caller_socket), "0", &[]))
        .unwrap();
    session.local_sdp(caller).unwrap();
    // 0.1 s: 5 packets.
    let done = session
        .play(caller, PlaySource::Announcement(tone_prompt(800)))
        .unwrap();
    assert_eq!(
        tokio::time::timeout(WAIT, done).await.unwrap().unwrap(),
        PlayEnd::Finished
    );
    let mut count = 0;
    while recv_quick(&caller_socket).await {
        count += 1;
    }
    assert_eq!(count, 5);
    // Then a ringback tone: loops until replaced.
    let done = session.play(caller, PlaySource::Ringback(Tone::europe())).unwrap();
    let first = header(&recv(&caller_socket).await.unwrap().0);
    assert_eq!(first.pt, 0);
    session.silence(caller).unwrap();
    assert_eq!(done.await.unwrap(), PlayEnd::Replaced);
    session.stop().await;
}

async fn recv_quick(socket: &UdpSocket) -> bool {
    !quiet(socket, Duration::from_millis(150)).await
}

#[tokio::test]
async fn voicemail_records_the_caller_up_to_the_maximum() {
    let service = service(42060, 42069);
    let dir = tempfile::tempdir().unwrap();
    let mut session = service.session();
    let caller_socket = socket().await;
    let caller = session.add_leg().unwrap();
    session
        .set_remote(caller, &sdp_body(port_of(&caller_socket), "0", &[]))
        .unwrap();
    let to_acdd = acdd_addr(&session.local_sdp(caller).unwrap());
    let path = dir.path().join("voicemail.wav");
    let done = session.record(caller, &path, Duration::from_millis(200)).unwrap();
    let speech = tone_prompt(20 * 160);
    let mut sent = Vec::new();
    G711::Ulaw.encode(speech.samples(), &mut sent);
    for i in 0..20u16 {
        let payload = &sent[usize::from(i) * 160..usize::from(i + 1) * 160];
        caller_socket
            .send_to(&rtp(0, i, u32::from(i) * 160, 3, payload), to_acdd)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let recording = tokio::time::timeout(WAIT, done).await.unwrap().unwrap().unwrap();
    assert_eq!(recording.path, path);
    assert_eq!(recording.duration, Duration::from_millis(200));
    let mut reader = hound::WavReader::open(&path).unwrap();
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    let mut expected = Vec::new();
    G711::Ulaw.decode(&sent[..1600], &mut expected);
    assert_eq!(samples, expected);

    // Nobody speaks: the wall clock ends the recording.
    let silent = dir.path().join("silent.wav");
    let started = Instant::now();
    let done = session.record(caller, &silent, Duration::from_millis(150)).unwrap();
    let recording = tokio::time::timeout(WAIT, done).await.unwrap().unwrap().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(140));
    assert_eq!(recording.duration, Duration::ZERO);
    assert_eq!(hound::WavReader::open(&silent).unwrap().len(), 0);
    session.stop().await;
}

#[tokio::test]
async fn codecs_pass_through_when_both_legs_agree_and_payload_numbers_are_translated() {
    let service = service(42070, 42079);
    // The caller offers G.722 first; the operator takes it and numbers
    // telephone-event 100 where the caller used 101.
    let c = call(
        &service,
        ("9 0 101", &["101 telephone-event/8000"]),
        ("9 100", &["100 telephone-event/8000"]),
    )
    .await;
    assert!(
        c.offer_to_operator.contains(" RTP/AVP 9 0 101\r\n"),
        "{}",
        c.offer_to_operator
    );
    assert_eq!(c.session.codec().unwrap().name, "G722");
    let negotiated = c.session.negotiated(c.caller).unwrap();
    assert_eq!((negotiated.codec.pt, negotiated.dtmf.as_ref().unwrap().pt), (9, 101));
    c.session.bridge(c.caller, c.operator).unwrap();
    c.caller_socket
        .send_to(&rtp(101, 1, 0, 1, &[5, 0, 0, 80]), c.to_caller_leg)
        .await
        .unwrap();
    let dtmf = header(&recv(&c.operator_socket).await.unwrap().0);
    assert_eq!((dtmf.pt, dtmf.payload), (100, vec![5, 0, 0, 80]));
    c.operator_socket
        .send_to(&rtp(9, 1, 0, 2, &[0x42; 160]), c.to_operator_leg)
        .await
        .unwrap();
    let audio = header(&recv(&c.caller_socket).await.unwrap().0);
    assert_eq!((audio.pt, audio.payload), (9, vec![0x42; 160]));
    // acdd cannot play G.722.
    let err = c
        .session
        .play(c.caller, PlaySource::Ringback(Tone::europe()))
        .unwrap_err();
    assert!(matches!(err, MediaError::NotG711 { .. }), "{err}");
    c.session.stop().await;
}

#[tokio::test]
async fn ports_run_out_cleanly_and_come_back_when_legs_end() {
    let service = service(42080, 42083);
    let mut session = service.session();
    let a = session.add_leg().unwrap();
    let _b = session.add_leg().unwrap();
    let err = session.add_leg().unwrap_err();
    assert!(matches!(err, MediaError::PortsExhausted { .. }), "{err}");
    assert_eq!(err.sip_status(), 503);
    session.remove_leg(a).await.unwrap();
    assert_eq!(service.pool().in_use(), 1);
    let c = session.add_leg().unwrap();
    assert_eq!(session.local_port(c).unwrap() % 2, 0);
    // A session dropped without stop() still frees its ports.
    drop(session);
    let deadline = Instant::now() + WAIT;
    while service.pool().in_use() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(service.pool().in_use(), 0);
}

#[tokio::test]
async fn an_offer_without_a_usable_codec_is_refused_for_a_488() {
    let service = service(42084, 42089);
    let mut session = service.session();
    let caller = session.add_leg().unwrap();
    session.set_remote(caller, &sdp_body(4000, "3", &[])).unwrap();
    let err = session.local_sdp(caller).unwrap_err();
    assert_eq!(err.sip_status(), 488, "{err}");
    let err = session
        .set_remote(caller, b"v=0\r\nm=video 1 RTP/AVP 31\r\n")
        .unwrap_err();
    assert_eq!(err.sip_status(), 488, "{err}");
    session.stop().await;
}

#[tokio::test]
async fn relay_works_over_ipv6_loopback() {
    let ip = "::1".parse().unwrap();
    let service = MediaService::new(MediaConfig {
        bind: ip,
        advertise: ip,
        rtp_ports: [42090, 42093],
    })
    .unwrap();
    let mut session = service.session();
    let v6 = |port: u16| {
        format!("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n")
            .into_bytes()
    };
    let (a_socket, b_socket) = (
        UdpSocket::bind("[::1]:0").await.unwrap(),
        UdpSocket::bind("[::1]:0").await.unwrap(),
    );
    let a = session.add_leg().unwrap();
    session.set_remote(a, &v6(port_of(&a_socket))).unwrap();
    let answer = String::from_utf8(session.local_sdp(a).unwrap()).unwrap();
    assert!(answer.contains("c=IN IP6 ::1\r\n"), "{answer}");
    let b = session.add_leg().unwrap();
    let offer = session.local_sdp(b).unwrap();
    session.set_remote(b, &v6(port_of(&b_socket))).unwrap();
    session.bridge(a, b).unwrap();
    a_socket
        .send_to(&rtp(0, 1, 0, 1, &[7; 160]), acdd_addr(answer.as_bytes()))
        .await
        .unwrap();
    assert_eq!(header(&recv(&b_socket).await.unwrap().0).payload, vec![7; 160]);
    b_socket
        .send_to(&rtp(0, 1, 0, 2, &[8; 160]), acdd_addr(&offer))
        .await
        .unwrap();
    assert_eq!(header(&recv(&a_socket).await.unwrap().0).payload, vec![8; 160]);
    session.stop().await;
}

#[tokio::test]
async fn sdp_versions_repeat_until_a_new_offer_is_answered() {
    let service = service(42094, 42099);
    let mut session = service.session();
    let caller = session.add_leg().unwrap();
    session.set_remote(caller, &sdp_body(4000, "0 8", &[])).unwrap();
    let first = String::from_utf8(session.local_sdp(caller).unwrap()).unwrap();
    // Asked again (183 then 200 OK): the same description, same version.
    assert_eq!(String::from_utf8(session.local_sdp(caller).unwrap()).unwrap(), first);
    assert!(first.contains(" 1 IN IP4 127.0.0.1\r\n"), "{first}");
    assert!(!session.holds(caller), "a sendrecv peer does not hold");
    // A re-INVITE (hold: sendonly) gets a new version and the mirrored direction.
    let hold = String::from_utf8(sdp_body(4000, "0", &[]))
        .unwrap()
        .replace("a=sendrecv", "a=sendonly");
    session.set_remote(caller, hold.as_bytes()).unwrap();
    let second = String::from_utf8(session.local_sdp(caller).unwrap()).unwrap();
    assert!(second.contains(" 2 IN IP4 127.0.0.1\r\n"), "{second}");
    assert!(second.contains("a=recvonly"), "{second}");
    assert!(session.holds(caller), "a sendonly peer holds the call");
    // A refresh offering the same again: the same answer, the same version.
    session.set_remote(caller, hold.as_bytes()).unwrap();
    let refreshed = String::from_utf8(session.local_sdp(caller).unwrap()).unwrap();
    assert_eq!(refreshed, second, "an unchanged answer keeps its version");
    // The call's codec is PCMU now: a re-offer without it is refused at once.
    let err = session.set_remote(caller, &sdp_body(4000, "8", &[])).unwrap_err();
    assert_eq!(err.sip_status(), 488, "{err}");
    // An operator leg is offered only PCMU (and telephone-event).
    let operator = session.add_leg().unwrap();
    let offer = String::from_utf8(session.local_sdp(operator).unwrap()).unwrap();
    assert!(offer.contains(" RTP/AVP 0 101\r\n"), "{offer}");
    assert_eq!(
        session.local_sdp(operator).unwrap(),
        offer.as_bytes(),
        "repeated until answered"
    );
    session.stop().await;
}

#[tokio::test]
async fn a_leg_on_hold_hears_nothing_then_resumes_the_same_stream() {
    let service = service(42110, 42119);
    let mut session = service.session();
    let caller_socket = socket().await;
    let port = port_of(&caller_socket);
    let caller = session.add_leg().unwrap();
    session.set_remote(caller, &sdp_body(port, "0", &[])).unwrap();
    let to_acdd = acdd_addr(&session.local_sdp(caller).unwrap());
    assert_eq!(session.silent_for(caller), None, "nothing received yet");
    let _done = session.play(caller, PlaySource::Ringback(Tone::europe())).unwrap();
    let first = header(&recv(&caller_socket).await.unwrap().0);
    let ssrc = first.ssrc;

    // The caller puts acdd on hold: a re-INVITE with a=sendonly.
    let hold = String::from_utf8(sdp_body(port, "0", &[]))
        .unwrap()
        .replace("a=sendrecv", "a=sendonly");
    session.set_remote(caller, hold.as_bytes()).unwrap();
    session.local_sdp(caller).unwrap();
    let mut last = first;
    let mut buf = [0u8; 2048];
    while let Ok(Ok((n, _))) = tokio::time::timeout(Duration::from_millis(60), caller_socket.recv_from(&mut buf)).await
    {
        last = header(&buf[..n]);
    }
    assert!(
        quiet(&caller_socket, Duration::from_millis(300)).await,
        "nothing sent on hold"
    );

    // The caller's own packets still count (a media timeout would see them).
    caller_socket
        .send_to(&rtp(0, 1, 0, 5, &[0xFF; 160]), to_acdd)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let silent = session.silent_for(caller).expect("a packet arrived");
    assert!(silent < Duration::from_millis(500), "{silent:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(session.silent_for(caller).unwrap() >= silent + Duration::from_millis(200));

    // Off hold: the tone comes back in the same stream, without a gap.
    session.set_remote(caller, &sdp_body(port, "0", &[])).unwrap();
    session.local_sdp(caller).unwrap();
    let resumed = header(&recv(&caller_socket).await.unwrap().0);
    assert_eq!(resumed.ssrc, ssrc);
    assert_eq!(resumed.seq, last.seq.wrapping_add(1));
    assert!(resumed.marker);
    // The timestamp kept time over the 500+ ms on hold.
    assert!(
        resumed.ts.wrapping_sub(last.ts) >= 8 * 500,
        "{}",
        resumed.ts.wrapping_sub(last.ts)
    );
    session.stop().await;
}

#[tokio::test]
async fn keys_a_caller_presses_are_reported_once_each_while_they_still_reach_the_operator() {
    let service = service(42120, 42129);
    let call = call(
        &service,
        ("0 101", &["101 telephone-event/8000"]),
        ("0 101", &["101 telephone-event/8000"]),
    )
    .await;
    let mut pressed = call.session.watch_keys(call.caller).unwrap();
    call.session.bridge(call.caller, call.operator).unwrap();
    // '1' (three packets of one event, the last two ending it), then '#'.
    let packets = [
        (1, 800, [1u8, 10, 0, 160]),
        (2, 800, [1, 0x8a, 1, 64]),
        (3, 800, [1, 0x8a, 1, 64]),
        (4, 1600, [11, 10, 0, 160]),
    ];
    for (seq, ts, payload) in packets {
        call.caller_socket
            .send_to(&rtp(101, seq, ts, 7, &payload), call.to_caller_leg)
            .await
            .unwrap();
    }
    let mut keys = String::new();
    while keys.len() < 2 {
        match tokio::time::timeout(WAIT, pressed.recv()).await {
            Ok(Some(key)) => keys.push(key),
            _ => break,
        }
    }
    assert_eq!(keys, "1#");
    // The events went on to the operator too (DTMF is relayed as before).
    let (packet, _) = recv(&call.operator_socket).await.expect("relayed telephone-event");
    assert_eq!(header(&packet).payload[0], 1);
    call.session.stop().await;
}

/// Every 20 ms for `frames` frames, each of `legs` (a peer's socket,
/// acdd's address for its leg, its constant sample) sends a frame of its
/// sample; returns, per leg, the decoded payloads it received meanwhile.
async fn talk(legs: &[(&UdpSocket, SocketAddr, i16)], first: u16, frames: u16) -> Vec<Vec<Vec<i16>>> {
    let mut heard = vec![Vec::new(); legs.len()];
    let mut buf = vec![0u8; 2048];
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for n in first..first + frames {
        tick.tick().await;
        for (i, (socket, to, sample)) in legs.iter().enumerate() {
            let mut payload = Vec::new();
            G711::Ulaw.encode(&[*sample; 160], &mut payload);
            socket
                .send_to(&rtp(0, n, u32::from(n) * 160, 10 + i as u32, &payload), to)
                .await
                .unwrap();
        }
        for (i, (socket, _, _)) in legs.iter().enumerate() {
            while let Ok((len, _)) = socket.try_recv_from(&mut buf) {
                let mut pcm = Vec::new();
                G711::Ulaw.decode(&header(&buf[..len]).payload, &mut pcm);
                heard[i].push(pcm);
            }
        }
    }
    heard
}

/// What a leg hears of a mix of legs sending `samples`: each decoded
/// from G.711, added up, then through G.711 again.
fn mixed(samples: &[i16]) -> i16 {
    let through = |sample: i16| {
        let (mut bytes, mut pcm) = (Vec::new(), Vec::new());
        G711::Ulaw.encode(&[sample], &mut bytes);
        G711::Ulaw.decode(&bytes, &mut pcm);
        pcm[0]
    };
    through(samples.iter().map(|s| through(*s)).sum())
}

/// How many of the frames are all `sample`.
fn frames_of(frames: &[Vec<i16>], sample: i16) -> usize {
    frames
        .iter()
        .filter(|f| f.len() == 160 && f.iter().all(|s| *s == sample))
        .count()
}

#[tokio::test]
async fn a_third_leg_hears_a_mix_and_whispering_and_joining_mix_it_into_the_others() {
    let service = service(42140, 42149);
    let mut c = call(&service, ("0", &[]), ("0", &[])).await;
    c.session.bridge(c.caller, c.operator).unwrap();
    let supervisor_socket = socket().await;
    let supervisor = c.session.add_leg().unwrap();
    let to_supervisor_leg = acdd_addr(&c.session.local_sdp(supervisor).unwrap());
    c.session
        .set_remote(supervisor, &sdp_body(port_of(&supervisor_socket), "0", &[]))
        .unwrap();
    let (said, answered, whispered) = (1000, -3000, 500);
    let legs = [
        (&c.caller_socket, c.to_caller_leg, said),
        (&c.operator_socket, c.to_operator_leg, answered),
        (&supervisor_socket, to_supervisor_leg, whispered),
    ];
    let plain = |sample: i16| mixed(&[sample]);

    // Listening: the supervisor hears both; the two hear each other only.
    c.session.mix(supervisor, &[c.caller, c.operator]).unwrap();
    let heard = talk(&legs, 0, 25).await;
    assert!(
        frames_of(&heard[2], mixed(&[said, answered])) >= 18,
        "{:?}",
        heard[2].len()
    );
    assert!(frames_of(&heard[0], plain(answered)) >= 20);
    assert!(frames_of(&heard[1], plain(said)) >= 20);

    // Whispering: the operator hears the caller and the supervisor.
    c.session.mix(c.operator, &[c.caller, supervisor]).unwrap();
    let heard = talk(&legs, 25, 25).await;
    assert!(frames_of(&heard[1], mixed(&[said, whispered])) >= 18);
    assert!(
        frames_of(&heard[0], plain(answered)) >= 20,
        "the caller hears no whisper"
    );
    assert!(frames_of(&heard[2], mixed(&[said, answered])) >= 20);

    // Joining: the caller too hears the operator and the supervisor.
    c.session.mix(c.caller, &[c.operator, supervisor]).unwrap();
    let heard = talk(&legs, 50, 25).await;
    assert!(frames_of(&heard[0], mixed(&[answered, whispered])) >= 18);
    assert!(frames_of(&heard[1], mixed(&[said, whispered])) >= 20);

    // The supervisor leaves: the two are bridged again, sample for sample.
    c.session.remove_leg(supervisor).await.unwrap();
    c.session.bridge(c.caller, c.operator).unwrap();
    let heard = talk(&legs[..2], 75, 25).await;
    assert!(frames_of(&heard[0], plain(answered)) >= 20);
    assert!(frames_of(&heard[1], plain(said)) >= 20);
    c.session.stop().await;
}
