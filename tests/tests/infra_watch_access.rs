//! `infra/template.yaml` and `infra/leaver-forwarder.yaml` for watch-access (issue 16): the
//! CloudTrail rules (state and pattern), the function's least-privilege role, the scheduler role,
//! and the credentials secrets' resource policies — which must be the document the function
//! compares them with. Standalone: reads files only.

use serde_norway::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join("infra").join(name)).expect("template");
    serde_norway::from_str(&text).expect("YAML")
}

fn untagged(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => untagged(&t.value),
        other => other,
    }
}

fn get<'a>(v: &'a Value, key: &str) -> &'a Value {
    untagged(v)
        .as_mapping()
        .and_then(|m| m.get(key))
        .unwrap_or_else(|| panic!("no `{key}` in {v:?}"))
}

fn strs(v: &Value) -> Vec<String> {
    match untagged(v) {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(s) => s.iter().flat_map(strs).collect(),
        _ => Vec::new(),
    }
}

/// Every string anywhere in `v` (tag arguments included), for "names this resource" checks.
fn all_strings(v: &Value, out: &mut Vec<String>) {
    match untagged(v) {
        Value::String(s) => out.push(s.clone()),
        Value::Sequence(s) => s.iter().for_each(|i| all_strings(i, out)),
        Value::Mapping(m) => m.iter().for_each(|(k, i)| {
            all_strings(k, out);
            all_strings(i, out)
        }),
        _ => {}
    }
}

fn resource<'a>(t: &'a Value, id: &str) -> &'a Value {
    let resources = untagged(get(t, "Resources"))
        .as_mapping()
        .expect("Resources");
    if let Some(r) = resources.get(id) {
        return r;
    }
    for (k, v) in resources {
        if k.as_str().is_some_and(|k| k.starts_with("Fn::ForEach::"))
            && let Some(r) = untagged(&untagged(v).as_sequence().expect("ForEach")[2])
                .as_mapping()
                .and_then(|m| m.get(id))
        {
            return r;
        }
    }
    panic!("no resource {id}")
}

fn statements(role: &Value) -> Vec<&Value> {
    let policies = untagged(get(get(role, "Properties"), "Policies"))
        .as_sequence()
        .expect("Policies");
    policies
        .iter()
        .flat_map(|p| {
            untagged(get(get(p, "PolicyDocument"), "Statement"))
                .as_sequence()
                .unwrap()
                .iter()
        })
        .collect()
}

#[test]
fn the_reads_rule_receives_read_only_cloudtrail_events_for_the_function() {
    let t = load("template.yaml");
    let rule = get(resource(&t, "WatchAccessReadsRule"), "Properties");
    // A plain ENABLED rule never receives GetSecretValue (a read-only management event).
    assert_eq!(
        strs(get(rule, "State")),
        ["ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"]
    );
    let pattern = get(rule, "EventPattern");
    assert_eq!(strs(get(pattern, "source")), ["aws.secretsmanager"]);
    assert_eq!(
        strs(get(pattern, "detail-type")),
        ["AWS API Call via CloudTrail"]
    );
    let mut names = strs(get(get(pattern, "detail"), "eventName"));
    names.sort();
    assert_eq!(
        names,
        [
            "BatchGetSecretValue",
            "DeleteResourcePolicy",
            "GetSecretValue",
            "PutResourcePolicy"
        ]
    );
    let mut targets = Vec::new();
    all_strings(get(rule, "Targets"), &mut targets);
    assert!(
        targets.iter().any(|s| s == "WatchAccessFunction.Arn"),
        "{targets:?}"
    );
    // Lambda lets the rule invoke the function.
    let perm = get(resource(&t, "WatchAccessReadsPermission"), "Properties");
    assert_eq!(strs(get(perm, "Principal")), ["events.amazonaws.com"]);
}

#[test]
fn the_leaver_rule_takes_what_the_us_east_1_forwarder_sends() {
    let t = load("template.yaml");
    let rule = get(resource(&t, "WatchAccessLeaverRule"), "Properties");
    let pattern = get(rule, "EventPattern");
    let sources = strs(get(pattern, "source"));
    let names = strs(get(get(pattern, "detail"), "eventName"));
    assert_eq!(names, ["DeleteUser"]);
    let f = load("leaver-forwarder.yaml");
    let fwd = get(resource(&f, "ForwardDeleteUser"), "Properties");
    let fp = get(fwd, "EventPattern");
    for s in strs(get(fp, "source")) {
        assert!(sources.contains(&s), "the main rule drops forwarded {s}");
    }
    assert_eq!(
        strs(get(fp, "detail-type")),
        strs(get(pattern, "detail-type"))
    );
    assert_eq!(strs(get(get(fp, "detail"), "eventName")), names);
    // The forwarder puts on the target region's default bus with a role allowed exactly that.
    let mut target = Vec::new();
    all_strings(get(fwd, "Targets"), &mut target);
    assert!(
        target.iter().any(|s| s.contains(":event-bus/default")),
        "{target:?}"
    );
    let role = resource(&f, "ForwarderRole");
    let st = statements(role);
    assert_eq!(st.len(), 1);
    assert_eq!(strs(get(st[0], "Action")), ["events:PutEvents"]);
}

