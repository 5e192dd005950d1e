//! What recording and mixing cost per packet, against the least any
//! handling of G.711 audio costs: decoding it. Virtual time, no sockets.
//!
//! - `recording`: a minute of a call, a 20 ms packet of each side at a
//!   time, into a `CallRecorder` (decode, place by time, write the stereo
//!   WAV to a temporary file; creating and closing it is not timed),
//!   against decoding the same packets.
//! - `mixing`: one 20 ms tick of a three-way call (each leg's packet
//!   decoded into its `MixInput`, a frame taken from each, and per leg the
//!   other two added and encoded), against decoding and encoding the three
//!   packets (what any transcoding relay would do).
//!
//! `cargo bench --bench media_work`; the ratios are the figures to keep.

use std::hint::black_box;
use std::time::Duration;

use acdd::media::{CallRecorder, FRAME_SAMPLES, G711, MixInput, Side, add_frame};
use criterion::{Criterion, criterion_group, criterion_main};

fn packet(sample: i16) -> Vec<u8> {
    let mut bytes = Vec::new();
    G711::Ulaw.encode(&[sample; FRAME_SAMPLES], &mut bytes);
    bytes
}

/// Packet pairs in one iteration of the recording bench: a minute of call.
const MINUTE: u64 = 3000;

fn recording(c: &mut Criterion) {
    let (said, heard) = (packet(1000), packet(-2000));
    let mut group = c.benchmark_group("recording (a minute of call: 3000 packets per side)");
    group.bench_function("reference: decode both", |b| {
        let mut pcm = Vec::with_capacity(2 * FRAME_SAMPLES);
        b.iter(|| {
            for _ in 0..MINUTE {
                pcm.clear();
                G711::Ulaw.decode(black_box(&said), &mut pcm);
                G711::Ulaw.decode(black_box(&heard), &mut pcm);
                black_box(&pcm);
            }
        });
    });
    group.bench_function("acdd: CallRecorder", |b| {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("call.wav");
        // Timed: the packets; not timed: creating and closing the file.
        b.iter_custom(|iterations| {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                let mut recorder = CallRecorder::create(&path, G711::Ulaw, 0, Duration::from_secs(120)).unwrap();
                let started = std::time::Instant::now();
                for n in 1..=MINUTE {
                    recorder.on_audio(Side::Said, n * 20_000, 0, black_box(&said));
                    recorder.on_audio(Side::Heard, n * 20_000, 0, black_box(&heard));
                }
                spent += started.elapsed();
                recorder.finish().unwrap();
            }
            spent
        });
    });
    group.finish();
}

fn mixing(c: &mut Criterion) {
    let packets = [packet(1000), packet(-3000), packet(500)];
    let mut group = c.benchmark_group("mixing (one 20 ms tick of a three-way call)");
    group.bench_function("reference: decode and encode each packet", |b| {
        let (mut pcm, mut out) = (Vec::with_capacity(FRAME_SAMPLES), Vec::with_capacity(FRAME_SAMPLES));
        b.iter(|| {
            for bytes in &packets {
                pcm.clear();
                out.clear();
                G711::Ulaw.decode(black_box(bytes), &mut pcm);
                G711::Ulaw.encode(&pcm, &mut out);
                black_box(&out);
            }
        });
    });
    group.bench_function("acdd: MixInput and add_frame", |b| {
        let mut inputs: [MixInput; 3] = Default::default();
        let (mut pcm, mut out) = (Vec::with_capacity(FRAME_SAMPLES), Vec::with_capacity(FRAME_SAMPLES));
        // Primed, as in a call under way.
        for (input, bytes) in inputs.iter_mut().zip(&packets) {
            pcm.clear();
            G711::Ulaw.decode(bytes, &mut pcm);
            input.push(&pcm);
        }
        let mut frames = [[0i16; FRAME_SAMPLES]; 3];
        b.iter(|| {
            for (input, bytes) in inputs.iter_mut().zip(&packets) {
                pcm.clear();
                G711::Ulaw.decode(black_box(bytes), &mut pcm);
                input.push(&pcm);
            }
            for (input, frame) in inputs.iter_mut().zip(&mut frames) {
                input.take_frame(frame);
            }
            for listener in 0..3 {
                let mut sum = [0i16; FRAME_SAMPLES];
                for (source, frame) in frames.iter().enumerate() {
                    if source != listener {
                        add_frame(&mut sum, frame);
                    }
                }
                out.clear();
                G711::Ulaw.encode(&sum, &mut out);
                black_box(&out);
            }
        });
    });
    group.finish();
}

criterion_group!(benches, recording, mixing);
criterion_main!(benches);
