//! A real softphone: baresip (package `baresip-core`) registers to acdd
//! with username and password, stays registered (answering acdd's OPTIONS),
//! and unregisters when it quits.
//!
//! baresip 1.0 ignores 127.0.0.1 as a local address, so loopback gets a
//! second address, 127.0.0.2 (added here as root if missing, removed after).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Acdd, Setup, TestDir, free_port, require_program};

/// Adds 127.0.0.2 to `lo` for the test's lifetime if it is not there.
struct LoopbackAlias {
    added: bool,
}

impl LoopbackAlias {
    fn ensure() -> LoopbackAlias {
        let present = Command::new("ip")
            .args(["-4", "addr", "show", "dev", "lo"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("127.0.0.2/"))
            .unwrap_or(false);
        if present {
            return LoopbackAlias { added: false };
        }
        let added = Command::new("ip")
            .args(["addr", "add", "127.0.0.2/8", "dev", "lo"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            added,
            "baresip needs 127.0.0.2 on lo: run as root, or `ip addr add 127.0.0.2/8 dev lo` first"
        );
        LoopbackAlias { added: true }
    }
}

impl Drop for LoopbackAlias {
    fn drop(&mut self) {
        if self.added {
            let _ = Command::new("ip")
                .args(["addr", "del", "127.0.0.2/8", "dev", "lo"])
                .status();
        }
    }
}

struct Phone(Child);

impl Drop for Phone {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn baresip_registers_stays_registered_and_unregisters_on_quit() {
    require_program("baresip", "baresip-core");
    let _alias = LoopbackAlias::ensure();
    let dir = TestDir::new("baresip");
    let setup = Setup {
        sip: "qualify_interval_seconds = 1\nqualify_timeout_seconds = 1".into(),
        ..Setup::default()
    };
    let acdd = Acdd::start(&dir.0, &setup);
    let phone_dir = dir.0.join("baresip");
    std::fs::create_dir_all(&phone_dir).unwrap();
    let port = free_port("127.0.0.1");
    let config = format!(
        "sip_listen 127.0.0.1:{port}\nnet_interface lo\naudio_source ausine,440\nausrc_srate 48000\nausrc_channels 2\n\
         audio_player aubridge,agentbridge\naudio_alert aubridge,agentbridge\nrtp_ports 20000-20999\n\
         module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule ausine.so\nmodule aubridge.so\nmodule aufile.so\n\
         module_tmp account.so\nmodule_app menu.so\n"
    );
    std::fs::write(phone_dir.join("config"), config).unwrap();
    std::fs::write(
        phone_dir.join("accounts"),
        format!(
            "<sip:alice@{}>;auth_pass=alice-secret;regint=60;answermode=auto\n",
            acdd.udp
        ),
    )
    .unwrap();
    let output = std::fs::File::create(dir.0.join("baresip.out")).unwrap();
    let started = Instant::now();
    let mut phone = Phone(
        Command::new("baresip")
            .arg("-f")
            .arg(&phone_dir)
            .args(["-t", "7"])
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .expect("starting baresip"),
    );
    let phone_log = || std::fs::read_to_string(dir.0.join("baresip.out")).unwrap_or_default();

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
    while phone.0.try_wait().unwrap().is_none() {
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
