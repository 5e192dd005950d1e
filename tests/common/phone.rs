//! SIPp peers for call tests: an operator's phone (a SIPp UAS on its own
//! port, registered for the operator with a Contact naming that port), a
//! plain UAS that is not registered (a gateway acdd dials), and a trunk
//! caller running in the background.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use acdd::sip::auth::digest::DigestAlgorithm;

use super::sip_client::SipClient;
use super::{Acdd, free_port, require_program};

/// A SIPp process running one call of a scenario in tests/sipp/.
pub struct Phone {
    child: Child,
    name: String,
    work: std::path::PathBuf,
    /// The SIP port it listens on.
    pub port: u16,
}

fn scenario_file(scenario: &str) -> String {
    format!("{}/tests/sipp/{scenario}.xml", env!("CARGO_MANIFEST_DIR"))
}

impl Phone {
    /// An operator's phone running `scenario`, registered for `operator`.
    pub fn start(dir: &Path, acdd: &Acdd, operator: &str, scenario: &str) -> Phone {
        Phone::start_with(dir, acdd, operator, scenario, &[])
    }

    /// Like `start`, with more SIPp arguments.
    pub fn start_with(dir: &Path, acdd: &Acdd, operator: &str, scenario: &str, extra: &[&str]) -> Phone {
        let phone = Phone::uas(dir, operator, scenario, extra);
        let secret = format!("{operator}-secret");
        let contact = format!("<sip:{operator}@127.0.0.1:{}>", phone.port);
        let reply = SipClient::udp(acdd.udp).register(operator, &secret, Some(&contact), None, DigestAlgorithm::Md5);
        assert_eq!(reply.code, 200, "{}", reply.raw);
        phone
    }

    /// A UAS that nobody registers (e.g. the outbound gateway), in its own
    /// directory `dir/name`.
    pub fn uas(dir: &Path, name: &str, scenario: &str, extra: &[&str]) -> Phone {
        require_program("sipp", "sip-tester");
        let port = free_port("127.0.0.1");
        let work = dir.join(name);
        std::fs::create_dir_all(&work).unwrap();
        let child = Command::new("timeout")
            .args(["30", "sipp", "-sf", &scenario_file(scenario), "-m", "1"])
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-timeout", "20s", "-trace_err", "-nostdin"])
            .args(extra)
            .current_dir(&work)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running sipp");
        Phone {
            child,
            name: name.to_string(),
            work,
            port,
        }
    }

    /// A trunk caller running `scenario` to `number` at acdd, in `dir/name`.
    pub fn caller(dir: &Path, acdd: &Acdd, name: &str, scenario: &str, number: &str) -> Phone {
        let mut extra = vec!["-s", number];
        let udp = acdd.udp.to_string();
        extra.push(&udp);
        Phone::uas(dir, name, scenario, &extra)
    }

    /// Waits for the scenario to end; (success, what it printed and its error log).
    pub fn finish(self) -> (bool, String) {
        let output = self.child.wait_with_output().expect("waiting for sipp");
        let errors = super::sipp_logs(&self.work, &["_errors.log", "_messages.log"]);
        (
            output.status.success(),
            format!(
                "{}: {}\n{}\n{errors}",
                self.name,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        )
    }
}
