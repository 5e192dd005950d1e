//! Checks a parsed configuration for mistakes serde cannot see: dangling names,
//! duplicates, impossible numbers, overflow cycles. The first problem wins.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::Problem;
use super::schema::{Config, Hold, MissedKind, Queue};
use crate::engine::Channel;
use toml::Spanned;

fn problem<T>(spanned: &Spanned<T>, reason: String) -> Problem {
    Problem {
        span: spanned.span(),
        reason,
    }
}

/// Remembers names already seen and complains about the second one.
struct Unique<'a> {
    what: &'static str,
    seen: HashMap<String, &'a Spanned<String>>,
}

impl<'a> Unique<'a> {
    fn new(what: &'static str) -> Self {
        Unique {
            what,
            seen: HashMap::new(),
        }
    }

    fn insert(&mut self, key: String, at: &'a Spanned<String>) -> Result<(), Problem> {
        if at.get_ref().trim().is_empty() {
            return Err(problem(at, format!("{} must not be empty", self.what)));
        }
        if self.seen.insert(key, at).is_some() {
            return Err(problem(at, format!("{} {:?} appears twice", self.what, at.get_ref())));
        }
        Ok(())
    }
}

pub(crate) fn check(config: &Config) -> Result<(), Problem> {
    check_listen(config)?;
    check_operators(config)?;
    check_queues(config)?;
    check_overflow_cycles(config)?;
    check_routes(config)?;
    check_capacities(config)?;
    super::sip_checks::check(config)?;
    check_crm(config)?;
    check_retention(config)?;
    Ok(())
}

fn check_retention(config: &Config) -> Result<(), Problem> {
    let storage = &config.storage;
    for (key, days) in [
        ("recordings_keep_days", &storage.recordings_keep_days),
        ("voicemail_keep_days", &storage.voicemail_keep_days),
    ] {
        if let Some(days) = days
            && *days.get_ref() == 0
        {
            return Err(problem(
                days,
                format!("{key} must be at least 1 (leave it out to keep them all)"),
            ));
        }
    }
    Ok(())
}

fn check_crm(config: &Config) -> Result<(), Problem> {
    if let Some(region) = &config.crm.phone_region
        && region.get_ref().parse::<phonenumber::country::Id>().is_err()
    {
        return Err(problem(
            region,
            format!(
                "crm.phone_region {:?} is not a country code; use two capital letters such as \"DE\"",
                region.get_ref()
            ),
        ));
    }
    for route in &config.routes.chat {
        if let Some(token) = &route.webhook_token
            && token.get_ref().len() < 16
        {
            return Err(problem(
                token,
                format!(
                    "chat source {:?}: webhook_token is too short; use at least 16 characters",
                    route.source.get_ref()
                ),
            ));
        }
    }
    if config.limits.http_body_bytes < 1024 || config.limits.mail_bytes < 1024 {
        return Err(Problem {
            span: 0..0,
            reason: "limits.http_body_bytes and limits.mail_bytes must be at least 1024".into(),
        });
    }
    Ok(())
}

fn check_listen(config: &Config) -> Result<(), Problem> {
    let ports = &config.listen.rtp_ports;
    let [first, last] = *ports.get_ref();
    if first == 0 || first > last {
        return Err(problem(
            ports,
            format!("rtp_ports [{first}, {last}] is not a range of ports: give [first, last] with 0 < first <= last"),
        ));
    }
    if last - first < 3 {
        return Err(problem(
            ports,
            "rtp_ports must hold at least 4 ports (2 per call leg)".into(),
        ));
    }
    Ok(())
}

