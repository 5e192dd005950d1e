//! Checks of `[sip]` and `[[trunks]]`: sane timer values, known digest
//! algorithms, HA1 forms matching the algorithms offered, parseable trunk
//! sources, unique trunk names.

use std::collections::HashSet;

use super::Problem;
use super::schema::Config;
use crate::sip::Cidr;
use toml::Spanned;

fn problem<T>(spanned: &Spanned<T>, reason: String) -> Problem {
    Problem {
        span: spanned.span(),
        reason,
    }
}

pub(crate) fn check(config: &Config) -> Result<(), Problem> {
    check_sip(config)?;
    check_trunks(config)
}

fn check_sip(config: &Config) -> Result<(), Problem> {
    let sip = &config.sip;
    let algorithms = sip.algorithms.get_ref();
    if algorithms.is_empty() {
        return Err(problem(
            &sip.algorithms,
            "algorithms must name at least one of \"SHA-256\", \"MD5\"".into(),
        ));
    }
    for name in algorithms {
        if crate::sip::DigestAlgorithm::from_name(name).is_none() {
            return Err(problem(
                &sip.algorithms,
                format!("unknown digest algorithm {name:?}; use \"SHA-256\", \"SHA-512-256\" or \"MD5\""),
            ));
        }
    }
    let positive = [
        (&sip.nonce_lifetime_seconds, "nonce_lifetime_seconds"),
        (&sip.min_expires_seconds, "min_expires_seconds"),
        (&sip.default_expires_seconds, "default_expires_seconds"),
        (&sip.max_contacts_per_operator, "max_contacts_per_operator"),
        (&sip.qualify_timeout_seconds, "qualify_timeout_seconds"),
        (&sip.auth_failures_allowed, "auth_failures_allowed"),
        (&sip.auth_failure_window_seconds, "auth_failure_window_seconds"),
    ];
    for (value, name) in positive {
        if *value.get_ref() == 0 {
            return Err(problem(value, format!("{name} must be at least 1")));
        }
    }
    let (min, max, default) = (
        *sip.min_expires_seconds.get_ref(),
        *sip.max_expires_seconds.get_ref(),
        *sip.default_expires_seconds.get_ref(),
    );
    if min > max {
        return Err(problem(
            &sip.max_expires_seconds,
            format!("max_expires_seconds ({max}) is below min_expires_seconds ({min})"),
        ));
    }
    if default < min || default > max {
        return Err(problem(
            &sip.default_expires_seconds,
            format!("default_expires_seconds ({default}) must lie between min ({min}) and max ({max})"),
        ));
    }
    if *sip.max_message_bytes.get_ref() < 1500 {
        return Err(problem(
            &sip.max_message_bytes,
            "max_message_bytes must be at least 1500".into(),
        ));
    }
    if config.listen.sip_tls.is_some() && (sip.tls_certificate.is_none() || sip.tls_key.is_none()) {
        return Err(Problem {
            span: 0..0,
            reason: "listen.sip_tls needs [sip] tls_certificate and tls_key (PEM files)".into(),
        });
    }
    check_gateway(config)?;
    let wants_sha256 = algorithms.iter().any(|a| a.eq_ignore_ascii_case("SHA-256"));
    let wants_other = algorithms
        .iter()
        .any(|a| !a.eq_ignore_ascii_case("MD5") && !a.eq_ignore_ascii_case("SHA-256"));
    for operator in &config.operators {
        let Some(user) = &operator.sip_username else { continue };
        if operator.sip_password.is_some() {
            continue;
        }
        if let Some(ha1) = &operator.sip_ha1_sha256 {
            if ha1.len() != 64 || !ha1.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(problem(
                    user,
                    format!(
                        "operator {:?}: sip_ha1_sha256 must be 64 hexadecimal digits (SHA-256 of username:realm:password)",
                        operator.id.get_ref()
                    ),
                ));
            }
        } else if wants_sha256 {
            return Err(problem(
                user,
                format!(
                    "operator {:?} has only an MD5 sip_ha1 but [sip] algorithms offer SHA-256: add sip_ha1_sha256 or set algorithms = [\"MD5\"]",
                    operator.id.get_ref()
                ),
            ));
        }
        if wants_other {
            return Err(problem(
                user,
                format!(
                    "operator {:?} has no sip_password, which SHA-512-256 digests need",
                    operator.id.get_ref()
                ),
            ));
        }
    }
    Ok(())
}

