//! The `acdd` binary's command line: check-config on good and bad files,
//! and `run` starting on a configuration and stopping cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ACDD: &str = env!("CARGO_BIN_EXE_acdd");

#[test]
fn check_config_accepts_the_example_and_summarises_it() {
    let output = Command::new(ACDD)
        .args(["check-config", "--config", "config/acdd.toml"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary = String::from_utf8(output.stdout).unwrap();
    assert!(summary.contains("operators: 3"), "{summary}");
    assert!(
        summary.contains("support [phone, chat] mode in_order, 2 operators"),
        "{summary}"
    );
    assert!(summary.contains("phone +4930111111 → support"), "{summary}");
}

#[test]
fn check_config_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[listen]\n\n[[operators]]\nid = \"a\"\n\n[[queues]]\nname = \"q\"\nchannels = [\"chat\"]\noperators = [\"b\"]\n",
    )
    .unwrap();
    let output = Command::new(ACDD)
        .args(["check-config", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8(output.stderr).unwrap();
    let expected = format!(
        "{}:9:14: queue \"q\" lists operator \"b\", which is not defined",
        path.display()
    );
    assert!(message.starts_with(&expected), "{message}");
}

#[test]
fn check_config_on_a_missing_file() {
    let output = Command::new(ACDD)
        .args(["check-config", "--config", "/nonexistent/acdd.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read the file"));
}

#[test]
fn run_starts_and_stops_on_sigterm_with_json_logs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acdd.toml");
    let config = format!(
        "[listen]\n[storage]\nsqlite = \"{}\"\nevent_log = \"{}\"\n[[operators]]\nid = \"a\"\n[[queues]]\nname = \"q\"\nchannels = [\"chat\"]\noperators = [\"a\"]\n",
        dir.path().join("acdd.db").display(),
        dir.path().join("events.jsonl").display()
    );
    std::fs::write(&path, config).unwrap();
    let mut child = Command::new(ACDD)
        .args(["--log-format", "json", "run", "--config"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut before = Vec::new();
    let started = loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            panic!("acdd ended before it started: {before:?}");
        };
        assert!(line.starts_with('{'), "not a JSON log line: {line}");
        if line.contains("acdd started") {
            break line;
        }
        before.push(line);
    };
    assert!(started.contains("\"level\":\"INFO\""), "{started}");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("acdd did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("acdd stopping")), "{rest:?}");
    let log = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert!(log.starts_with("{\"start\":{"), "the event log opens the run: {log}");
}

/// Reads one notification datagram from the daemon.
fn notification(socket: &std::os::unix::net::UnixDatagram) -> String {
    let mut buffer = [0u8; 512];
    let n = socket
        .recv(&mut buffer)
        .expect("a systemd notification within the timeout");
    String::from_utf8_lossy(&buffer[..n]).into_owned()
}

#[test]
fn systemd_notifications_ready_reloading_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acdd.toml");
    let config = format!(
        "[listen]\n[storage]\nsqlite = \"{}\"\nevent_log = \"{}\"\n[[operators]]\nid = \"a\"\n[[queues]]\nname = \"q\"\nchannels = [\"chat\"]\noperators = [\"a\"]\n",
        dir.path().join("acdd.db").display(),
        dir.path().join("events.jsonl").display()
    );
    std::fs::write(&path, config).unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut child = Command::new(ACDD)
        .args(["run", "--config"])
        .arg(&path)
        .env("NOTIFY_SOCKET", &socket_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    assert_eq!(notification(&socket), "READY=1\n");
    // A broken configuration on reload is refused; the daemon stays up and ready.
    std::fs::write(&path, "[listen]\nnonsense = 1\n").unwrap();
    Command::new("kill").args(["-HUP", &pid]).status().unwrap();
    assert!(notification(&socket).starts_with("RELOADING=1\nMONOTONIC_USEC="));
    assert_eq!(notification(&socket), "READY=1\n");
    assert!(
        child.try_wait().unwrap().is_none(),
        "still running after a refused reload"
    );
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert_eq!(notification(&socket), "STOPPING=1\n");
    assert!(child.wait().unwrap().success());
}
