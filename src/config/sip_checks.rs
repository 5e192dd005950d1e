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