fn check_operators(config: &Config) -> Result<(), Problem> {
    let mut ids = Unique::new("operator id");
    let mut extensions = Unique::new("extension");
    let mut usernames = Unique::new("SIP username");
    let mut tokens = Unique::new("API token");
    for o in &config.operators {
        ids.insert(o.id.get_ref().clone(), &o.id)?;
        if let Some(ext) = &o.extension {
            extensions.insert(ext.get_ref().clone(), ext)?;
        }
        if let Some(user) = &o.sip_username {
            usernames.insert(user.get_ref().to_lowercase(), user)?;
            match (&o.sip_password, &o.sip_ha1) {
                (None, None) => {
                    return Err(problem(
                        user,
                        format!(
                            "operator {:?} has a SIP username but neither sip_password nor sip_ha1",
                            o.id.get_ref()
                        ),
                    ));
                }
                (Some(_), Some(_)) => {
                    return Err(problem(
                        user,
                        format!(
                            "operator {:?} has both sip_password and sip_ha1; keep one",
                            o.id.get_ref()
                        ),
                    ));
                }
                (None, Some(ha1)) if ha1.len() != 32 || !ha1.chars().all(|c| c.is_ascii_hexdigit()) => {
                    return Err(problem(
                        user,
                        format!(
                            "operator {:?}: sip_ha1 must be 32 hexadecimal digits (MD5 of username:realm:password)",
                            o.id.get_ref()
                        ),
                    ));
                }
                _ => {}
            }
        }
        if let Some(token) = &o.api_token {
            if token.get_ref().len() < 16 {
                return Err(problem(
                    token,
                    format!(
                        "operator {:?}: api_token is too short; use at least 16 characters",
                        o.id.get_ref()
                    ),
                ));
            }
            tokens.insert(token.get_ref().clone(), token)?;
        }
    }
    if let Some(admin) = &config.admin.token {
        if admin.len() < 16 {
            return Err(Problem {
                span: 0..0,
                reason: "admin.token is too short; use at least 16 characters".into(),
            });
        }
        if tokens.seen.contains_key(admin) {
            return Err(Problem {
                span: 0..0,
                reason: "admin.token is also an operator's api_token".into(),
            });
        }
    }
    Ok(())
}

fn positive(value: &Spanned<i64>, what: &str, queue: &str) -> Result<(), Problem> {
    if *value.get_ref() <= 0 {
        return Err(problem(
            value,
            format!(
                "queue {queue:?}: {what} must be greater than zero, not {}",
                value.get_ref()
            ),
        ));
    }
    Ok(())
}

fn not_negative(value: &Spanned<i64>, what: &str, queue: &str) -> Result<(), Problem> {
    if *value.get_ref() < 0 {
        return Err(problem(
            value,
            format!("queue {queue:?}: {what} must not be negative, not {}", value.get_ref()),
        ));
    }
    Ok(())
}

fn check_queues(config: &Config) -> Result<(), Problem> {
    let operators: HashSet<&str> = config.operators.iter().map(|o| o.id.get_ref().as_str()).collect();
    let mut names = Unique::new("queue name");
    for q in &config.queues {
        names.insert(q.name.get_ref().clone(), &q.name)?;
        let name = q.name.get_ref().as_str();
        let channels = q.channels.get_ref();
        if channels.is_empty() {
            return Err(problem(
                &q.channels,
                format!("queue {name:?} serves no channel; list some of phone, chat, mail, form"),
            ));
        }
        if channels.iter().collect::<HashSet<_>>().len() != channels.len() {
            return Err(problem(&q.channels, format!("queue {name:?} lists a channel twice")));
        }
        if q.operators.is_empty() {
            return Err(problem(&q.name, format!("queue {name:?} lists no operators")));
        }
        let mut listed = HashSet::new();
        for op in &q.operators {
            if !operators.contains(op.get_ref().as_str()) {
                return Err(problem(
                    op,
                    format!(
                        "queue {name:?} lists operator {:?}, which is not defined under [[operators]]",
                        op.get_ref()
                    ),
                ));
            }
            if !listed.insert(op.get_ref()) {
                return Err(problem(
                    op,
                    format!("queue {name:?} lists operator {:?} twice", op.get_ref()),
                ));
            }
        }
        for supervisor in &q.supervisors {
            if !operators.contains(supervisor.get_ref().as_str()) {
                return Err(problem(
                    supervisor,
                    format!(
                        "queue {name:?} lists supervisor {:?}, which is not defined under [[operators]]",
                        supervisor.get_ref()
                    ),
                ));
            }
        }
        positive(&q.offer_timeout_seconds, "offer_timeout_seconds", name)?;
        positive(&q.ring_count, "ring_count", name)?;
        if q.ring_interval_seconds.get_ref().partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Err(problem(
                &q.ring_interval_seconds,
                format!("queue {name:?}: ring_interval_seconds must be greater than zero"),
            ));
        }
        positive(&q.retry_seconds, "retry_seconds", name)?;
        positive(&q.service_level_seconds, "service_level_seconds", name)?;
        not_negative(&q.responsible_wait_seconds, "responsible_wait_seconds", name)?;
        not_negative(&q.wrap_up_seconds, "wrap_up_seconds", name)?;
        if let Some(max_wait) = &q.max_wait_seconds {
            positive(max_wait, "max_wait_seconds", name)?;
        }
        if let Some(max_length) = &q.max_length {
            positive(max_length, "max_length", name)?;
        }
        if let Some(after) = &q.auto_pause_after {
            positive(after, "auto_pause_after", name)?;
        }
        if let Some(max) = &q.max_per_operator {
            positive(max, "max_per_operator", name)?;
        }
        if q.hold == Hold::Music && q.music_file.is_none() {
            return Err(problem(
                &q.name,
                format!("queue {name:?}: hold = \"music\" needs music_file"),
            ));
        }
        if let Some(announcement) = &q.waiting_announcement {
            positive(
                &announcement.get_ref().every_seconds,
                "waiting_announcement.every_seconds",
                name,
            )?;
            if let Err(error) = crate::media::Prompt::load(&announcement.get_ref().file) {
                return Err(problem(
                    announcement,
                    format!("queue {name:?}: waiting_announcement cannot be played: {error}"),
                ));
            }
            if q.hold == Hold::Ringback {
                return Err(problem(
                    announcement,
                    format!(
                        "queue {name:?}: waiting_announcement needs hold = \"music\" or \"tone\" \
                         (with \"ringback\" the caller's own phone rings and hears nothing from acdd)"
                    ),
                ));
            }
        }
        if let Some(key) = &q.callback_key {
            let one_key = matches!(key.get_ref().as_bytes(), [b'0'..=b'9' | b'*' | b'#']);
            if !one_key {
                return Err(problem(
                    key,
                    format!("queue {name:?}: callback_key must be one key: 0-9, * or #"),
                ));
            }
            if q.hold != Hold::Music {
                return Err(problem(
                    key,
                    format!(
                        "queue {name:?}: callback_key needs hold = \"music\" (only an answered caller's keys reach acdd)"
                    ),
                ));
            }
        }
        check_missed(config, q)?;
    }
    Ok(())
}

