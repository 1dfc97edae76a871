//! `[alarms]`: the stack's default alarms, their thresholds, and where they notify; and
//! `[dashboard]`, the other half of watching a stack.

use toml_edit::TableLike;

use super::model::{AlarmsSpec, Notify};
use super::reader::{Reader, dotted};

pub(super) const KEYS: &[&str] = &[
    "enabled",
    "notify",
    "http_5xx_percent",
    "unhealthy_targets",
    "running_below_desired",
    "oldest_message_secs",
    "dead_letters",
];

pub(super) fn read<'a>(reader: &mut Reader<'a>, root: &'a dyn TableLike) -> AlarmsSpec {
    let t = reader.table(root, "alarms", KEYS);
    let d = AlarmsSpec::defaults();
    let int = |reader: &mut Reader<'a>, key: &str, default: u32, range| {
        u32::try_from(reader.int(t, key, i64::from(default), range)).unwrap_or(default)
    };
    let notify = reader
        .string(t, "notify")
        .and_then(|text| match notify(&text) {
            Ok(notify) => Some(notify),
            Err(message) => {
                let span = reader.span_of(t, "notify");
                reader.error_at(span, &dotted(t, "notify"), message);
                None
            }
        });
    let oldest = int(
        reader,
        "oldest_message_secs",
        d.oldest_message_secs,
        0..=1_209_600,
    );
    if (1..60).contains(&oldest) {
        let span = reader.span_of(t, "oldest_message_secs");
        reader.error_at(
            span,
            &dotted(t, "oldest_message_secs"),
            format!("{oldest} is below 60: SQS reports the age once a minute; 0 turns it off"),
        );
    }
    AlarmsSpec {
        enabled: reader.bool(t, "enabled", d.enabled),
        notify,
        http_5xx_percent: int(reader, "http_5xx_percent", d.http_5xx_percent, 0..=100),
        unhealthy_targets: reader.bool(t, "unhealthy_targets", d.unhealthy_targets),
        running_below_desired: reader.bool(t, "running_below_desired", d.running_below_desired),
        oldest_message_secs: oldest,
        dead_letters: reader.bool(t, "dead_letters", d.dead_letters),
    }
}

/// `[dashboard] enabled` (default on).
pub(super) fn dashboard<'a>(reader: &mut Reader<'a>, root: &'a dyn TableLike) -> bool {
    let t = reader.table(root, "dashboard", &["enabled"]);
    reader.bool(t, "enabled", true)
}

/// An SNS topic's ARN, or an email address to make a topic for.
fn notify(text: &str) -> Result<Notify, String> {
    let shown = super::reader::shown(text);
    if let Some(rest) = text.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.split(':').collect();
        let ok = matches!(parts.as_slice(), [partition, "sns", region, account, name]
            if !partition.is_empty() && !region.is_empty()
                && account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())
                && !name.is_empty() && name.len() <= 256);
        return if ok {
            Ok(Notify::Topic(text.to_owned()))
        } else {
            Err(format!(
                "{shown:?} is not an SNS topic ARN; allowed: arn:aws:sns:REGION:ACCOUNT:NAME, or \
                 an email address"
            ))
        };
    }
    let email = text.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !text.chars().any(|c| c.is_whitespace() || c.is_control())
            && text.len() <= 254
    });
    if email {
        Ok(Notify::Email(text.to_owned()))
    } else {
        Err(format!(
            "{shown:?} is neither an SNS topic ARN nor an email address; allowed: \
             arn:aws:sns:REGION:ACCOUNT:NAME, or an address such as ops@example.com"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_takes_a_topic_arn_or_an_email_address() {
        assert_eq!(
            notify("arn:aws:sns:us-east-1:123456789012:ops"),
            Ok(Notify::Topic(
                "arn:aws:sns:us-east-1:123456789012:ops".into()
            ))
        );
        assert_eq!(
            notify("ops@example.com"),
            Ok(Notify::Email("ops@example.com".into()))
        );
        assert!(notify("arn:aws:sqs:us-east-1:123456789012:ops").is_err());
        assert!(notify("arn:aws:sns:us-east-1:1234:ops").is_err());
        assert!(notify("ops").unwrap_err().contains("neither"));
        assert!(notify("ops@localhost").is_err());
        assert!(notify("o ps@example.com").is_err());
    }
}
