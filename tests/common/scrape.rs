//! `/metrics` of a running acdd, read with a Prometheus text-format parser.
//! Also used by the channel suite (tests/channels/metrics.rs).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use prometheus_parse::{Scrape, Value};

/// Scrapes the daemon at its HTTP address.
pub fn scrape(http: SocketAddr) -> Scrape {
    let mut stream = std::net::TcpStream::connect(http).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: acdd\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let body = text.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).expect("valid Prometheus text format")
}

/// The value of the sample `name` whose labels include `labels`.
pub fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .and_then(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => Some(*v),
            _ => None,
        })
}