fn check_missed(config: &Config, q: &Queue) -> Result<(), Problem> {
    let name = q.name.get_ref().as_str();
    let missed = q.missed.get_ref();
    let (needs_to, needs_queue) = match missed.action {
        MissedKind::Forward => (true, false),
        MissedKind::Queue => (false, true),
        MissedKind::Voicemail | MissedKind::Hangup => (false, false),
    };
    match (&missed.to, needs_to) {
        (None, true) => {
            return Err(problem(
                &q.missed,
                format!("queue {name:?}: missed action \"forward\" needs `to` (a number or SIP URI)"),
            ));
        }
        (Some(to), true) if to.get_ref().trim().is_empty() => {
            return Err(problem(to, format!("queue {name:?}: missed forward `to` is empty")));
        }
        (Some(to), false) => {
            return Err(problem(
                to,
                format!("queue {name:?}: `to` only goes with action \"forward\""),
            ));
        }
        _ => {}
    }
    match (&missed.queue, needs_queue) {
        (None, true) => {
            return Err(problem(
                &q.missed,
                format!("queue {name:?}: missed action \"queue\" needs `queue` (the queue to overflow into)"),
            ));
        }
        (Some(target), true) if !config.queues.iter().any(|o| o.name.get_ref() == target.get_ref()) => {
            return Err(problem(
                target,
                format!(
                    "queue {name:?}: missed action sends to queue {:?}, which is not defined",
                    target.get_ref()
                ),
            ));
        }
        (Some(target), false) => {
            return Err(problem(
                target,
                format!("queue {name:?}: `queue` only goes with action \"queue\""),
            ));
        }
        _ => {}
    }
    let files = [
        ("greeting", &missed.greeting, MissedKind::Voicemail, "voicemail"),
        ("announcement", &missed.announcement, MissedKind::Hangup, "hangup"),
    ];
    for (key, file, kind, action) in files {
        let Some(file) = file else { continue };
        if missed.action != kind {
            return Err(problem(
                &q.missed,
                format!("queue {name:?}: missed `{key}` only goes with action \"{action}\""),
            ));
        }
        if let Err(error) = crate::media::Prompt::load(file) {
            return Err(problem(
                &q.missed,
                format!("queue {name:?}: missed {key} cannot be played: {error}"),
            ));
        }
    }
    if missed.action == MissedKind::Voicemail && missed.max_seconds == 0 {
        return Err(problem(
            &q.missed,
            format!("queue {name:?}: voicemail max_seconds must be greater than zero"),
        ));
    }
    Ok(())
}

