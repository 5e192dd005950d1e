//! The short human summary `acdd check-config` prints.

use std::fmt::Write;

use super::schema::{Config, MissedKind, Mode};

impl Config {
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "configuration is valid");
        let _ = writeln!(s, "operators: {}", self.operators.len());
        for o in &self.operators {
            let ext = o.extension.as_ref().map(|e| e.get_ref().as_str()).unwrap_or("-");
            let _ = writeln!(
                s,
                "  {} (extension {ext}, groups: {})",
                o.id.get_ref(),
                o.groups.join(", ")
            );
        }
        let _ = writeln!(s, "queues: {}", self.queues.len());
        for q in &self.queues {
            let channels: Vec<&str> = q.channels.get_ref().iter().map(|c| c.as_str()).collect();
            let mode = match q.mode {
                Mode::InOrder => "in_order",
                Mode::Evenly => "evenly",
                Mode::All => "all",
                Mode::LongestIdle => "longest_idle",
            };
            let missed = q.missed.get_ref();
            let missed = match missed.action {
                MissedKind::Voicemail => match &missed.greeting {
                    Some(file) => format!("voicemail after greeting {}", file.display()),
                    None => "voicemail".to_string(),
                },
                MissedKind::Forward => format!(
                    "forward to {}",
                    missed.to.as_ref().map(|t| t.get_ref().as_str()).unwrap_or("")
                ),
                MissedKind::Queue => format!(
                    "overflow to queue {}",
                    missed.queue.as_ref().map(|t| t.get_ref().as_str()).unwrap_or("")
                ),
                MissedKind::Hangup => match &missed.announcement {
                    Some(file) => format!("hang up after announcement {}", file.display()),
                    None => "hang up".to_string(),
                },
            };
            let _ = writeln!(
                s,
                "  {} [{}] mode {mode}, {} operator{}, missed: {missed}",
                q.name.get_ref(),
                channels.join(", "),
                q.operators.len(),
                if q.operators.len() == 1 { "" } else { "s" }
            );
        }
        let r = &self.routes;
        let _ = writeln!(
            s,
            "routes: {} phone, {} chat, {} mail, {} form",
            r.phone.len(),
            r.chat.len(),
            r.mail.len(),
            r.form.len()
        );
        for p in &r.phone {
            let _ = writeln!(s, "  phone {} → {}", p.number.get_ref(), p.queue.get_ref());
        }
        for c in &r.chat {
            let _ = writeln!(s, "  chat {} → {}", c.source.get_ref(), c.queue.get_ref());
        }
        for m in &r.mail {
            let _ = writeln!(s, "  mail {} → {}", m.mailbox.get_ref(), m.queue.get_ref());
        }
        for f in &r.form {
            let _ = writeln!(s, "  form {} → {}", f.form.get_ref(), f.queue.get_ref());
        }
        s
    }
}
