//! A real softphone: baresip (package `baresip-core`) registers to acdd
//! with username and password, stays registered (answering acdd's OPTIONS),
//! and unregisters when it quits (`common/baresip.rs` runs it). Calls to a
//! baresip operator are in tests/telephony.rs.

mod common;

use std::time::{Duration, Instant};

use common::baresip::{Baresip, LoopbackAlias};
use common::{Acdd, Setup, TestDir};

#[test]
fn baresip_registers_stays_registered_and_unregisters_on_quit() {
    let _alias = LoopbackAlias::ensure();
    let dir = TestDir::new("baresip");
    let setup = Setup {
        sip: "qualify_interval_seconds = 1\nqualify_timeout_seconds = 1".into(),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let started = Instant::now();
    let mut phone = Baresip::start(&dir.0, &acdd, "alice", 7);
    let phone_log = || phone.log();

    assert!(
        acdd.wait_for_log(
            &["registration changed", "alice", "contacts=1"],
            Duration::from_secs(15)
        ),
        "baresip did not register; baresip said:\n{}\nacdd said:\n{}",
        phone_log(),
        acdd.log_text()
    );
    assert!(acdd.wait_for_log(
        &["reachability changed", "alice", "reachable=true"],
        Duration::from_secs(15)
    ));
    assert!(
        phone_log().contains("200 OK"),
        "baresip reports its registration: {}",
        phone_log()
    );

    // Several qualify rounds while baresip runs: it answers every OPTIONS.
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "the check ran while baresip was up"
    );
    assert!(
        !acdd.log_text().contains("stopped answering OPTIONS"),
        "baresip stays qualified:\n{}",
        acdd.log_text()
    );

    // baresip quits after its -t time and unregisters on the way out.
    let deadline = Instant::now() + Duration::from_secs(15);
    while phone.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "baresip did not quit");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        acdd.wait_for_log(
            &["registration changed", "alice", "contacts=0"],
            Duration::from_secs(15)
        ),
        "acdd did not see baresip unregister:\n{}",
        acdd.log_text()
    );
    assert!(acdd.wait_for_log(
        &["reachability changed", "alice", "reachable=false"],
        Duration::from_secs(15)
    ));
}
