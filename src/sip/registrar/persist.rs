//! Registrations on disk: one tab-separated line per binding, rewritten
//! whole (temporary file, then rename) when something changed. The storage
//! layer will take this over; until then the file sits beside the SQLite path.

use std::net::SocketAddr;
use std::path::Path as FsPath;

use super::bindings::{Binding, Bindings};
use crate::sip::transport::Path;

const HEADER: &str = "# acdd registrations: operator, uri, params, expires_at, call_id, cseq, transport, peer";

pub fn save(file: &FsPath, bindings: &Bindings) -> std::io::Result<()> {
    let mut text = String::from(HEADER);
    text.push('\n');
    for (operator, list) in bindings.operators() {
        for b in list {
            let (transport, peer) = match b.path {
                Path::Udp { peer, .. } => ("udp", peer),
                Path::Tcp { peer, tls: false, .. } => ("tcp", peer),
                Path::Tcp { peer, tls: true, .. } => ("tls", peer),
            };
            let fields = [
                operator.as_str(),
                &b.uri,
                &b.params,
                &b.expires_at.to_string(),
                &b.call_id,
                &b.cseq.to_string(),
                transport,
                &peer.to_string(),
            ];
            if fields.iter().any(|f| f.contains(['\t', '\n', '\r'])) {
                continue;
            }
            text.push_str(&fields.join("\t"));
            text.push('\n');
        }
    }
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = file.with_extension("tsv.tmp");
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, file)
}

/// Reads the file; bindings already expired at `now` are left out. UDP
/// bindings are sent through `udp_socket_for(peer)`; TCP and TLS ones keep a dead
/// connection id and are marked not alive until the phone registers again.
pub fn load(
    file: &FsPath,
    now: u64,
    udp_socket_for: impl Fn(SocketAddr) -> Option<usize>,
) -> std::io::Result<Bindings> {
    let mut bindings = Bindings::default();
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(bindings),
        Err(e) => return Err(e),
    };
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [operator, uri, params, expires_at, call_id, cseq, transport, peer] = fields[..] else {
            continue;
        };
        let (Ok(expires_at), Ok(cseq), Ok(peer)) =
            (expires_at.parse::<u64>(), cseq.parse(), peer.parse::<SocketAddr>())
        else {
            continue;
        };
        if expires_at <= now {
            continue;
        }
        let (path, alive) = match transport {
            "udp" => match udp_socket_for(peer) {
                Some(socket) => (Path::Udp { socket, peer }, true),
                None => continue,
            },
            other => (
                Path::Tcp {
                    connection: 0,
                    peer,
                    tls: other == "tls",
                },
                false,
            ),
        };
        bindings.upsert(
            operator,
            Binding {
                uri: uri.to_string(),
                params: params.to_string(),
                expires_at,
                call_id: call_id.to_string(),
                cseq,
                path,
                alive,
            },
        );
    }
    Ok(bindings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_skips_expired() {
        let dir = std::env::temp_dir().join(format!("acdd-persist-{}", std::process::id()));
        let file = dir.join("registrations.tsv");
        let mut b = Bindings::default();
        let path = Path::Udp {
            socket: 0,
            peer: "127.0.0.1:5070".parse().unwrap(),
        };
        let binding = |uri: &str, expires_at| Binding {
            uri: uri.into(),
            params: ";+sip.instance=\"<urn:x>\"".into(),
            expires_at,
            call_id: "c@h".into(),
            cseq: 7,
            path,
            alive: true,
        };
        b.upsert("alice", binding("sip:alice@127.0.0.1:5070", 500));
        b.upsert("bob", binding("sip:bob@127.0.0.1:5071", 50));
        save(&file, &b).unwrap();
        let loaded = load(&file, 100, |_| Some(0)).unwrap();
        assert_eq!(loaded.of("alice"), b.of("alice"));
        assert!(loaded.of("bob").is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
