//! SDP offer/answer for audio (RFC 4566, RFC 3264), as pure functions.
//!
//! Owns: reading a peer's audio description (address, port, payload formats,
//! direction), choosing codecs (G.711 when acdd must play or record; any codec
//! both legs share when it only relays), and writing acdd's own description
//! with `c=`/`m=` pointing at acdd's address and allocated port. It does no
//! I/O and keeps no session state; `session.rs` decides which function fits.

use std::net::IpAddr;

use sdp_types::{Attribute, Connection, Media, Origin, Session};

use super::MediaError;
use super::codec::Format;

/// Media direction (`a=sendrecv` and friends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    fn parse(name: &str) -> Option<Direction> {
        match name.to_ascii_lowercase().as_str() {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// What an answer says to an offer with this direction.
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }
}

/// An `m=` line acdd does not use; an answer must reject it with port 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherMedia {
    pub media: String,
    pub proto: String,
    pub fmt: String,
}

/// The audio stream a peer described.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioDescription {
    /// Where the peer wants RTP; `None` for `0.0.0.0` (old-style hold) —
    /// acdd then sends only after latching onto the peer's packets.
    pub addr: Option<IpAddr>,
    pub port: u16,
    /// In the peer's order of preference, with the peer's payload numbers.
    pub formats: Vec<Format>,
    pub direction: Direction,
    pub ptime: Option<u32>,
    /// Every `m=` line in order; `None` marks the audio line acdd uses.
    pub lines: Vec<Option<OtherMedia>>,
}

impl AudioDescription {
    pub fn telephone_event(&self, clock_rate: u32) -> Option<&Format> {
        self.formats
            .iter()
            .find(|f| f.is_telephone_event() && f.clock_rate == clock_rate)
    }

    /// The first format that is not telephone-event or comfort noise.
    pub(crate) fn first_codec(&self) -> Option<&Format> {
        self.formats.iter().find(|f| is_codec(f))
    }
}

fn is_codec(format: &Format) -> bool {
    !format.is_telephone_event() && !format.name.eq_ignore_ascii_case("CN")
}

/// The codec (and DTMF events) agreed on one leg, with that leg's numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub codec: Format,
    pub dtmf: Option<Format>,
}

impl Negotiated {
    pub fn formats(&self) -> Vec<Format> {
        let mut formats = vec![self.codec.clone()];
        formats.extend(self.dtmf.clone());
        formats
    }
}

/// Reads the first usable audio stream of an SDP body.
pub fn parse_audio(body: &[u8]) -> Result<AudioDescription, MediaError> {
    let session = Session::parse(body).map_err(|e| MediaError::SdpParse(e.to_string()))?;
    let session_direction = direction_of(&session.attributes);
    let mut lines = Vec::new();
    let mut chosen = None;
    let mut why_not = "no m=audio line".to_string();
    for media in &session.medias {
        let other = || {
            Some(OtherMedia {
                media: media.media.clone(),
                proto: media.proto.clone(),
                fmt: media.fmt.clone(),
            })
        };
        if chosen.is_some() || !media.media.eq_ignore_ascii_case("audio") {
            lines.push(other());
            continue;
        }
        match read_audio(&session, media, session_direction) {
            Ok(audio) => {
                chosen = Some(audio);
                lines.push(None);
            }
            Err(reason) => {
                why_not = reason;
                lines.push(other());
            }
        }
    }
    let mut audio = chosen.ok_or(MediaError::NoAudio(why_not))?;
    audio.lines = lines;
    Ok(audio)
}

fn direction_of(attributes: &[Attribute]) -> Option<Direction> {
    attributes
        .iter()
        .filter(|a| a.value.is_none())
        .find_map(|a| Direction::parse(&a.attribute))
}

