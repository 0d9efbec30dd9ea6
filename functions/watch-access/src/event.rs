//! The events `watch-access` understands, parsed once at the edge (pure: no AWS, no I/O).
//!
//! - CloudTrail records as EventBridge delivers them (`detail-type` "AWS API Call via
//!   CloudTrail", the record under `detail`): Secrets Manager's `GetSecretValue`,
//!   `BatchGetSecretValue`, `PutResourcePolicy`, `DeleteResourcePolicy`; IAM's `DeleteUser`
//!   (forwarded from us-east-1); IAM Identity Center's `DeleteUser`.
//! - `{"rotateSecret": "<ARN>"}` from the one-time schedule of a delayed rotation.
//! - `{"check": "access-policies"}` (the daily schedule's input): compare the policies.
//!
//! Anything else is [`Incoming::Ignored`] with the reason, logged by the handler and answered
//! Ok: an event nobody can act on must never become an error that Lambda retries.

use crate::identity::{Principal, Trust, principal};
use serde_json::Value;
use time::OffsetDateTime;

/// What a CloudTrail identifier names among the watched secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    arns: Vec<String>,
}

impl Watched {
    /// Over the full ARNs of the watched secrets.
    pub fn new(arns: Vec<String>) -> Self {
        Self { arns }
    }

    /// Every watched ARN.
    pub fn all(&self) -> &[String] {
        &self.arns
    }

    /// The watched secret `id` names, if any. CloudTrail shows the identifier as the caller gave
    /// it: the full ARN, a partial ARN (without Secrets Manager's `-XXXXXX` suffix) or the name.
    pub fn resolve(&self, id: &str) -> Option<&str> {
        let id = id.trim();
        self.arns
            .iter()
            .find(|arn| {
                let arn = arn.as_str();
                if id == arn {
                    return true;
                }
                let base = strip_suffix(arn);
                if id == base {
                    return true;
                }
                let name = secret_name(arn);
                id == name || id == strip_suffix_name(name)
            })
            .map(String::as_str)
    }
}

/// The name part of a secret ARN, with its suffix (`prod/suomifi-AbCdEf`).
pub fn secret_name(arn: &str) -> &str {
    arn.split_once(":secret:").map_or(arn, |(_, n)| n)
}

/// The secret's name as people know it: the ARN's name part without Secrets Manager's `-XXXXXX`
/// suffix (`prod/suomifi`).
pub fn display_name(arn: &str) -> &str {
    strip_suffix_name(secret_name(arn))
}

fn strip_suffix_name(name: &str) -> &str {
    match name.rsplit_once('-') {
        Some((base, suffix))
            if suffix.len() == 6 && suffix.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            base
        }
        _ => name,
    }
}

fn strip_suffix(arn: &str) -> &str {
    let name = secret_name(arn);
    let base = strip_suffix_name(name);
    &arn[..arn.len() - (name.len() - base.len())]
}

/// One read of the password, attributed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// The secret (its full ARN).
    pub secret: String,
    /// The version or stage the caller asked for, if not the current one.
    pub asked_for: Option<String>,
}

/// A parsed event.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A person read one or more watched secrets.
    Exposure {
        /// CloudTrail's `eventID` (one ledger entry per read, whatever the redeliveries).
        event_id: String,
        /// When.
        at: OffsetDateTime,
        /// Who.
        person: crate::identity::Person,
        /// What.
        reads: Vec<Read>,
        /// `GetSecretValue` or `BatchGetSecretValue`.
        event_name: String,
        /// Whether some of the reads could not be attributed (a `BatchGetSecretValue` by
        /// filter): then every watched secret counts as read.
        by_filter: bool,
    },
    /// Someone other than the stack changed a watched secret's resource policy.
    PolicyChanged {
        /// The secret.
        secret: String,
        /// Who.
        by: String,
        /// `PutResourcePolicy` or `DeleteResourcePolicy`.
        event_name: String,
        /// When.
        at: OffsetDateTime,
    },
    /// An IAM user was deleted.
    IamUserDeleted {
        /// `requestParameters.userName`.
        user_name: String,
        /// When.
        at: OffsetDateTime,
        /// Who deleted them (for the notification).
        by: String,
    },
    /// An IAM Identity Center user was deleted. Its CloudTrail record names the user by id, not
    /// by the user name the sessions carry, so any Identity Center reader may be the one.
    IdentityCenterUserDeleted {
        /// The user name if the record carried one.
        user_name: Option<String>,
        /// The user id.
        user_id: Option<String>,
        /// When.
        at: OffsetDateTime,
    },
    /// The one-time schedule of a delayed rotation fired.
    RotateSecret(String),
    /// The daily comparison of the resource policies.
    CheckPolicies,
    /// Nothing to do; the reason is logged.
    Ignored(String),
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

