//! Route 53 changes as the model plays them: `PENDING` until every Route 53 server has them
//! ([`crate::timings::DNS_IN_SYNC`] after the change), then `INSYNC`, in the change's own
//! answer and in `GetChange`'s.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::call::Call;
use crate::reply;

/// Change id → when it is in sync.
#[derive(Debug, Default)]
pub struct Changes {
    in_sync: Mutex<HashMap<String, Instant>>,
}

impl Changes {
    /// Notes a change (`at`: when it will be in sync) and rewrites answers about one pending.
    pub fn answer(&self, call: &Call, body: &str, at: Instant) -> Option<String> {
        let id = reply::text_of(body, "Id")?.rsplit('/').next()?.to_owned();
        let mut in_sync = self
            .in_sync
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if call.operation == "ChangeResourceRecordSets" {
            in_sync.insert(id.clone(), at);
        }
        let at = *in_sync.get(&id)?;
        (Instant::now() < at).then(|| reply::with_text(body, "Status", "PENDING"))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::call::Protocol;

    fn call(operation: &str) -> Call {
        Call {
            service: "route53".into(),
            operation: operation.into(),
            protocol: Protocol::Query,
            form: Vec::new(),
            json: None,
        }
    }

    const ANSWER: &str = "<ChangeInfo><Id>/change/C1</Id><Status>INSYNC</Status></ChangeInfo>";

    #[test]
    fn a_change_is_pending_until_every_server_has_it() {
        let changes = Changes::default();
        let later = Instant::now() + Duration::from_secs(60);
        let made = changes.answer(&call("ChangeResourceRecordSets"), ANSWER, later);
        assert!(made.unwrap().contains("<Status>PENDING</Status>"));
        let asked = changes.answer(&call("GetChange"), ANSWER, later);
        assert!(asked.unwrap().contains("PENDING"));
        let unknown = ANSWER.replace("C1", "C2");
        assert_eq!(changes.answer(&call("GetChange"), &unknown, later), None);

        let done = Changes::default();
        let past = Instant::now();
        assert_eq!(
            done.answer(&call("ChangeResourceRecordSets"), ANSWER, past),
            None
        );
    }
}