fn read_audio(
    session: &Session,
    media: &Media,
    session_direction: Option<Direction>,
) -> Result<AudioDescription, String> {
    if media.port == 0 {
        return Err("the audio stream is disabled (port 0)".into());
    }
    if !media.proto.eq_ignore_ascii_case("RTP/AVP") {
        return Err(format!("transport {} is not plain RTP/AVP", media.proto));
    }
    let connection = media
        .connections
        .first()
        .or(session.connection.as_ref())
        .ok_or("no c= line for the audio stream")?;
    let ip: IpAddr = connection.try_address().map_err(|e| format!("c= line: {e}"))?.ip;
    if ip.is_multicast() {
        return Err(format!("c= address {ip} is multicast"));
    }
    let addr = (!ip.is_unspecified()).then_some(ip);
    let mut formats = Vec::new();
    for number in media.fmt.split_ascii_whitespace() {
        let Ok(pt) = number.parse::<u8>() else {
            continue;
        };
        if pt > 127 {
            continue;
        }
        if let Some(mut format) = rtpmap(media, pt).or_else(|| Format::from_static(pt)) {
            format.fmtp = fmtp(media, pt);
            formats.push(format);
        }
    }
    if !formats.iter().any(is_codec) {
        return Err(format!("no known audio codec among payload types \"{}\"", media.fmt));
    }
    let ptime = media
        .get_first_attribute_value("ptime")
        .flatten()
        .and_then(|v| v.trim().parse().ok());
    Ok(AudioDescription {
        addr,
        port: media.port,
        formats,
        direction: direction_of(&media.attributes)
            .or(session_direction)
            .unwrap_or(Direction::SendRecv),
        ptime,
        lines: Vec::new(),
    })
}

fn rtpmap(media: &Media, pt: u8) -> Option<Format> {
    media.attributes_typed::<sdp_types::RtpMap>().flatten().find_map(|map| {
        (map.payload_type == pt).then(|| Format {
            pt,
            name: map.encoding_name.clone(),
            clock_rate: map.clock_rate,
            channels: map.encoding_params.clone(),
            fmtp: None,
        })
    })
}

fn fmtp(media: &Media, pt: u8) -> Option<String> {
    media.get_attribute_values("fmtp").flatten().find_map(|value| {
        let (number, params) = value.split_once(' ')?;
        (number.trim().parse::<u8>().ok()? == pt).then(|| params.trim().to_string())
    })
}

/// Answer to an offer. With `fixed` (the codec the call already uses on its
/// other leg, so relayed packets need no transcoding) that codec must be
/// offered; without it the offerer's first G.711 law wins. telephone-event at
/// the codec's clock rate is kept when offered.
pub fn answer_offer(offer: &AudioDescription, fixed: Option<&Format>) -> Result<Negotiated, MediaError> {
    let codec = match fixed {
        Some(fixed) => offer.formats.iter().find(|f| f.same_codec(fixed)).ok_or_else(|| {
            MediaError::NoCommonCodec(format!(
                "the call uses {}, the offer has {}",
                fixed.describe(),
                list(&offer.formats)
            ))
        })?,
        None => offer.formats.iter().find(|f| f.g711().is_some()).ok_or_else(|| {
            MediaError::NoCommonCodec(format!("PCMU or PCMA needed, the offer has {}", list(&offer.formats)))
        })?,
    };
    Ok(Negotiated {
        codec: codec.clone(),
        dtmf: offer.telephone_event(codec.clock_rate).cloned(),
    })
}

/// Reads an answer to acdd's offer: the answerer's first codec that acdd
/// offered, with the answerer's payload numbers.
pub fn accept_answer(offered: &[Format], answer: &AudioDescription) -> Result<Negotiated, MediaError> {
    let codec = answer
        .formats
        .iter()
        .filter(|f| is_codec(f))
        .find(|f| offered.iter().any(|o| o.same_codec(f)))
        .ok_or_else(|| {
            MediaError::NoCommonCodec(format!(
                "offered {}, the answer has {}",
                list(offered),
                answer
                    .first_codec()
                    .map_or("nothing usable".to_string(), |_| list(&answer.formats))
            ))
        })?;
    let dtmf = answer
        .telephone_event(codec.clock_rate)
        .filter(|f| offered.iter().any(|o| o.same_codec(f)))
        .cloned();
    Ok(Negotiated {
        codec: codec.clone(),
        dtmf,
    })
}

fn list(formats: &[Format]) -> String {
    let names: Vec<String> = formats.iter().map(Format::describe).collect();
    if names.is_empty() {
        "no formats".into()
    } else {
        names.join(", ")
    }
}

/// acdd's side of one leg, to be written as SDP.
#[derive(Clone, Debug)]
pub struct LocalDescription<'a> {
    pub session_id: u64,
    pub version: u64,
    pub addr: IpAddr,
    pub port: u16,
    pub formats: &'a [Format],
    pub direction: Direction,
    /// The offer's `m=` lines when answering (the others are rejected with
    /// port 0 in the same order); empty when offering.
    pub lines: &'a [Option<OtherMedia>],
}

