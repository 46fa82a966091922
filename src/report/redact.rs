//! Redacting a case's report entry where its text is: each string, header and body once, as it
//! is, instead of turning the whole entry into a `serde_json::Value` and back (which cost a run
//! of many cases more than judging them).
//!
//! Fail-closed by construction: every impl below takes its struct apart with an exhaustive
//! pattern, so a field added to a report type does not compile until it is redacted here (or
//! said to hold no text). Enum fields (`outcome`, `status`) hold only the type's own words and
//! are left alone, so no redacted word can ever make an entry unreadable.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use super::body::{HeaderList, JsonText};
use super::model::{AttemptSummary, CaseResult, ExchangeSummary};
use crate::judge::{CheckResult, Ending, StepEnding};
use crate::redact::{MASK, Redactor, is_sensitive_header};

/// A value whose text may carry a secret, redacted in place.
pub trait Redact {
    fn redact(&mut self, r: &Redactor);
}

impl Redact for String {
    fn redact(&mut self, r: &Redactor) {
        if let Cow::Owned(s) = r.text(self) {
            *self = s;
        }
    }
}

impl<T: Redact> Redact for Option<T> {
    fn redact(&mut self, r: &Redactor) {
        if let Some(v) = self {
            v.redact(r);
        }
    }
}

impl<T: Redact> Redact for Vec<T> {
    fn redact(&mut self, r: &Redactor) {
        for v in self {
            v.redact(r);
        }
    }
}

impl Redact for CaseResult {
    fn redact(&mut self, r: &Redactor) {
        let CaseResult {
            target,
            suite,
            case,
            feature,
            outcome: _,
            reason,
            step,
            duration_ms: _,
            http_status: _,
            warnings,
            notes,
            // Numbers only.
            timings: _,
            checks,
            checks_passed: _,
            exchanges,
            repeats: _,
            flaky: _,
            // Derived from the client catalogue (shipped data), never from the endpoint.
            impact: _,
            missing_model,
        } = self;
        for s in [target, suite, case, feature] {
            s.redact(r);
        }
        reason.redact(r);
        step.redact(r);
        missing_model.redact(r);
        warnings.redact(r);
        notes.redact(r);
        checks.redact(r);
        exchanges.redact(r);
    }
}

impl Redact for ExchangeSummary {
    fn redact(&mut self, r: &Redactor) {
        let ExchangeSummary {
            step,
            method,
            url,
            request_headers,
            request_body,
            status: _,
            response_headers,
            response_body,
            transport_error,
            // Counts only.
            stream_cut: _,
            attempts,
        } = self;
        for s in [step, method, url] {
            s.redact(r);
        }
        request_headers.redact(r);
        request_body.redact(r);
        response_headers.redact(r);
        response_body.redact(r);
        transport_error.redact(r);
        attempts.redact(r);
    }
}

impl Redact for AttemptSummary {
    fn redact(&mut self, r: &Redactor) {
        let AttemptSummary {
            attempt: _,
            status: _,
            error,
            duration_ms: _,
            retried_because,
            delay_ms: _,
            delay_source,
        } = self;
        error.redact(r);
        retried_because.redact(r);
        delay_source.redact(r);
    }
}

impl Redact for CheckResult {
    fn redact(&mut self, r: &Redactor) {
        let CheckResult {
            check,
            status: _,
            message,
            at,
            expected,
            actual,
            // The catalogue's deviation ids and client effects: shipped data, never the endpoint's.
            impact: _,
            deviations: _,
            clients: _,
        } = self;
        check.redact(r);
        message.redact(r);
        at.redact(r);
        expected.redact(r);
        actual.redact(r);
    }
}

impl Redact for Ending {
    fn redact(&mut self, r: &Redactor) {
        match self {
            Ending::Decided { outcome: _, reason } | Ending::NotPrepared { reason } => {
                reason.redact(r)
            }
            Ending::Crashed { message } => message.redact(r),
            Ending::Ran {
                many_steps: _,
                stopped,
                failed_after,
            } => {
                stopped.redact(r);
                failed_after.redact(r);
            }
        }
    }
}

impl Redact for StepEnding {
    fn redact(&mut self, r: &Redactor) {
        let StepEnding {
            name,
            outcome: _,
            reason,
            attempts: _,
        } = self;
        name.redact(r);
        reason.redact(r);
    }
}

impl Redact for HeaderList {
    /// Names and values scanned, a credential header's value masked (as in any JSON object the
    /// redactor sees).
    fn redact(&mut self, r: &Redactor) {
        let mut renamed = false;
        for (k, v) in &mut self.0 {
            if is_sensitive_header(k) {
                if v != MASK {
                    *v = MASK.to_string();
                }
            } else {
                v.redact(r);
            }
            if let Cow::Owned(name) = r.text(k) {
                *k = name;
                renamed = true;
            }
        }
        if renamed {
            // Sorted and one value per name again, as the list promises.
            *self = std::mem::take(&mut self.0).into_iter().collect();
        }
    }
}

impl Redact for JsonText {
    /// One scan of the compact text finds whether redaction could change anything; only then
    /// is the body parsed and redacted string by string (the masked text must stay valid
    /// JSON, and a credential-named member is masked whatever it holds).
    ///
    /// The scan is exact: serde_json writes every string as its characters between quotes, so
    /// a secret or a key shape inside one string is in the text as it is, with a quote (not a
    /// word character) on each side; the only exceptions are escaped characters, and a text
    /// with any escape takes the careful path.
    fn redact(&mut self, r: &Redactor) {
        let text = self.as_str();
        let clean = !text.contains('\\')
            && !credential_member().is_match(text)
            && matches!(r.text(text), Cow::Borrowed(_));
        if clean {
            return;
        }
        let mut v = self.value();
        r.json(&mut v);
        *self = JsonText::new(&v);
    }
}