#[test]
fn the_function_role_is_least_privilege_and_never_reads_a_secret() {
    let t = load("template.yaml");
    let role = resource(&t, "WatchAccessRole");
    let mut actions: Vec<String> = Vec::new();
    for s in statements(role) {
        let a = strs(get(s, "Action"));
        assert!(
            a.iter()
                .all(|a| !a.contains('*') || a == "kms:GenerateDataKey*"),
            "{a:?}"
        );
        let mut res = Vec::new();
        all_strings(get(s, "Resource"), &mut res);
        assert!(!res.iter().any(|r| r == "*"), "wildcard resource for {a:?}");
        let sid = strs(get(s, "Sid")).join("");
        if a.iter().any(|a| a.starts_with("secretsmanager:")) {
            let mut sm = a.clone();
            sm.sort();
            assert_eq!(
                sm,
                [
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetResourcePolicy",
                    "secretsmanager:RotateSecret"
                ],
                "{sid}"
            );
            // Exactly the watched secrets: the created one or the listed ones.
            assert!(
                res.contains(&"CredentialsSecret".to_owned())
                    && res.contains(&"CredentialsSecretArns".to_owned()),
                "{res:?}"
            );
        }
        if a.iter().any(|a| a.starts_with("scheduler:")) {
            assert!(
                res.iter()
                    .any(|r| r.contains(":schedule/${WatchAccessScheduleGroup}/*")),
                "{res:?}"
            );
        }
        if a.contains(&"iam:PassRole".to_owned()) {
            assert_eq!(a, ["iam:PassRole"]);
            assert_eq!(res, ["WatchAccessSchedulerRole.Arn"]);
            let cond = get(get(s, "Condition"), "StringEquals");
            assert_eq!(
                strs(get(cond, "iam:PassedToService")),
                ["scheduler.amazonaws.com"]
            );
        }
        if a.iter().any(|a| a.starts_with("dynamodb:")) {
            let keys = strs(get(
                get(get(s, "Condition"), "ForAllValues:StringLike"),
                "dynamodb:LeadingKeys",
            ));
            assert_eq!(keys, ["access#*", "access-read#*", "alert#access/*"]);
        }
        actions.extend(a);
    }
    assert!(!actions.iter().any(|a| a == "secretsmanager:GetSecretValue"));
    for needed in [
        "scheduler:CreateSchedule",
        "sns:Publish",
        "dynamodb:PutItem",
        "iam:PassRole",
    ] {
        assert!(
            actions.iter().any(|a| a == needed),
            "{needed} missing: {actions:?}"
        );
    }
    // The scheduler role may invoke this function and nothing else.
    let sched = get(
        get(resource(&t, "WatchAccessSchedulerPolicy"), "Properties"),
        "PolicyDocument",
    );
    let st = untagged(get(sched, "Statement")).as_sequence().unwrap();
    let invoke: Vec<&Value> = st
        .iter()
        .filter(|s| strs(get(s, "Action")) == ["lambda:InvokeFunction"])
        .collect();
    assert_eq!(invoke.len(), 1);
    assert_eq!(
        strs(get(invoke[0], "Resource")),
        ["WatchAccessFunction.Arn"]
    );
}

#[test]
fn every_credentials_secret_gets_the_policy_the_function_compares_with() {
    let t = load("template.yaml");
    let function_env = get(
        get(
            get(resource(&t, "WatchAccessFunction"), "Properties"),
            "Environment",
        ),
        "Variables",
    );
    let mut workload = Vec::new();
    all_strings(get(function_env, "WORKLOAD_ROLE_ARNS"), &mut workload);
    let workload: Vec<&String> = workload
        .iter()
        .filter(|s| s.ends_with("Role.Arn"))
        .collect();
    assert_eq!(workload.len(), 3, "{workload:?}");
    let expected = watch_access::policy::expected(&["arn:x".to_owned()]);
    let e = &expected["Statement"][0];
    for id in [
        "CredentialsSecretPolicy",
        "ExistingSecretPolicy&{SecretArn}",
    ] {
        let p = get(resource(&t, id), "Properties");
        assert_eq!(
            strs(get(p, "BlockPublicPolicy")),
            Vec::<String>::new(),
            "a boolean, not a string"
        );
        let doc = get(p, "ResourcePolicy");
        let st = untagged(get(doc, "Statement"))
            .as_sequence()
            .expect("statements");
        assert_eq!(st.len(), 1, "{id}: one statement, as the function expects");
        let s = &st[0];
        for key in ["Sid", "Effect", "Principal", "Action", "Resource"] {
            assert_eq!(strs(get(s, key)), [e[key].as_str().unwrap()], "{id}: {key}");
        }
        // Denies reading only: the policy management stays open (or the stack locks itself out).
        assert_eq!(strs(get(s, "Action")), ["secretsmanager:GetSecretValue"]);
        let mut allowed = Vec::new();
        all_strings(
            get(get(get(s, "Condition"), "ArnNotLike"), "aws:PrincipalArn"),
            &mut allowed,
        );
        for w in &workload {
            assert!(allowed.contains(w), "{id} does not let {w} read");
        }
        for param in ["BreakGlassRoleArn", "TrustedReaderArns"] {
            assert!(allowed.iter().any(|a| a == param), "{id} ignores {param}");
        }
        // Never an empty string in the list (an empty optional parameter falls back to a role).
        assert!(!allowed.iter().any(|a| a.is_empty()), "{id}: {allowed:?}");
    }
    let mut fe = Vec::new();
    all_strings(function_env, &mut fe);
    for param in [
        "BreakGlassRoleArn",
        "TrustedReaderArns",
        "ExposureRotateAfterMinutes",
        "ReaderRetentionDays",
    ] {
        assert!(
            fe.iter().any(|s| s == param),
            "the function is not told {param}"
        );
    }
}