/// Writes acdd's SDP: one audio stream at acdd's address and port.
pub fn build(local: &LocalDescription<'_>) -> Vec<u8> {
    let mut session = Session::new(
        Origin::with_ip_addr(local.session_id, local.version, local.addr),
        "acdd",
    );
    session.origin.set_username("acdd");
    session.connection = Some(Connection::from_ip_addr(local.addr));
    let numbers: Vec<String> = local.formats.iter().map(|f| f.pt.to_string()).collect();
    let mut audio = Media::new(
        sdp_types::MediaType::Audio,
        local.port,
        sdp_types::TransportProto::RtpAvp,
        numbers.join(" "),
    );
    for format in local.formats {
        let mut map = sdp_types::RtpMap::new(format.pt, &format.name, format.clock_rate);
        if let Some(channels) = &format.channels {
            map.set_encoding_params(channels);
        }
        audio.add_attribute(map);
        if let Some(params) = &format.fmtp {
            audio.add_attribute_with_value("fmtp", format!("{} {}", format.pt, params));
        }
    }
    audio.add_attribute_with_value("ptime", 20);
    audio.add_attribute_from_str(local.direction.as_str());
    if local.lines.is_empty() {
        session.medias.push(audio);
    } else {
        let mut audio = Some(audio);
        for line in local.lines {
            match line {
                None => session.medias.extend(audio.take()),
                Some(other) => session.medias.push(Media {
                    media: other.media.clone(),
                    port: 0,
                    num_ports: None,
                    proto: other.proto.clone(),
                    fmt: other.fmt.clone(),
                    media_title: None,
                    connections: Vec::new(),
                    bandwidths: Vec::new(),
                    key: None,
                    attributes: Vec::new(),
                }),
            }
        }
    }
    let mut out = Vec::new();
    session.write(&mut out).expect("writing to a Vec cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::codec::G711;

    const OFFER: &str = "v=0\r\n\
o=- 1 1 IN IP4 192.0.2.10\r\n\
s=-\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 40000 RTP/AVP 8 0 101\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

    #[test]
    fn an_offer_is_read_with_static_and_dynamic_formats() {
        let audio = parse_audio(OFFER.as_bytes()).unwrap();
        assert_eq!(audio.addr, Some("192.0.2.10".parse().unwrap()));
        assert_eq!(audio.port, 40000);
        let names: Vec<_> = audio.formats.iter().map(|f| (f.pt, f.name.as_str())).collect();
        assert_eq!(names, vec![(8, "PCMA"), (0, "PCMU"), (101, "telephone-event")]);
        assert_eq!(audio.formats[2].fmtp.as_deref(), Some("0-15"));
        assert_eq!(audio.direction, Direction::SendRecv);
        assert_eq!(audio.ptime, Some(20));
    }

    #[test]
    fn the_offerers_first_g711_law_wins_and_dtmf_is_kept() {
        let audio = parse_audio(OFFER.as_bytes()).unwrap();
        let negotiated = answer_offer(&audio, None).unwrap();
        assert_eq!(negotiated.codec.g711(), Some(G711::Alaw));
        assert_eq!(negotiated.dtmf.as_ref().map(|f| f.pt), Some(101));

        let ulaw_first = OFFER.replace("RTP/AVP 8 0 101", "RTP/AVP 0 8");
        let negotiated = answer_offer(&parse_audio(ulaw_first.as_bytes()).unwrap(), None).unwrap();
        assert_eq!(negotiated.codec.g711(), Some(G711::Ulaw));
        assert_eq!(negotiated.dtmf, None);
    }

    #[test]
    fn a_fixed_codec_must_be_offered_and_keeps_the_offers_number() {
        let offer = OFFER.replace(
            "RTP/AVP 8 0 101\r\n",
            "RTP/AVP 0 96 101\r\na=rtpmap:96 opus/48000/2\r\n",
        );
        let audio = parse_audio(offer.as_bytes()).unwrap();
        let mut opus = Format::new(111, "opus", 48000);
        opus.channels = Some("2".into());
        let negotiated = answer_offer(&audio, Some(&opus)).unwrap();
        assert_eq!((negotiated.codec.pt, negotiated.codec.name.as_str()), (96, "opus"));
        // telephone-event/8000 does not go with a 48 kHz codec.
        assert_eq!(negotiated.dtmf, None);

        let err = answer_offer(&audio, Some(&Format::pcma())).unwrap_err();
        assert!(matches!(err, MediaError::NoCommonCodec(_)), "{err}");
        assert_eq!(err.sip_status(), 488);
    }

    #[test]
    fn pass_through_takes_the_answerers_choice_among_what_was_offered() {
        let offered = vec![
            Format::new(9, "G722", 8000),
            Format::pcmu(),
            Format::telephone_event(101, 8000),
        ];
        let answer = OFFER.replace("RTP/AVP 8 0 101", "RTP/AVP 9 100\r\na=rtpmap:100 telephone-event/8000");
        let audio = parse_audio(answer.as_bytes()).unwrap();
        let negotiated = accept_answer(&offered, &audio).unwrap();
        assert_eq!(negotiated.codec.name, "G722");
        // The answerer numbered telephone-event 100; that is its number on this leg.
        assert_eq!(negotiated.dtmf.map(|f| f.pt), Some(100));

        let answer = OFFER.replace("RTP/AVP 8 0 101", "RTP/AVP 18");
        let err = accept_answer(&offered, &parse_audio(answer.as_bytes()).unwrap()).unwrap_err();
        assert!(err.to_string().contains("G729"), "{err}");
    }

    #[test]
    fn sdp_without_usable_audio_is_refused_with_a_reason() {
        let cases = [
            (OFFER.replace("m=audio", "m=video"), "no m=audio"),
            (OFFER.replace("m=audio 40000", "m=audio 0"), "port 0"),
            (OFFER.replace("RTP/AVP 8 0 101", "RTP/SAVP 8 0"), "RTP/SAVP"),
            (
                OFFER.replace("RTP/AVP 8 0 101", "RTP/AVP 101 120"),
                "no known audio codec",
            ),
            (OFFER.replace("c=IN IP4 192.0.2.10\r\n", ""), "no c= line"),
        ];
        for (sdp, reason) in cases {
            let err = parse_audio(sdp.as_bytes()).unwrap_err();
            assert!(matches!(err, MediaError::NoAudio(_)), "{err}");
            assert!(err.to_string().contains(reason), "{err} lacks {reason}");
            assert_eq!(err.sip_status(), 488);
        }
        let err = parse_audio(b"hello").unwrap_err();
        assert!(matches!(err, MediaError::SdpParse(_)), "{err}");
        // An offer with only codecs acdd cannot play gets no G.711 answer.
        let gsm = parse_audio(OFFER.replace("RTP/AVP 8 0 101", "RTP/AVP 3").as_bytes()).unwrap();
        assert!(matches!(answer_offer(&gsm, None), Err(MediaError::NoCommonCodec(_))));
    }

    #[test]
    fn acdds_answer_points_at_its_own_address_and_rejects_other_streams() {
        let offer = format!("{OFFER}m=video 40002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n");
        let offer = offer.replace("a=sendrecv", "a=sendonly");
        let audio = parse_audio(offer.as_bytes()).unwrap();
        assert_eq!(audio.direction, Direction::SendOnly);
        let negotiated = answer_offer(&audio, None).unwrap();
        let formats = negotiated.formats();
        let body = build(&LocalDescription {
            session_id: 7,
            version: 2,
            addr: "127.0.0.1".parse().unwrap(),
            port: 20002,
            formats: &formats,
            direction: audio.direction.answer(),
            lines: &audio.lines,
        });
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(text.contains("c=IN IP4 127.0.0.1\r\n"), "{text}");
        assert!(text.contains("m=audio 20002 RTP/AVP 8 101\r\n"), "{text}");
        assert!(text.contains("a=rtpmap:8 PCMA/8000\r\n"), "{text}");
        assert!(text.contains("a=fmtp:101 0-15\r\n"), "{text}");
        assert!(text.contains("a=recvonly\r\n"), "{text}");
        assert!(text.contains("m=video 0 RTP/AVP 96\r\n"), "{text}");
        assert!(!text.contains("192.0.2.10"), "{text}");
        // And it reads back as what was meant.
        let back = parse_audio(&body).unwrap();
        assert_eq!(back.port, 20002);
        assert_eq!(back.formats, formats);
        assert_eq!(back.lines.len(), 2);
    }

    #[test]
    fn ipv6_and_hold_addresses() {
        let v6 = OFFER.replace("c=IN IP4 192.0.2.10", "c=IN IP6 ::1");
        assert_eq!(parse_audio(v6.as_bytes()).unwrap().addr, Some("::1".parse().unwrap()));
        let hold = OFFER.replace("c=IN IP4 192.0.2.10", "c=IN IP4 0.0.0.0");
        assert_eq!(parse_audio(hold.as_bytes()).unwrap().addr, None);
        let formats = [Format::pcmu()];
        let text = String::from_utf8(build(&LocalDescription {
            session_id: 1,
            version: 1,
            addr: "::1".parse().unwrap(),
            port: 30000,
            formats: &formats,
            direction: Direction::SendRecv,
            lines: &[],
        }))
        .unwrap();
        assert!(text.contains("c=IN IP6 ::1\r\n"), "{text}");
    }
}