/// Any name a credential header can have ([`crate::redact::SENSITIVE_HEADERS`]: each contains
/// one of these), in any case.
fn credential_member() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?i)authorization|api-key|cookie").expect("a valid pattern"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::judge::{CheckStatus, Outcome};
    use crate::redact::{SENSITIVE_HEADERS, SecretRegistry};

    const CANARY: &str = "canary-Rd8xQwP3vT9zLk2";

    fn redactor() -> Redactor {
        let r = SecretRegistry::default();
        r.add(CANARY);
        Redactor::new(r)
    }

    /// An entry with the canary (and key shapes) in every field that holds text.
    fn laden() -> CaseResult {
        let c = |s: &str| format!("{s} {CANARY} sk-proj-ABCDEFGHIJKLMNOPQRST");
        let body = |s: &str| {
            JsonText::new(&json!({
                "echo": c(s),
                "Authorization": "Bearer x",
                "nested": [{"api-key": 7, "ok": "fine"}],
                "escaped": format!("a\"{CANARY}\"\n"),
            }))
        };
        let headers = |s: &str| -> HeaderList {
            [
                ("authorization".to_string(), "Bearer abc".to_string()),
                ("x-echo".to_string(), c(s)),
            ]
            .into_iter()
            .collect()
        };
        CaseResult {
            target: c("target"),
            suite: c("suite"),
            case: c("case"),
            feature: c("feature"),
            outcome: Outcome::Fail,
            reason: Some(c("reason")),
            step: Some(c("step")),
            duration_ms: 1,
            http_status: Some(200),
            warnings: vec![c("warning")],
            notes: Some(c("notes")),
            impact: None,
            missing_model: Some(c("role")),
            timings: None,
            checks: vec![CheckResult {
                check: c("check"),
                status: CheckStatus::Fail,
                message: c("message"),
                at: Some(c("at")),
                expected: Some(c("expected")),
                actual: Some(c("actual")),
                impact: None,
                deviations: Vec::new(),
                clients: Vec::new(),
            }],
            checks_passed: 0,
            exchanges: vec![ExchangeSummary {
                step: c("step"),
                method: c("method"),
                url: format!("http://h/v1/chat?key={CANARY}"),
                request_headers: headers("request"),
                request_body: Some(body("request")),
                status: Some(200),
                response_headers: headers("response"),
                response_body: Some(JsonText::new(&json!(c("text body")))),
                transport_error: Some(c("transport")),
                stream_cut: None,
                attempts: vec![AttemptSummary {
                    attempt: 1,
                    status: None,
                    error: Some(c("error")),
                    duration_ms: 1,
                    retried_because: Some(c("because")),
                    delay_ms: None,
                    delay_source: Some(c("source")),
                }],
            }],
            repeats: vec![],
            flaky: false,
        }
    }

    #[test]
    fn every_field_is_redacted_as_the_value_round_trip_does() {
        let r = redactor();
        let mut entry = laden();
        entry.redact(&r);
        let text = serde_json::to_string(&entry).unwrap();
        assert!(!text.contains("Rd8xQwP3vT9zLk2"), "{text}");
        assert!(!text.contains("ABCDEFGHIJKLMNOP"), "{text}");
        assert!(
            !text.contains("Bearer x") && !text.contains("Bearer abc"),
            "{text}"
        );
        assert!(text.contains(r#""api-key":"***""#) || text.contains(r#""api-key":7"#));
        assert!(text.contains(r#""ok":"fine""#), "{text}");
        // Exactly what redacting its JSON form gives.
        assert_eq!(entry, r.value(laden()));
    }

    #[test]
    fn a_header_named_with_a_secret_is_renamed_and_the_list_stays_sorted() {
        let r = redactor();
        let mut h: HeaderList = [
            (format!("x-{CANARY}"), "1".to_string()),
            ("a".to_string(), "2".to_string()),
        ]
        .into_iter()
        .collect();
        h.redact(&r);
        let names: Vec<&String> = h.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["a", "x-***"]);
    }

    #[test]
    fn a_clean_body_is_kept_as_it_is_and_a_credential_member_is_masked() {
        let r = redactor();
        let mut clean = JsonText::new(&json!({"model": "m", "messages": [{"content": "hi"}]}));
        let before = clean.clone();
        clean.redact(&r);
        assert_eq!(clean, before);
        for name in SENSITIVE_HEADERS {
            let mut body = JsonText::new(&json!({ name.to_uppercase(): "short" }));
            body.redact(&r);
            assert!(
                !body.as_str().contains("short"),
                "{name}: {}",
                body.as_str()
            );
        }
    }

    #[test]
    fn endings_are_redacted() {
        let r = redactor();
        let mut e = Ending::Ran {
            many_steps: true,
            stopped: Some(StepEnding {
                name: "s".into(),
                outcome: Outcome::Error,
                reason: Some(format!("HTTP 401: {CANARY}")),
                attempts: 1,
            }),
            failed_after: Some(CANARY.into()),
        };
        e.redact(&r);
        assert!(!format!("{e:?}").contains(CANARY), "{e:?}");
        let mut d = Ending::Crashed {
            message: CANARY.into(),
        };
        d.redact(&r);
        assert_eq!(
            d,
            Ending::Crashed {
                message: MASK.into()
            }
        );
    }
}