fn event_time(detail: &Value, envelope: &Value) -> Option<OffsetDateTime> {
    let t = str_at(detail, &["eventTime"]).or_else(|| str_at(envelope, &["time"]))?;
    OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
}

/// Parses `event` (any JSON) for a stack watching `watched` and trusting `trust`.
pub fn parse(event: &Value, watched: &Watched, trust: &Trust) -> Incoming {
    if let Some(arn) = event.get("rotateSecret") {
        return match arn.as_str().and_then(|a| watched.resolve(a)) {
            Some(a) => Incoming::RotateSecret(a.to_owned()),
            None => Incoming::Ignored(format!("rotateSecret names no watched secret: {arn}")),
        };
    }
    if str_at(event, &["check"]) == Some("access-policies") {
        return Incoming::CheckPolicies;
    }
    let detail_type = str_at(event, &["detail-type"]).unwrap_or_default();
    if detail_type != "AWS API Call via CloudTrail" {
        return Incoming::Ignored(if detail_type.is_empty() {
            "not a CloudTrail event".into()
        } else {
            format!("detail-type `{detail_type}`")
        });
    }
    let Some(detail) = event.get("detail").filter(|d| d.is_object()) else {
        return Incoming::Ignored("CloudTrail event without a detail".into());
    };
    let name = str_at(detail, &["eventName"]).unwrap_or_default();
    let source = str_at(detail, &["eventSource"]).unwrap_or_default();
    let Some(at) = event_time(detail, event) else {
        return Incoming::Ignored(format!("{name}: no readable eventTime"));
    };
    if let Some(code) = str_at(detail, &["errorCode"]) {
        // A refused call exposed nothing and changed nothing.
        return Incoming::Ignored(format!("{name} failed with {code}"));
    }
    let identity = detail.get("userIdentity").cloned().unwrap_or(Value::Null);
    let params = detail
        .get("requestParameters")
        .cloned()
        .unwrap_or(Value::Null);
    match (source, name) {
        ("secretsmanager.amazonaws.com", "GetSecretValue" | "BatchGetSecretValue") => {
            let person = match principal(&identity, trust) {
                Principal::Person(p) => p,
                Principal::Workload(a) => {
                    return Incoming::Ignored(format!("{name} by workload role {a}"));
                }
                Principal::Trusted(a) => {
                    return Incoming::Ignored(format!("{name} by trusted reader {a}"));
                }
                Principal::Service(s) => {
                    return Incoming::Ignored(format!("{name} by AWS service {s}"));
                }
            };
            let asked_for = str_at(&params, &["versionId"])
                .or_else(|| str_at(&params, &["versionStage"]).filter(|s| *s != "AWSCURRENT"))
                .map(str::to_owned);
            let mut ids: Vec<&str> = Vec::new();
            if let Some(id) = str_at(&params, &["secretId"]) {
                ids.push(id);
            }
            if let Some(list) = params.get("secretIdList").and_then(Value::as_array) {
                ids.extend(list.iter().filter_map(Value::as_str));
            }
            let by_filter = name == "BatchGetSecretValue"
                && (params.get("filters").is_some() || ids.is_empty());
            let mut secrets: Vec<&str> = if by_filter {
                // Which secrets a filter returned is not in the record: count every watched one.
                watched.all().iter().map(String::as_str).collect()
            } else {
                ids.iter().filter_map(|id| watched.resolve(id)).collect()
            };
            secrets.sort_unstable();
            secrets.dedup();
            if secrets.is_empty() {
                return Incoming::Ignored(format!("{name} of no watched secret"));
            }
            let event_id = str_at(detail, &["eventID"])
                .or_else(|| str_at(event, &["id"]))
                .unwrap_or("no-event-id")
                .to_owned();
            Incoming::Exposure {
                event_id,
                at,
                person,
                reads: secrets
                    .into_iter()
                    .map(|s| Read {
                        secret: s.to_owned(),
                        asked_for: asked_for.clone(),
                    })
                    .collect(),
                event_name: name.to_owned(),
                by_filter,
            }
        }
        ("secretsmanager.amazonaws.com", "PutResourcePolicy" | "DeleteResourcePolicy") => {
            let Some(secret) = str_at(&params, &["secretId"]).and_then(|id| watched.resolve(id))
            else {
                return Incoming::Ignored(format!("{name} of no watched secret"));
            };
            // The stack sets the policy through CloudFormation (AWS::SecretsManager::
            // ResourcePolicy): CloudTrail shows the deploying principal invoked by CloudFormation.
            if str_at(&identity, &["invokedBy"]) == Some("cloudformation.amazonaws.com") {
                return Incoming::Ignored(format!("{name} by the stack (CloudFormation)"));
            }
            let by = match principal(&identity, &Trust::default()) {
                Principal::Person(p) => p.display,
                Principal::Workload(a) | Principal::Trusted(a) | Principal::Service(a) => a,
            };
            Incoming::PolicyChanged {
                secret: secret.to_owned(),
                by,
                event_name: name.to_owned(),
                at,
            }
        }
        ("iam.amazonaws.com", "DeleteUser") => match str_at(&params, &["userName"]) {
            Some(u) if !u.is_empty() => Incoming::IamUserDeleted {
                user_name: u.to_owned(),
                at,
                by: match principal(&identity, &Trust::default()) {
                    Principal::Person(p) => p.display,
                    Principal::Workload(a) | Principal::Trusted(a) | Principal::Service(a) => a,
                },
            },
            _ => Incoming::Ignored("DeleteUser without a userName".into()),
        },
        ("sso-directory.amazonaws.com" | "identitystore.amazonaws.com", "DeleteUser") => {
            Incoming::IdentityCenterUserDeleted {
                user_name: str_at(&params, &["userName"]).map(str::to_owned),
                user_id: str_at(&params, &["userId"]).map(str::to_owned),
                at,
            }
        }
        _ => Incoming::Ignored(format!("CloudTrail {source} {name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:secretsmanager:eu-north-1:123456789012:secret:suomifi/prod-AbCdEf";

    fn watched() -> Watched {
        Watched::new(vec![
            ARN.into(),
            "arn:aws:secretsmanager:eu-north-1:123456789012:secret:suomifi/qa-GhIjKl".into(),
        ])
    }

    fn trust() -> Trust {
        Trust {
            workload: vec!["arn:aws:iam::123456789012:role/stack-CheckRetrievalRole-BBB".into()],
            trusted: vec![],
        }
    }

    fn fixture(name: &str) -> Value {
        let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect("json")
    }

    #[test]
    fn secret_identifiers_match_by_arn_partial_arn_or_name() {
        let w = watched();
        for id in [
            ARN,
            "arn:aws:secretsmanager:eu-north-1:123456789012:secret:suomifi/prod",
            "suomifi/prod",
            " suomifi/prod-AbCdEf",
        ] {
            assert_eq!(w.resolve(id), Some(ARN), "{id}");
        }
        for id in [
            "suomifi/pro",
            "suomifi/prod-other",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:suomifi/prod",
            "",
        ] {
            assert_eq!(w.resolve(id), None, "{id}");
        }
    }

    #[test]
    fn a_console_read_by_a_person_is_an_exposure_of_that_secret() {
        let Incoming::Exposure {
            person,
            reads,
            event_id,
            by_filter,
            ..
        } = parse(
            &fixture("cloudtrail-GetSecretValue-sso.json"),
            &watched(),
            &trust(),
        )
        else {
            panic!("an exposure")
        };
        assert!(
            person.display.contains("(Identity Center"),
            "{}",
            person.display
        );
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0].secret, ARN);
        assert!(!event_id.is_empty());
        assert!(!by_filter);
    }

    #[test]
    fn a_batch_read_names_its_secrets_and_a_filter_counts_as_every_secret() {
        let Incoming::Exposure { reads, .. } = parse(
            &fixture("cloudtrail-BatchGetSecretValue.json"),
            &watched(),
            &trust(),
        ) else {
            panic!("an exposure")
        };
        assert_eq!(reads.len(), 1, "{reads:?}");
        let mut e = fixture("cloudtrail-BatchGetSecretValue.json");
        e["detail"]["requestParameters"] =
            json!({"filters": [{"key": "name", "values": ["suomifi"]}]});
        let Incoming::Exposure {
            reads, by_filter, ..
        } = parse(&e, &watched(), &trust())
        else {
            panic!("an exposure")
        };
        assert!(by_filter);
        assert_eq!(reads.len(), 2);
    }

    #[test]
    fn workload_reads_refused_calls_and_strangers_are_ignored() {
        let own = parse(
            &fixture("cloudtrail-GetSecretValue-workload.json"),
            &watched(),
            &trust(),
        );
        assert!(
            matches!(own, Incoming::Ignored(ref r) if r.contains("workload")),
            "{own:?}"
        );
        let mut denied = fixture("cloudtrail-GetSecretValue-sso.json");
        denied["detail"]["errorCode"] = json!("AccessDenied");
        assert!(matches!(
            parse(&denied, &watched(), &trust()),
            Incoming::Ignored(_)
        ));
        let mut other = fixture("cloudtrail-GetSecretValue-sso.json");
        other["detail"]["requestParameters"]["secretId"] = json!("someone/else");
        assert!(matches!(
            parse(&other, &watched(), &trust()),
            Incoming::Ignored(_)
        ));
        for junk in [
            json!({}),
            json!([1, 2]),
            json!({"detail-type": "AWS API Call via CloudTrail", "detail": "x"}),
            json!({"detail-type": "Scheduled Event", "detail": {}}),
            json!({"rotateSecret": "arn:aws:secretsmanager:eu-north-1:1:secret:nope-AAAAAA"}),
        ] {
            assert!(
                matches!(parse(&junk, &watched(), &trust()), Incoming::Ignored(_)),
                "{junk}"
            );
        }
    }

    #[test]
    fn leaver_policy_and_schedule_events_parse() {
        assert!(matches!(
            parse(&fixture("cloudtrail-iam-DeleteUser.json"), &watched(), &trust()),
            Incoming::IamUserDeleted { ref user_name, .. } if user_name == "matti"
        ));
        assert!(matches!(
            parse(&fixture("cloudtrail-PutResourcePolicy.json"), &watched(), &trust()),
            Incoming::PolicyChanged { ref secret, .. } if secret == ARN
        ));
        let mut by_stack = fixture("cloudtrail-PutResourcePolicy.json");
        by_stack["detail"]["userIdentity"]["invokedBy"] = json!("cloudformation.amazonaws.com");
        assert!(matches!(
            parse(&by_stack, &watched(), &trust()),
            Incoming::Ignored(_)
        ));
        assert_eq!(
            parse(
                &json!({"rotateSecret": "suomifi/prod"}),
                &watched(),
                &trust()
            ),
            Incoming::RotateSecret(ARN.into())
        );
        assert_eq!(
            parse(
                &fixture("scheduler-access-policies.json"),
                &watched(),
                &trust()
            ),
            Incoming::CheckPolicies
        );
    }
}
