//! Who made a call, from CloudTrail's `userIdentity` (pure: no AWS, no I/O).
//!
//! A *person* here is any principal that is not one of the stack's own workload roles, not a
//! trusted reader and not an AWS service acting for itself: an IAM user, a role session (an IAM
//! Identity Center `AWSReservedSSO_*` role names the person in its session name), the root user,
//! a federated user. A role that is not listed as trusted counts too (conservatively: if an
//! unlisted automation role can read the password, someone should hear of it).

use serde_json::Value;

/// The principal behind a CloudTrail record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A person (or an unlisted role session) whose read exposes the password.
    Person(Person),
    /// One of the stack's workload roles (`WORKLOAD_ROLE_ARNS`): expected, nothing to do.
    Workload(String),
    /// A listed trusted reader (`TRUSTED_READER_ARNS`): expected, nothing to do.
    Trusted(String),
    /// An AWS service acting as itself (`userIdentity.type` `AWSService`), e.g. Secrets
    /// Manager's own replication: no person saw anything.
    Service(String),
}

/// A person, as recorded in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    /// Stable identity for "once per person": the IAM user ARN, or the role ARN plus `/` and
    /// the session name.
    pub key: String,
    /// What a notification says: `IAM user alice`, `anna.virtanen@city.fi (Identity Center,
    /// permission set AdministratorAccess)`, `ci-deploy (role Deployer)`.
    pub display: String,
    /// The principal ARN CloudTrail gave (`userIdentity.arn`).
    pub arn: String,
    /// The IAM user name, for an IAM user (what a later `DeleteUser` names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_user: Option<String>,
    /// The session name of an IAM Identity Center session (the person's user name there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_center_user: Option<String>,
    /// The AWS service that made the call on the person's behalf (`invokedBy`), e.g.
    /// `cloudformation.amazonaws.com` resolving a dynamic reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// Who the stack trusts to read the password.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    /// The stack's own function roles.
    pub workload: Vec<String>,
    /// Other readers (the retrieval process's role, ...).
    pub trusted: Vec<String>,
}

impl Trust {
    fn classify_arn(&self, arn: &str) -> Option<Principal> {
        if self.workload.iter().any(|w| same_role(w, arn)) {
            return Some(Principal::Workload(arn.to_owned()));
        }
        if self.trusted.iter().any(|t| same_role(t, arn)) {
            return Some(Principal::Trusted(arn.to_owned()));
        }
        None
    }
}

/// Role ARNs compare exactly, except that a configured ARN without a path matches the same role
/// name with a path (CloudTrail's `sessionIssuer.arn` carries the path; an operator may not).
fn same_role(configured: &str, seen: &str) -> bool {
    if configured == seen {
        return true;
    }
    if configured.contains(['*', '?']) {
        // As the resource policy's `ArnNotLike` reads the same entry.
        return glob(configured.as_bytes(), seen.as_bytes());
    }
    match (configured.split_once(":role/"), seen.split_once(":role/")) {
        (Some((cp, cn)), Some((sp, sn))) => {
            cp == sp && !cn.contains('/') && sn.rsplit('/').next() == Some(cn)
        }
        _ => false,
    }
}

/// `*` (any run of characters) and `?` (one character), as IAM's `ArnLike`.
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().filter(|s| !s.is_empty())
}