fn overflow_target(q: &Queue) -> Option<&Spanned<String>> {
    let missed = q.missed.get_ref();
    missed.queue.as_ref().filter(|_| missed.action == MissedKind::Queue)
}

fn check_overflow_cycles(config: &Config) -> Result<(), Problem> {
    let by_name: BTreeMap<&str, &Queue> = config.queues.iter().map(|q| (q.name.get_ref().as_str(), q)).collect();
    for start in &config.queues {
        let mut path = vec![start.name.get_ref().as_str()];
        let mut current = start;
        while let Some(next) = overflow_target(current) {
            let next_name = next.get_ref().as_str();
            if path.contains(&next_name) {
                path.push(next_name);
                return Err(problem(
                    next,
                    format!("overflow cycle between queues: {}", path.join(" → ")),
                ));
            }
            path.push(next_name);
            match by_name.get(next_name) {
                Some(q) => current = q,
                None => break,
            }
        }
    }
    Ok(())
}

fn route_queue<'a>(config: &'a Config, queue: &Spanned<String>, channel: Channel) -> Result<&'a Queue, Problem> {
    let q = config
        .queues
        .iter()
        .find(|q| q.name.get_ref() == queue.get_ref())
        .ok_or_else(|| {
            problem(
                queue,
                format!("route goes to queue {:?}, which is not defined", queue.get_ref()),
            )
        })?;
    if !q.channels.get_ref().contains(&channel) {
        return Err(problem(
            queue,
            format!(
                "a {channel} route goes to queue {:?}, which does not serve {channel}",
                queue.get_ref()
            ),
        ));
    }
    Ok(q)
}

fn check_routes(config: &Config) -> Result<(), Problem> {
    let mut numbers = Unique::new("routed number");
    for r in &config.routes.phone {
        let normal: String = r
            .number
            .get_ref()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        numbers.insert(normal, &r.number)?;
        route_queue(config, &r.queue, Channel::Phone)?;
    }
    let mut sources = Unique::new("chat source");
    for r in &config.routes.chat {
        sources.insert(r.source.get_ref().clone(), &r.source)?;
        route_queue(config, &r.queue, Channel::Chat)?;
    }
    let mut mailboxes = Unique::new("mailbox");
    for r in &config.routes.mail {
        if !r.mailbox.get_ref().contains('@') {
            return Err(problem(
                &r.mailbox,
                format!("mailbox {:?} is not an e-mail address", r.mailbox.get_ref()),
            ));
        }
        mailboxes.insert(r.mailbox.get_ref().to_lowercase(), &r.mailbox)?;
        route_queue(config, &r.queue, Channel::Mail)?;
    }
    let mut forms = Unique::new("form");
    for r in &config.routes.form {
        forms.insert(r.form.get_ref().clone(), &r.form)?;
        route_queue(config, &r.queue, Channel::Form)?;
        for field in &r.required {
            if !r.fields.contains_key(field) {
                return Err(problem(
                    &r.form,
                    format!(
                        "form {:?} requires field {field:?}, which its `fields` mapping does not name",
                        r.form.get_ref()
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn check_capacities(config: &Config) -> Result<(), Problem> {
    for o in &config.operators {
        let id = o.id.get_ref();
        for q in config
            .queues
            .iter()
            .filter(|q| q.operators.iter().any(|n| n.get_ref() == id))
        {
            for channel in q.channels.get_ref() {
                let capacity = match channel {
                    Channel::Phone => Some(&o.capacity.phone),
                    Channel::Chat => Some(&o.capacity.chat),
                    Channel::Mail => o.capacity.mail.as_ref(),
                    Channel::Form => o.capacity.form.as_ref(),
                };
                if let Some(c) = capacity.filter(|c| *c.get_ref() == 0) {
                    let at = if c.span().is_empty() { o.id.span() } else { c.span() };
                    return Err(Problem {
                        span: at,
                        reason: format!(
                            "operator {id:?} has {channel} capacity 0 but serves queue {:?}, which takes {channel}",
                            q.name.get_ref()
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}
