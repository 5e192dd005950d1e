//! Identities from free text and form fields: E.164 phone numbers (parsed and
//! validated by `phonenumber`, never by hand) and lower-cased e-mail
//! addresses. The chat tracker uses `find_in_text` on every chat message.

use phonenumber::Mode;
use phonenumber::country::Id as Region;

use super::model::Identity;

/// The country assumed for numbers written without `+` (`crm.phone_region`).
pub fn region(config: &crate::config::Config) -> Option<Region> {
    config.crm.phone_region.as_ref().and_then(|r| r.get_ref().parse().ok())
}

/// Normalises a phone number to E.164; `None` when it is not a valid number.
pub fn phone(text: &str, region: Option<Region>) -> Option<String> {
    let number = phonenumber::parse(region, text.trim()).ok()?;
    number.is_valid().then(|| number.format().mode(Mode::E164).to_string())
}

/// Normalises an e-mail address (lower case); `None` when it is not one.
pub fn email(text: &str) -> Option<String> {
    let address = text.trim().trim_start_matches("mailto:").to_lowercase();
    let (local, domain) = address.split_once('@')?;
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    (local_ok && domain_ok).then_some(address)
}

/// How many identities of each kind `find_in_text` takes from one text, and
/// how many distinct number-like runs it gives `phonenumber` to read. A
/// customer writes one or two numbers; a reading can cost ~15 ms when the
/// region's patterns have left phonenumber's cache (it holds 100 compiled
/// patterns for all countries), so an adversarial message of thousands of
/// "numbers" cost seconds of CPU before this bound.
pub const MOST_FOUND_IN_TEXT: usize = 5;

/// Phone numbers and e-mail addresses written in `text`: the first
/// `MOST_FOUND_IN_TEXT` of each, from at most as many distinct number-like
/// runs.
pub fn find_in_text(text: &str, region: Option<Region>) -> Vec<Identity> {
    let mut found = Vec::new();
    let mut emails = 0;
    for word in text.split(|c: char| c.is_whitespace() || "<>()[],;\"".contains(c)) {
        let word = word.trim_matches(|c: char| ".:!?'".contains(c));
        if word.contains('@')
            && let Some(address) = email(word)
            && push_new(&mut found, Identity::email(address))
        {
            emails += 1;
            if emails == MOST_FOUND_IN_TEXT {
                break;
            }
        }
    }
    let mut candidates = phone_candidates(text);
    candidates.dedup();
    let mut read: Vec<String> = Vec::new();
    for candidate in candidates {
        if read.contains(&candidate) {
            continue;
        }
        if read.len() == MOST_FOUND_IN_TEXT {
            break;
        }
        if let Some(number) = phone(&candidate, region) {
            push_new(&mut found, Identity::phone(number));
        }
        read.push(candidate);
    }
    found
}

/// Adds `identity` unless it is there already; true when added.
fn push_new(found: &mut Vec<Identity>, identity: Identity) -> bool {
    let new = !found.contains(&identity);
    if new {
        found.push(identity);
    }
    new
}

/// Runs of digits with the separators people write inside numbers
/// (`+49 30 1234-567`, `(030) 123 45`), holding 6 to 17 digits.
fn phone_candidates(text: &str) -> Vec<String> {
    let mut candidates = Vec::new();
    let mut current = String::new();
    let mut digits = 0;
    let mut finish = |current: &mut String, digits: &mut usize| {
        let trimmed = current.trim_end_matches(|c: char| !c.is_ascii_digit()).to_string();
        if (6..=17).contains(digits) {
            candidates.push(trimmed);
        }
        current.clear();
        *digits = 0;
    };
    for c in text.chars() {
        let starts = c.is_ascii_digit() || c == '+' || c == '(';
        let continues = c.is_ascii_digit() || " -./()".contains(c);
        if current.is_empty() {
            if starts {
                current.push(c);
                digits += c.is_ascii_digit() as usize;
            }
        } else if continues && !(c == ' ' && current.ends_with(' ')) {
            current.push(c);
            digits += c.is_ascii_digit() as usize;
        } else {
            finish(&mut current, &mut digits);
            if starts {
                current.push(c);
                digits += c.is_ascii_digit() as usize;
            }
        }
    }
    finish(&mut current, &mut digits);
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_become_e164() {
        assert_eq!(phone("+49 30 12345678", None).as_deref(), Some("+493012345678"));
        assert_eq!(
            phone("030 12345678", Some(Region::DE)).as_deref(),
            Some("+493012345678")
        );
        assert_eq!(phone("030 12345678", None), None);
        assert_eq!(phone("12", Some(Region::DE)), None);
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(email("Jane.Doe@Example.COM").as_deref(), Some("jane.doe@example.com"));
        assert_eq!(email("no-at-sign"), None);
        assert_eq!(email("a@b"), None);
        assert_eq!(email("a b@example.com"), None);
    }

    #[test]
    fn text_yields_phone_and_email() {
        let found = find_in_text(
            "Hi, call me at +49 (30) 1234-5678 or mail <Jane@Example.com>. Order 42.",
            None,
        );
        assert_eq!(
            found,
            vec![
                Identity::email("jane@example.com".into()),
                Identity::phone("+493012345678".into())
            ]
        );
        assert!(find_in_text("order 123456 shipped 2024-01-02", None).is_empty());
    }

    #[test]
    fn a_text_full_of_numbers_is_read_only_so_far() {
        let numbers: Vec<String> = (0..200).map(|i| format!("+49 30 1234{i:04}")).collect();
        let addresses: Vec<String> = (0..200).map(|i| format!("user{i}@example.com")).collect();
        let found = find_in_text(&format!("{} {}", numbers.join(" / "), addresses.join(" ")), None);
        let phones = found.iter().filter(|i| i.kind == "phone").count();
        assert_eq!(phones, MOST_FOUND_IN_TEXT);
        assert_eq!(found.len(), 2 * MOST_FOUND_IN_TEXT);
        assert_eq!(found[MOST_FOUND_IN_TEXT], Identity::phone("+493012340000".into()));
        assert_eq!(found[0], Identity::email("user0@example.com".into()));
    }

    #[test]
    fn a_repeated_non_number_does_not_use_up_the_readings() {
        let text = format!("{} call +49 30 12345678", "order 1234567 ".repeat(50));
        assert_eq!(find_in_text(&text, None), vec![Identity::phone("+493012345678".into())]);
    }
}
