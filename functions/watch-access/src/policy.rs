//! The resource policy the stack puts on every credentials secret, and the comparison the daily
//! run makes with what is there (pure: no AWS, no I/O).
//!
//! The policy denies `secretsmanager:GetSecretValue` to every principal whose `aws:PrincipalArn`
//! is not a workload role, a trusted reader or the break-glass role. It denies nothing else:
//! never policy management (`PutResourcePolicy`, `DeleteResourcePolicy`), or the stack — and an
//! administrator repairing it — would lock themselves out. `infra/template.yaml` writes the same
//! document (`CredentialsSecretPolicy`); `tests/tests/infra_template.rs` checks that both agree.

use serde_json::{Map, Value, json};

/// The `Sid` of the one statement.
pub const SID: &str = "OnlyTheWorkloadReadsThePassword";

/// The policy for readers `allowed` (empty entries are dropped, duplicates once).
pub fn expected(allowed: &[String]) -> Value {
    let mut arns: Vec<&str> = allowed
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    arns.sort_unstable();
    arns.dedup();
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": SID,
            "Effect": "Deny",
            "Principal": "*",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": arns}}
        }]
    })
}

/// How the policy in place compares with the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The same (up to JSON formatting, order, and one-element lists written as a scalar).
    Same,
    /// No policy at all: anyone with an IAM permission can read the password.
    Missing,
    /// Another document; the text says how, in a line.
    Different(String),
}

/// Compares `actual` (the `ResourcePolicy` string Secrets Manager returns, if any) with
/// `expected`.
pub fn compare(actual: Option<&str>, expected: &Value) -> Drift {
    let Some(actual) = actual.filter(|a| !a.trim().is_empty()) else {
        return Drift::Missing;
    };
    let Ok(actual) = serde_json::from_str::<Value>(actual) else {
        return Drift::Different("the policy in place is not valid JSON".into());
    };
    let (a, e) = (canonical(&actual), canonical(expected));
    if a == e {
        return Drift::Same;
    }
    let statements = |v: &Value| match v.get("Statement") {
        Some(Value::Array(s)) => s.len(),
        Some(_) => 1,
        None => 0,
    };
    Drift::Different(format!(
        "the policy in place has {} statement(s) and differs from the stack's ({} statement)",
        statements(&a),
        statements(&e)
    ))
}

/// One normal form: object keys sorted (serde_json's map keeps insertion order here, so
/// rebuild sorted), lists of scalars sorted and deduplicated, a one-element list as its element,
/// `"Principal": "*"` as `{"AWS": "*"}`.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                let mut val = canonical(&m[k]);
                if k == "Principal" && val == Value::String("*".into()) {
                    val = json!({"AWS": "*"});
                }
                out.insert(k.clone(), val);
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(canonical).collect();
            if items.iter().all(|i| !i.is_object() && !i.is_array()) {
                items.sort_by_key(|i| i.to_string());
                items.dedup();
            } else {
                items.sort_by_key(|i| i.to_string());
            }
            if items.len() == 1 {
                items.pop().unwrap_or(Value::Null)
            } else {
                Value::Array(items)
            }
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        vec![
            "arn:aws:iam::123456789012:role/b".into(),
            "arn:aws:iam::123456789012:role/a".into(),
            "".into(),
        ]
    }

    #[test]
    fn the_policy_denies_only_reading_and_only_to_the_unlisted() {
        let p = expected(&allowed());
        let s = &p["Statement"][0];
        assert_eq!(s["Effect"], "Deny");
        assert_eq!(s["Action"], "secretsmanager:GetSecretValue");
        assert_eq!(
            s["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
            json!([
                "arn:aws:iam::123456789012:role/a",
                "arn:aws:iam::123456789012:role/b"
            ])
        );
        assert!(!p.to_string().contains("ResourcePolicy"));
    }

    #[test]
    fn the_same_policy_in_another_layout_is_the_same() {
        let e = expected(&allowed());
        // As Secrets Manager may hand it back: other key order, the principal spelled out,
        // the list reordered.
        let back = r#"{"Statement":[{"Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":
            ["arn:aws:iam::123456789012:role/b","arn:aws:iam::123456789012:role/a"]}},
            "Action":["secretsmanager:GetSecretValue"],"Principal":{"AWS":"*"},"Effect":"Deny",
            "Sid":"OnlyTheWorkloadReadsThePassword"}],"Version":"2012-10-17"}"#;
        assert_eq!(compare(Some(back), &e), Drift::Same);
        assert_eq!(compare(Some(&e.to_string()), &e), Drift::Same);
    }

    #[test]
    fn a_missing_widened_or_garbled_policy_is_drift() {
        let e = expected(&allowed());
        assert_eq!(compare(None, &e), Drift::Missing);
        assert_eq!(compare(Some("  "), &e), Drift::Missing);
        let mut wider = e.clone();
        wider["Statement"][0]["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
            .as_array_mut()
            .unwrap()
            .push(json!("arn:aws:iam::123456789012:role/intruder"));
        assert!(matches!(
            compare(Some(&wider.to_string()), &e),
            Drift::Different(_)
        ));
        let mut allow = e.clone();
        allow["Statement"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}));
        assert!(
            matches!(compare(Some(&allow.to_string()), &e), Drift::Different(d) if d.contains("2 statement"))
        );
        assert!(matches!(compare(Some("{"), &e), Drift::Different(_)));
    }
}
