//! A real softphone for tests: baresip (package `baresip-core`) run
//! headless as an operator, registering to acdd with username and password
//! and answering calls by itself (`answermode=auto`), its microphone a
//! 440 Hz sine (`ausine`), its speaker a silent bridge (`aubridge`). Its
//! keys (hold, resume, hang up) are pressed through `ctrl_tcp`: JSON
//! commands in netstrings on a loopback TCP port (`Baresip::command`).
//!
//! baresip 1.0 ignores 127.0.0.1 as a local address, so loopback gets a
//! second address, 127.0.0.2 (added here as root if missing, removed after).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::{Acdd, free_port, require_program};

/// How many tests of this process hold the alias, and whether one of them
/// added it (the last to leave then removes it).
static ALIAS_USERS: std::sync::Mutex<(usize, bool)> = std::sync::Mutex::new((0, false));

/// Keeps 127.0.0.2 on `lo` while a test needs it: added as root if missing
/// when the first test of the process takes it, removed after the last.
pub struct LoopbackAlias;

impl LoopbackAlias {
    pub fn ensure() -> LoopbackAlias {
        let mut users = ALIAS_USERS.lock().unwrap_or_else(|e| e.into_inner());
        let present = Command::new("ip")
            .args(["-4", "addr", "show", "dev", "lo"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("127.0.0.2/"))
            .unwrap_or(false);
        if !present {
            let added = Command::new("ip")
                .args(["addr", "add", "127.0.0.2/8", "dev", "lo"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(
                added,
                "baresip needs 127.0.0.2 on lo: run as root, or `ip addr add 127.0.0.2/8 dev lo` first"
            );
            users.1 = true;
        }
        users.0 += 1;
        LoopbackAlias
    }
}

impl Drop for LoopbackAlias {
    fn drop(&mut self) {
        let mut users = ALIAS_USERS.lock().unwrap_or_else(|e| e.into_inner());
        users.0 -= 1;
        if users.0 == 0 && users.1 {
            users.1 = false;
            let _ = Command::new("ip")
                .args(["addr", "del", "127.0.0.2/8", "dev", "lo"])
                .status();
        }
    }
}

/// A running baresip, killed on drop.
pub struct Baresip {
    pub child: Child,
    /// Its `ctrl_tcp` port.
    control: u16,
    output: PathBuf,
}

impl Baresip {
    /// Starts baresip in `dir/baresip` for `operator` (password
    /// `OPERATOR-secret`), registering to acdd's UDP address; it quits by
    /// itself (and unregisters) after `seconds`.
    pub fn start(dir: &Path, acdd: &Acdd, operator: &str, seconds: u32) -> Baresip {
        require_program("baresip", "baresip-core");
        let phone_dir = dir.join("baresip");
        std::fs::create_dir_all(&phone_dir).unwrap();
        let port = free_port("127.0.0.1");
        let control = free_port("127.0.0.1");
        let config = format!(
            "sip_listen 127.0.0.1:{port}\nnet_interface lo\naudio_source ausine,440\nausrc_srate 48000\nausrc_channels 2\n\
             audio_player aubridge,agentbridge\naudio_alert aubridge,agentbridge\nrtp_ports 20000-20999\n\
             module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule ausine.so\nmodule aubridge.so\nmodule aufile.so\n\
             module_tmp account.so\nmodule_app menu.so\nmodule_app ctrl_tcp.so\nctrl_tcp_listen 127.0.0.1:{control}\n"
        );
        std::fs::write(phone_dir.join("config"), config).unwrap();
        std::fs::write(
            phone_dir.join("accounts"),
            format!(
                "<sip:{operator}@{}>;auth_pass={operator}-secret;regint=60;answermode=auto\n",
                acdd.udp
            ),
        )
        .unwrap();
        let output = dir.join("baresip.out");
        let file = std::fs::File::create(&output).unwrap();
        let child = Command::new("baresip")
            .arg("-f")
            .arg(&phone_dir)
            .args(["-t", &seconds.to_string()])
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("starting baresip");
        Baresip { child, control, output }
    }

    /// Runs a menu command (`hold`, `resume`, `hangup`…) through `ctrl_tcp`
    /// until baresip takes it (a call it has just answered may still refuse
    /// with "Invalid argument" on a busy machine), for up to 5 s; the last
    /// JSON response.
    pub fn command(&self, command: &str) -> String {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let response = self.command_once(command);
            if response.contains("\"ok\":true") || std::time::Instant::now() > until {
                return response;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    fn command_once(&self, command: &str) -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.control)).expect("baresip's ctrl_tcp port");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let json = format!(r#"{{"command":"{command}","token":"t"}}"#);
        stream.write_all(format!("{}:{json},", json.len()).as_bytes()).unwrap();
        // Events may come first; the response carries `"response":true`.
        let mut received = Vec::new();
        let mut buffer = [0u8; 4096];
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
            let text = String::from_utf8_lossy(&received).to_string();
            if text.contains("\"response\":true") {
                return text;
            }
        }
        String::from_utf8_lossy(&received).to_string()
    }

    /// What baresip printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