/// The principal of a CloudTrail record's `userIdentity` (missing or odd identities are a
/// person called by whatever identifier is there: never silently trusted).
pub fn principal(user_identity: &Value, trust: &Trust) -> Principal {
    let kind = s(user_identity, &["type"]).unwrap_or("Unknown");
    let arn = s(user_identity, &["arn"]).unwrap_or_default().to_owned();
    let via = s(user_identity, &["invokedBy"]).map(str::to_owned);
    if kind == "AWSService" {
        return Principal::Service(via.unwrap_or_else(|| "an AWS service".into()));
    }
    if let Some(p) = trust.classify_arn(&arn) {
        return p;
    }
    let issuer = s(user_identity, &["sessionContext", "sessionIssuer", "arn"]);
    if let Some(issuer) = issuer
        && let Some(p) = trust.classify_arn(issuer)
    {
        return p;
    }
    let mut person = Person {
        key: arn.clone(),
        display: String::new(),
        arn: arn.clone(),
        iam_user: None,
        identity_center_user: None,
        via,
    };
    match kind {
        "IAMUser" => {
            let name = s(user_identity, &["userName"])
                .map(str::to_owned)
                .or_else(|| arn.rsplit('/').next().map(str::to_owned))
                .unwrap_or_default();
            person.display = format!("IAM user {name}");
            person.iam_user = Some(name);
        }
        "AssumedRole" => {
            // arn:aws:sts::123456789012:assumed-role/RoleName/session-name
            let session = arn.rsplit('/').next().unwrap_or_default().to_owned();
            let role_name = s(
                user_identity,
                &["sessionContext", "sessionIssuer", "userName"],
            )
            .map(str::to_owned)
            .or_else(|| arn.split('/').nth(1).map(str::to_owned))
            .unwrap_or_default();
            let issuer = issuer.map(str::to_owned).unwrap_or_else(|| arn.clone());
            person.key = format!("{issuer}/{session}");
            if let Some(set) = role_name.strip_prefix("AWSReservedSSO_") {
                // AWSReservedSSO_<PermissionSet>_<16 hex>
                let set = set.rsplit_once('_').map_or(set, |(s, _)| s);
                person.display = format!("{session} (Identity Center, permission set {set})");
                person.identity_center_user = Some(session);
            } else {
                person.display = format!("{session} (role {role_name})");
            }
        }
        "Root" => person.display = "the account's root user".into(),
        "FederatedUser" => {
            person.display = format!(
                "federated user {}",
                arn.rsplit('/').next().unwrap_or_default()
            )
        }
        other => {
            let id = if arn.is_empty() {
                s(user_identity, &["principalId"])
                    .unwrap_or("an unidentified principal")
                    .to_owned()
            } else {
                arn.clone()
            };
            if person.key.is_empty() {
                person.key = id.clone();
            }
            person.display = format!("{id} ({other})");
        }
    }
    Principal::Person(person)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn trust() -> Trust {
        Trust {
            workload: vec![
                "arn:aws:iam::123456789012:role/stack-RotatePasswordRole-AAA".into(),
                "arn:aws:iam::123456789012:role/stack-CheckRetrievalRole-BBB".into(),
            ],
            trusted: vec!["arn:aws:iam::123456789012:role/retriever".into()],
        }
    }

    #[test]
    fn an_identity_center_session_is_the_person_named_by_its_session() {
        let id = json!({
            "type": "AssumedRole",
            "arn": "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/anna.virtanen@city.fi",
            "sessionContext": {"sessionIssuer": {
                "type": "Role",
                "arn": "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-north-1/AWSReservedSSO_AdministratorAccess_0123456789abcdef",
                "userName": "AWSReservedSSO_AdministratorAccess_0123456789abcdef"}}
        });
        let Principal::Person(p) = principal(&id, &trust()) else {
            panic!("a person")
        };
        assert_eq!(
            p.display,
            "anna.virtanen@city.fi (Identity Center, permission set AdministratorAccess)"
        );
        assert_eq!(
            p.identity_center_user.as_deref(),
            Some("anna.virtanen@city.fi")
        );
        assert!(p.key.ends_with(
            "AWSReservedSSO_AdministratorAccess_0123456789abcdef/anna.virtanen@city.fi"
        ));
    }

    #[test]
    fn an_iam_user_is_named_and_remembered_for_delete_user() {
        let id = json!({"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/people/matti", "userName": "matti"});
        let Principal::Person(p) = principal(&id, &trust()) else {
            panic!("a person")
        };
        assert_eq!(p.display, "IAM user matti");
        assert_eq!(p.iam_user.as_deref(), Some("matti"));
        assert_eq!(p.key, "arn:aws:iam::123456789012:user/people/matti");
    }

    #[test]
    fn workload_and_trusted_role_sessions_are_not_people() {
        let rotation = json!({
            "type": "AssumedRole",
            "arn": "arn:aws:sts::123456789012:assumed-role/stack-RotatePasswordRole-AAA/stack-RotatePasswordFunction-X",
            "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::123456789012:role/stack-RotatePasswordRole-AAA"}}
        });
        assert!(matches!(
            principal(&rotation, &trust()),
            Principal::Workload(_)
        ));
        // A configured ARN without the role's path still matches.
        let retriever = json!({
            "type": "AssumedRole",
            "arn": "arn:aws:sts::123456789012:assumed-role/retriever/i-0abc",
            "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::123456789012:role/service/retriever"}}
        });
        assert!(matches!(
            principal(&retriever, &trust()),
            Principal::Trusted(_)
        ));
        let service = json!({"type": "AWSService", "invokedBy": "secretsmanager.amazonaws.com"});
        assert_eq!(
            principal(&service, &trust()),
            Principal::Service("secretsmanager.amazonaws.com".into())
        );
    }

    #[test]
    fn a_trusted_reader_pattern_matches_like_the_policys_arn_not_like() {
        let t = Trust {
            workload: vec![],
            trusted: vec!["arn:aws:iam::123456789012:role/retrieval-*".into()],
        };
        let id = |role: &str| {
            json!({
                "type": "AssumedRole",
                "arn": format!("arn:aws:sts::123456789012:assumed-role/{role}/s"),
                "sessionContext": {"sessionIssuer": {"arn": format!("arn:aws:iam::123456789012:role/{role}")}}
            })
        };
        assert!(matches!(
            principal(&id("retrieval-prod"), &t),
            Principal::Trusted(_)
        ));
        assert!(matches!(principal(&id("other"), &t), Principal::Person(_)));
        assert!(glob(b"a*c?", b"abbbcd") && !glob(b"a*c", b"abd") && glob(b"*", b""));
    }

    #[test]
    fn an_unlisted_role_or_an_odd_identity_is_never_silently_trusted() {
        let ci = json!({
            "type": "AssumedRole",
            "arn": "arn:aws:sts::123456789012:assumed-role/Deployer/gh-actions",
            "invokedBy": "cloudformation.amazonaws.com",
            "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::123456789012:role/Deployer", "userName": "Deployer"}}
        });
        let Principal::Person(p) = principal(&ci, &trust()) else {
            panic!("a person")
        };
        assert_eq!(p.display, "gh-actions (role Deployer)");
        assert_eq!(p.via.as_deref(), Some("cloudformation.amazonaws.com"));
        let Principal::Person(p) = principal(&json!({}), &trust()) else {
            panic!("a person")
        };
        assert!(p.display.contains("unidentified"), "{}", p.display);
        assert!(!p.key.is_empty());
    }
}