/// `outbound_gateway` is an `IP:PORT`; a queue forwarding missed calls needs it;
/// `outbound_caller_id` is a number.
fn check_gateway(config: &Config) -> Result<(), Problem> {
    let sip = &config.sip;
    if let Some(gateway) = &sip.outbound_gateway
        && gateway.get_ref().parse::<std::net::SocketAddr>().is_err()
    {
        return Err(problem(
            gateway,
            format!(
                "outbound_gateway {:?} must be an IP address with a port, e.g. \"192.0.2.10:5060\"",
                gateway.get_ref()
            ),
        ));
    }
    if *sip.outbound_ring_seconds.get_ref() == 0 {
        return Err(problem(
            &sip.outbound_ring_seconds,
            "outbound_ring_seconds must be at least 1".into(),
        ));
    }
    if let Some(caller_id) = &sip.outbound_caller_id {
        let digits = caller_id.get_ref().strip_prefix('+').unwrap_or(caller_id.get_ref());
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(problem(
                caller_id,
                format!(
                    "outbound_caller_id {:?} must be a number: digits with an optional leading +",
                    caller_id.get_ref()
                ),
            ));
        }
    }
    if sip.outbound_gateway.is_none() {
        for queue in &config.queues {
            let missed = queue.missed.get_ref();
            if missed.action == super::schema::MissedKind::Forward {
                return Err(problem(
                    missed.to.as_ref().unwrap_or(&queue.name),
                    format!(
                        "queue {:?} forwards missed calls, which needs [sip] outbound_gateway = \"IP:PORT\" (the gateway that carries calls outside)",
                        queue.name.get_ref()
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn check_trunks(config: &Config) -> Result<(), Problem> {
    let mut names = HashSet::new();
    for trunk in &config.trunks {
        let name = trunk.name.get_ref();
        if name.trim().is_empty() {
            return Err(problem(&trunk.name, "trunk name must not be empty".into()));
        }
        if !names.insert(name.clone()) {
            return Err(problem(&trunk.name, format!("trunk {name:?} appears twice")));
        }
        if trunk.sources.is_empty() && trunk.username.is_none() {
            return Err(problem(
                &trunk.name,
                format!("trunk {name:?} needs sources (addresses or CIDRs) or a username and password"),
            ));
        }
        for source in &trunk.sources {
            if let Err(reason) = source.get_ref().parse::<Cidr>() {
                return Err(problem(source, format!("trunk {name:?}: {reason}")));
            }
        }
        match (&trunk.username, &trunk.password) {
            (Some(user), None) => {
                return Err(problem(user, format!("trunk {name:?} has a username but no password")));
            }
            (Some(user), Some(_)) if user.get_ref().trim().is_empty() => {
                return Err(problem(user, format!("trunk {name:?}: username must not be empty")));
            }
            (None, Some(_)) => {
                return Err(problem(
                    &trunk.name,
                    format!("trunk {name:?} has a password but no username"),
                ));
            }
            _ => {}
        }
        let clash = config
            .operators
            .iter()
            .filter_map(|o| o.sip_username.as_ref())
            .find(|u| Some(u.get_ref().to_lowercase()) == trunk.username.as_ref().map(|t| t.get_ref().to_lowercase()));
        if let (Some(user), Some(_)) = (&trunk.username, clash) {
            return Err(problem(
                user,
                format!("trunk {name:?}: username is also an operator's SIP username"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    const BASE: &str = "[listen]\nsip_udp = \"127.0.0.1:5060\"\n";

    fn error(extra: &str) -> String {
        match crate::config::parse(Path::new("t.toml"), &format!("{BASE}{extra}")) {
            Ok(_) => panic!("accepted:\n{extra}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn sip_and_trunk_mistakes_are_named() {
        assert!(error("[[trunks]]\nname = \"c\"\nsources = [\"10.0.0.0/99\"]\n").contains("prefix length"));
        assert!(error("[[trunks]]\nname = \"c\"\nsources = [\"x\"]\n").contains("not an IP address"));
        assert!(error("[[trunks]]\nname = \"c\"\n").contains("needs sources"));
        assert!(error("[[trunks]]\nname = \"c\"\nusername = \"c\"\n").contains("no password"));
        assert!(
            error("[[trunks]]\nname = \"c\"\nsources = [\"::1\"]\n[[trunks]]\nname = \"c\"\nsources = [\"::1\"]\n")
                .contains("appears twice")
        );
        assert!(error("[sip]\nalgorithms = [\"SHA-1\"]\n").contains("unknown digest algorithm"));
        assert!(error("[sip]\nmin_expires_seconds = 100\nmax_expires_seconds = 50\n").contains("below"));
        let ha1_only =
            "[[operators]]\nid = \"a\"\nsip_username = \"a\"\nsip_ha1 = \"0123456789abcdef0123456789abcdef\"\n";
        assert!(error(&format!("[sip]\nalgorithms = [\"SHA-256\", \"MD5\"]\n{ha1_only}")).contains("sip_ha1_sha256"));
        let line = error("[[trunks]]\nname = \"c\"\nsources = [\"x\"]\n");
        assert!(line.starts_with("t.toml:5:"), "{line}");
    }

    #[test]
    fn a_good_sip_section_and_trunk_pass() {
        let text = format!(
            "{BASE}[sip]\nalgorithms = [\"SHA-256\", \"MD5\"]\n[[trunks]]\nname = \"c\"\nsources = [\"192.0.2.0/24\", \"::1\"]\n\
             username = \"carrier\"\npassword = \"pw\"\n[[operators]]\nid = \"a\"\nsip_username = \"a\"\nsip_ha1 = \"0123456789abcdef0123456789abcdef\"\n\
             sip_ha1_sha256 = \"{}\"\n",
            "ab".repeat(32)
        );
        crate::config::parse(Path::new("t.toml"), &text).unwrap();
    }
}
