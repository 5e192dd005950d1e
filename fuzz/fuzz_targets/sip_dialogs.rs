//! Scripts of SIP datagrams, telephony commands and clock steps against one
//! SIP core (`acdd::sip::CoreHarness`, whose comment describes the script):
//! transactions and dialogs never panic, and once the clock has run past
//! every timer no server transaction is left.
#![no_main]

use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use acdd::sip::CoreHarness;
use libfuzzer_sys::fuzz_target;

struct World {
    runtime: tokio::runtime::Runtime,
    config: acdd::config::Config,
    /// Where the core's messages go; nobody reads them (the buffers fill
    /// and drop), so nothing is sent to a closed port.
    trunk: UdpSocket,
    stranger: UdpSocket,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| World {
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        config: acdd::config::parse(
            std::path::Path::new("acdd.toml"),
            include_str!("../../config/acdd.toml"),
        )
        .expect("the example configuration"),
        trunk: UdpSocket::bind("127.0.0.1:0").unwrap(),
        stranger: UdpSocket::bind("127.0.0.3:0").unwrap(),
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(script) = std::str::from_utf8(data) else { return };
    let world = world();
    let _entered = world.runtime.enter();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_nonblocking(true).unwrap();
    let socket = Arc::new(tokio::net::UdpSocket::from_std(socket).unwrap());
    let mut core = CoreHarness::new(&world.config, socket);
    let address = |socket: &UdpSocket| -> SocketAddr { socket.local_addr().unwrap() };
    core.play(script, address(&world.trunk), address(&world.stranger));
    // Past every timer (64·T1 and the lingering), no transaction is left.
    core.advance(Duration::from_secs(40));
    core.advance(Duration::from_secs(40));
    let (_, _, transactions) = core.sizes();
    assert_eq!(transactions, 0, "server transactions left after every timer ran out");
});
