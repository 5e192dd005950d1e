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
    /// The core's socket, made once: registering one with the runtime on
    /// every run kept libFuzzer's leak check busy (most of the time spent).
    socket: Arc<tokio::net::UdpSocket>,
    /// Where the core's messages go; nobody reads them (the buffers fill
    /// and drop), so nothing is sent to a closed port.
    trunk: UdpSocket,
    stranger: UdpSocket,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let socket = {
            let _entered = runtime.enter();
            Arc::new(tokio::net::UdpSocket::from_std(socket).unwrap())
        };
        let text = include_str!("../../config/acdd.toml");
        World {
            runtime,
            config: acdd::config::parse(std::path::Path::new("acdd.toml"), text).expect("the example configuration"),
            socket,
            trunk: UdpSocket::bind("127.0.0.1:0").unwrap(),
            stranger: UdpSocket::bind("127.0.0.3:0").unwrap(),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(script) = std::str::from_utf8(data) else { return };
    let world = world();
    let _entered = world.runtime.enter();
    let mut core = CoreHarness::new(&world.config, world.socket.clone());
    let address = |socket: &UdpSocket| -> SocketAddr { socket.local_addr().unwrap() };
    core.play(script, address(&world.trunk), address(&world.stranger));
    // Past every timer (64·T1 and the lingering), no transaction is left.
    core.advance(Duration::from_secs(40));
    core.advance(Duration::from_secs(40));
    let (_, _, transactions) = core.sizes();
    assert_eq!(transactions, 0, "server transactions left after every timer ran out");
});
