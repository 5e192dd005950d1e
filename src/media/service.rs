//! The daemon-wide media service: configuration (addresses, port range), the
//! shared port pool, and the registry of every leg's counters for metrics.
//! It makes one [`MediaSession`] per call.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

use super::stats::{LegCounters, LegStats};
use super::{MediaError, MediaSession, PortPool};

/// Where acdd binds RTP and what it writes into its SDP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaConfig {
    /// Address the RTP sockets bind to.
    pub bind: IpAddr,
    /// Address written into `c=`/`o=` (the same as `bind` unless acdd sits
    /// behind a static NAT).
    pub advertise: IpAddr,
    /// Inclusive port range: `listen.rtp_ports`.
    pub rtp_ports: [u16; 2],
}

impl MediaConfig {
    /// From `[listen]`: bind where SIP listens (UDP first, then TCP;
    /// loopback if neither is set) with `rtp_ports`. A wildcard address
    /// cannot be written into SDP: acdd then advertises loopback, and a
    /// deployment on a wildcard must set `advertise` itself.
    pub fn from_listen(listen: &crate::config::schema::Listen) -> MediaConfig {
        let bind = listen
            .sip_udp
            .or(listen.sip_tcp)
            .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |a| a.ip());
        let advertise = if bind.is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            bind
        };
        MediaConfig {
            bind,
            advertise,
            rtp_ports: *listen.rtp_ports.get_ref(),
        }
    }
}

/// Shared by all calls; cheap to clone.
#[derive(Clone, Debug)]
pub struct MediaService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: MediaConfig,
    pool: PortPool,
    registry: Mutex<Registry>,
}

/// Live legs' counters, and the sum of the legs that ended.
#[derive(Debug, Default)]
struct Registry {
    live: HashMap<u64, Arc<LegCounters>>,
    next: u64,
    ended: LegStats,
}

impl MediaService {
    pub fn new(config: MediaConfig) -> Result<MediaService, MediaError> {
        let pool = PortPool::new(config.bind, config.rtp_ports)?;
        Ok(MediaService {
            inner: Arc::new(Inner {
                config,
                pool,
                registry: Mutex::default(),
            }),
        })
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.inner
            .registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn register(&self, counters: Arc<LegCounters>) -> u64 {
        let mut registry = self.registry();
        registry.next += 1;
        let key = registry.next;
        registry.live.insert(key, counters);
        key
    }

    /// The leg ended: its counters move into the ended sum.
    pub(crate) fn unregister(&self, key: u64) {
        let mut registry = self.registry();
        if let Some(counters) = registry.live.remove(&key) {
            registry.ended += counters.snapshot();
        }
    }

    /// Every leg's counters since start, added up (monotonic: for
    /// Prometheus counters such as packets relayed and lost).
    pub fn stats(&self) -> LegStats {
        let registry = self.registry();
        let mut total = registry.ended;
        for counters in registry.live.values() {
            total += counters.snapshot();
        }
        total
    }

    /// Legs open now (for a gauge); each holds one RTP/RTCP port pair.
    pub fn live_legs(&self) -> usize {
        self.registry().live.len()
    }

    /// Sets the media counters and gauges of the metrics exposition from
    /// the counters of every leg so far and the port pool now (at scrape).
    pub fn publish_metrics(&self) {
        use metrics::{counter, gauge};
        let stats = self.stats();
        counter!("acdd_rtp_packets_received_total").absolute(stats.received);
        counter!("acdd_rtp_packets_relayed_total").absolute(stats.relayed);
        counter!("acdd_rtp_packets_played_total").absolute(stats.played);
        counter!("acdd_rtp_packets_lost_total").absolute(stats.lost);
        counter!("acdd_rtp_packets_rejected_total").absolute(stats.rejected);
        gauge!("acdd_rtp_port_pairs_in_use").set(self.pool().in_use() as f64);
        gauge!("acdd_rtp_port_pairs").set(self.pool().capacity() as f64);
    }

    pub fn config(&self) -> &MediaConfig {
        &self.inner.config
    }

    pub fn pool(&self) -> &PortPool {
        &self.inner.pool
    }

    /// A new session for one call; spawns its task on the current tokio
    /// runtime (must be called inside one).
    pub fn session(&self) -> MediaSession {
        MediaSession::start(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_comes_from_the_sip_address_and_port_range() {
        let config: crate::config::Config =
            toml::from_str("[listen]\nsip_udp = \"127.0.0.5:5060\"\nrtp_ports = [30000, 30099]\n").unwrap();
        let media = MediaConfig::from_listen(&config.listen);
        assert_eq!(media.bind, "127.0.0.5".parse::<IpAddr>().unwrap());
        assert_eq!(media.advertise, media.bind);
        assert_eq!(media.rtp_ports, [30000, 30099]);
        let config: crate::config::Config = toml::from_str("[listen]\nsip_udp = \"0.0.0.0:5060\"\n").unwrap();
        let media = MediaConfig::from_listen(&config.listen);
        assert!(media.bind.is_unspecified());
        assert_eq!(media.advertise, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(media.rtp_ports, [20000, 20999]);
    }
}
