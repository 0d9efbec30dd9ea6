//! What a real deploy of `infra/template.yaml` depends on, beyond what cfn-lint, `sam validate`
//! and checkov see (issue 13):
//!
//! - safe defaults, enforced: the template's `Rules` evaluated here like CloudFormation does,
//!   for the parameter combinations that must deploy and those that must be refused;
//! - the state table reusable (`ExistingStateTableName`): every reference goes through the
//!   condition;
//! - stacks side by side: `STACK_NAME` on every function, a `Stack` dimension on every alarm and
//!   dashboard series, no account-level singletons;
//! - rotation watched end to end: overdue alarms, rotation turned off, each failure notified in
//!   the chat schema, on-failure destinations;
//! - access: the operator policy grants exactly the actions of the SDK calls `suomifi-ops` makes
//!   (read from its sources and the shared code it runs), the retriever policy only its own;
//! - outputs, tags, permissions boundary, Serverless Application Repository metadata.
//!
//! Standalone: reads files only.

use serde_json::Value as Json;
use serde_norway::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests crate inside the workspace")
        .to_path_buf()
}

fn template() -> Value {
    let path = root().join("infra/template.yaml");
    let text = fs::read_to_string(&path).expect("infra/template.yaml");
    serde_norway::from_str(&text).expect("the template is YAML")
}

/// The value under a short-form tag (`!Ref X` → `X`), or the value itself.
fn untagged(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => untagged(&t.value),
        other => other,
    }
}

/// The function name of a tagged value or a one-key `{"Fn::X": ...}` mapping, and its argument.
fn intrinsic(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let name = if name == "Ref" || name == "Condition" {
                name.to_owned()
            } else {
                format!("Fn::{name}")
            };
            Some((name, &t.value))
        }
        Value::Mapping(m) if m.len() == 1 => {
            let (k, v) = m.iter().next()?;
            let k = k.as_str()?;
            (k == "Ref" || k == "Condition" || k.starts_with("Fn::")).then(|| (k.to_owned(), v))
        }
        _ => None,
    }
}

fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    untagged(v).as_mapping()?.get(key)
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    get(v, key).and_then(|v| untagged(v).as_str())
}

fn seq(v: &Value) -> Vec<&Value> {
    untagged(v)
        .as_sequence()
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

/// Every resource, the resources of `Fn::ForEach` loops included, as (logical id, resource).
fn resources(t: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for (k, v) in untagged(get(t, "Resources").expect("Resources"))
        .as_mapping()
        .expect("mapping")
    {
        let k = k.as_str().expect("string key");
        if k.starts_with("Fn::ForEach::") {
            let fragment = seq(v).get(2).copied().expect("ForEach fragment");
            for (fk, fv) in untagged(fragment).as_mapping().expect("fragment mapping") {
                out.push((fk.as_str().expect("key").to_owned(), fv));
            }
        } else {
            out.push((k.to_owned(), v));
        }
    }
    out
}

fn resource<'a>(t: &'a Value, id: &str) -> &'a Value {
    resources(t)
        .into_iter()
        .find(|(k, _)| k == id)
        .map(|(_, r)| r)
        .unwrap_or_else(|| panic!("no resource {id}"))
}

fn of_type<'a>(t: &'a Value, ty: &str) -> Vec<(String, &'a Value)> {
    resources(t)
        .into_iter()
        .filter(|(_, r)| str_at(r, "Type") == Some(ty))
        .collect()
}

fn props(r: &Value) -> &Value {
    get(r, "Properties").expect("Properties")
}

fn parameter<'a>(t: &'a Value, name: &str) -> &'a Value {
    get(get(t, "Parameters").expect("Parameters"), name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
}

fn default_of(t: &Value, name: &str) -> String {
    match get(parameter(t, name), "Default").map(untagged) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        other => panic!("{name} has no scalar default: {other:?}"),
    }
}

fn workspace_version() -> String {
    let text = fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let table: toml_like::Table = toml_like::parse(&text);
    table.get("workspace.package", "version")
}

/// Just enough of TOML for `[section] key = "value"` lines (the workspace manifest's).
mod toml_like {
    pub struct Table(Vec<(String, String, String)>);
    pub fn parse(text: &str) -> Table {
        let mut section = String::new();
        let mut rows = Vec::new();
        for line in text.lines().map(str::trim) {
            if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = s.to_owned();
            } else if let Some((k, v)) = line.split_once('=') {
                let v = v.trim();
                if let Some(v) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                    rows.push((section.clone(), k.trim().to_owned(), v.to_owned()));
                }
            }
        }
        Table(rows)
    }
    impl Table {
        pub fn get(&self, section: &str, key: &str) -> String {
            self.0
                .iter()
                .find(|(s, k, _)| s == section && k == key)
                .map(|(_, _, v)| v.clone())
                .unwrap_or_else(|| panic!("[{section}] {key} missing"))
        }
    }
}

// ---- Rules, evaluated --------------------------------------------------------------------------

/// A parameter's value as the rule functions see it: a string, or a list for list types.
#[derive(Clone, Debug, PartialEq)]
enum Param {
    One(String),
    List(Vec<String>),
}

/// Every parameter at its default, with `overrides` applied (CommaDelimitedList split like
/// CloudFormation: "" is [""]).
fn parameters(t: &Value, overrides: &[(&str, &str)]) -> BTreeMap<String, Param> {
    let mut out = BTreeMap::new();
    for (k, p) in untagged(get(t, "Parameters").unwrap())
        .as_mapping()
        .unwrap()
    {
        let name = k.as_str().unwrap();
        let raw = overrides
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
            .unwrap_or_else(|| default_of(t, name));
        let value = if str_at(p, "Type") == Some("CommaDelimitedList") {
            Param::List(raw.split(',').map(|s| s.trim().to_owned()).collect())
        } else {
            Param::One(raw)
        };
        out.insert(name.to_owned(), value);
    }
    out
}

fn eval(v: &Value, params: &BTreeMap<String, Param>) -> Json {
    let Some((f, arg)) = intrinsic(v) else {
        return match untagged(v) {
            Value::String(s) => Json::String(s.clone()),
            Value::Bool(b) => Json::Bool(*b),
            other => panic!("a rule uses a value this evaluator does not know: {other:?}"),
        };
    };
    let args = || seq(arg);
    let truth = |x: &Value| eval(x, params).as_bool().expect("a boolean");
    match f.as_str() {
        "Ref" => match &params[untagged(arg).as_str().expect("Ref name")] {
            Param::One(s) => Json::String(s.clone()),
            Param::List(l) => Json::Array(l.iter().cloned().map(Json::String).collect()),
        },
        "Fn::And" => Json::Bool(args().into_iter().all(truth)),
        "Fn::Or" => Json::Bool(args().into_iter().any(truth)),
        "Fn::Not" => Json::Bool(!truth(args()[0])),
        "Fn::Equals" => Json::Bool(eval(args()[0], params) == eval(args()[1], params)),
        "Fn::EachMemberEquals" => {
            let list = eval(args()[0], params);
            let value = eval(args()[1], params);
            Json::Bool(list.as_array().expect("a list").iter().all(|m| *m == value))
        }
        other => panic!("rule function {other} is not allowed in Rules or not known here"),
    }
}

/// The descriptions of the rule assertions that fail for these parameters (empty: deploys).
fn refused(t: &Value, overrides: &[(&str, &str)]) -> Vec<String> {
    let params = parameters(t, overrides);
    let mut failed = Vec::new();
    for (name, rule) in untagged(get(t, "Rules").expect("Rules"))
        .as_mapping()
        .unwrap()
    {
        let applies = get(rule, "RuleCondition")
            .map(|c| eval(c, &params).as_bool().unwrap())
            .unwrap_or(true);
        if !applies {
            continue;
        }
        for a in seq(get(rule, "Assertions").unwrap()) {
            if !eval(get(a, "Assert").unwrap(), &params).as_bool().unwrap() {
                failed.push(format!(
                    "{}: {}",
                    name.as_str().unwrap(),
                    str_at(a, "AssertDescription").unwrap_or("")
                ));
            }
        }
    }
    failed
}

const SECRET_ARN: &str = "arn:aws:secretsmanager:eu-north-1:123456789012:secret:suomifi-AbCdEf";

#[test]
fn the_default_stack_with_one_email_deploys_and_builds_for_x86_64() {
    let t = template();
    assert_eq!(
        refused(&t, &[("AlertEmails", "ops@example.org")]),
        Vec::<String>::new()
    );
    assert_eq!(default_of(&t, "Architecture"), "x86_64");
    let allowed: Vec<_> = seq(get(parameter(&t, "Architecture"), "AllowedValues").unwrap())
        .into_iter()
        .filter_map(|v| untagged(v).as_str())
        .collect();
    assert!(allowed.contains(&"arm64"), "arm64 one parameter away");
    assert_eq!(default_of(&t, "RotationEnabled"), "false");
}

#[test]
fn a_stack_with_no_alert_channel_is_refused_with_a_message_naming_the_channels() {
    let t = template();
    let failed = refused(&t, &[]);
    assert_eq!(failed.len(), 1, "{failed:?}");
    for channel in ["AlertEmails", "Slack", "Teams"] {
        assert!(failed[0].contains(channel), "{failed:?}");
    }
    for ok in [
        vec![("SlackWorkspaceId", "T0123"), ("SlackChannelId", "C0123")],
        vec![
            ("TeamsTenantId", "01234567-89ab-cdef-0123-456789abcdef"),
            ("TeamsTeamId", "team"),
            ("TeamsChannelId", "19%3achannel"),
        ],
    ] {
        assert_eq!(refused(&t, &ok), Vec::<String>::new(), "{ok:?}");
    }
}

#[test]
fn rotation_of_the_placeholder_secret_is_refused_until_the_password_is_imported() {
    let t = template();
    let email = ("AlertEmails", "ops@example.org");
    let failed = refused(&t, &[email, ("RotationEnabled", "true")]);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("import-password"), "{failed:?}");
    assert_eq!(
        refused(
            &t,
            &[
                email,
                ("RotationEnabled", "true"),
                ("PasswordImported", "true")
            ]
        ),
        Vec::<String>::new()
    );
    // Existing secrets hold real passwords: rotation needs no acknowledgement.
    assert_eq!(
        refused(
            &t,
            &[
                email,
                ("RotationEnabled", "true"),
                ("CredentialsSecretArns", SECRET_ARN)
            ]
        ),
        Vec::<String>::new()
    );
}

// ---- The state table ------------------------------------------------------------------------------

/// Every `Ref StateTable` / `GetAtt StateTable.*` below `v`, with whether it sits in the true
/// branch of an `Fn::If [CreateStateTable, ...]`.
fn table_references(v: &Value, guarded: bool, out: &mut Vec<bool>) {
    if let Some((f, arg)) = intrinsic(v) {
        match f.as_str() {
            "Ref" if untagged(arg).as_str() == Some("StateTable") => return out.push(guarded),
            "Fn::GetAtt" => {
                let target = match untagged(arg) {
                    Value::String(s) => s.split('.').next().unwrap_or("").to_owned(),
                    Value::Sequence(s) => untagged(&s[0]).as_str().unwrap_or("").to_owned(),
                    _ => String::new(),
                };
                if target == "StateTable" {
                    return out.push(guarded);
                }
            }
            "Fn::If" => {
                let a = seq(arg);
                let on_table = untagged(a[0]).as_str() == Some("CreateStateTable");
                table_references(a[1], guarded || on_table, out);
                table_references(a[2], guarded, out);
                return;
            }
            "Fn::Sub"
                if untagged(arg)
                    .as_str()
                    .is_some_and(|s| s.contains("${StateTable")) =>
            {
                return out.push(guarded);
            }
            _ => {}
        }
    }
    match untagged(v) {
        Value::Sequence(s) => s.iter().for_each(|x| table_references(x, guarded, out)),
        Value::Mapping(m) => m.values().for_each(|x| table_references(x, guarded, out)),
        _ => {}
    }
}

#[test]
fn the_state_table_is_created_retained_or_reused_and_every_reference_is_conditional() {
    let t = template();
    assert_eq!(default_of(&t, "ExistingStateTableName"), "");
    let table = resource(&t, "StateTable");
    assert_eq!(str_at(table, "Condition"), Some("CreateStateTable"));
    assert_eq!(str_at(table, "DeletionPolicy"), Some("Retain"));
    assert_eq!(
        get(props(table), "DeletionProtectionEnabled").and_then(|v| untagged(v).as_bool()),
        Some(true)
    );
    let mut refs = Vec::new();
    for (id, r) in resources(&t) {
        if id != "StateTable" {
            table_references(r, false, &mut refs);
        }
    }
    table_references(get(&t, "Outputs").unwrap(), false, &mut refs);
    // Three functions' STATE_TABLE and grants, the operator policy, the output.
    assert!(refs.len() >= 8, "found only {} references", refs.len());
    assert!(
        refs.iter().all(|g| *g),
        "a reference to StateTable outside Fn::If [CreateStateTable, ...]: a stack given \
         ExistingStateTableName would fail to deploy"
    );
}

#[test]
fn the_reference_walker_sees_unguarded_references() {
    let v: Value = serde_norway::from_str(
        "a: !Ref StateTable\nb: !If [CreateStateTable, !GetAtt StateTable.Arn, x]\n",
    )
    .unwrap();
    let mut refs = Vec::new();
    table_references(&v, false, &mut refs);
    assert_eq!(refs, [false, true]);
}

// ---- Stacks side by side --------------------------------------------------------------------------

#[test]
fn every_function_knows_its_stack() {
    let t = template();
    let functions = of_type(&t, "AWS::Serverless::Function");
    assert!(functions.len() >= 3);
    for (id, f) in functions {
        let vars = get(props(f), "Environment")
            .and_then(|e| get(e, "Variables"))
            .unwrap_or_else(|| panic!("{id} has no environment"));
        let stack = get(vars, "STACK_NAME").unwrap_or_else(|| panic!("{id}: no STACK_NAME"));
        let (f, arg) = intrinsic(stack).expect("an intrinsic");
        assert_eq!(
            (f.as_str(), untagged(arg).as_str()),
            ("Ref", Some("AWS::StackName"))
        );
    }
}

fn dimension_names(alarm: &Value) -> Vec<(String, String)> {
    seq(get(props(alarm), "Dimensions").expect("Dimensions"))
        .into_iter()
        .map(|d| {
            let value = get(d, "Value").unwrap();
            let value = match intrinsic(value) {
                Some((f, a)) => format!("{f} {}", untagged(a).as_str().unwrap_or("?")),
                None => untagged(value).as_str().unwrap_or("?").to_owned(),
            };
            (str_at(d, "Name").unwrap().to_owned(), value)
        })
        .collect()
}

#[test]
fn every_alarm_on_the_functions_metrics_selects_its_own_stack_and_secret() {
    let t = template();
    let alarms: Vec<_> = of_type(&t, "AWS::CloudWatch::Alarm")
        .into_iter()
        .filter(|(_, a)| str_at(props(a), "Namespace") == Some("SuomifiOps"))
        .collect();
    // The created secret's and the existing secrets' overdue pairs.
    assert!(alarms.len() >= 4, "{}", alarms.len());
    for (id, a) in alarms {
        let dims = dimension_names(a);
        assert!(
            dims.contains(&("Stack".into(), "Ref AWS::StackName".into())),
            "{id}: {dims:?}"
        );
        if str_at(props(a), "MetricName") == Some("RotationSucceeded") {
            assert!(dims.iter().any(|(n, _)| n == "Secret"), "{id}: {dims:?}");
        }
    }
}

#[test]
fn the_dashboard_searches_only_its_own_stack() {
    let t = template();
    let body = seq(get(props(resource(&t, "Dashboard")), "DashboardBody").unwrap())[0];
    let body = untagged(body).as_str().unwrap();
    let searches: Vec<_> = body.match_indices("SEARCH(").collect();
    assert!(searches.len() >= 7, "{}", searches.len());
    for (i, _) in searches {
        let expr = &body[i..i + body[i..].find(')').unwrap()];
        assert!(
            expr.contains(r#"Stack=\"${AWS::StackName}\""#) && expr.contains("{SuomifiOps,Stack"),
            "{expr}"
        );
    }
    assert!(
        !body.contains(r#"["SuomifiOps""#),
        "a metric row without the stack dimension"
    );
}

#[test]
fn the_functions_emit_the_dimensions_the_alarms_select() {
    let src = |p: &str| fs::read_to_string(root().join(p)).unwrap();
    assert!(src("functions/rotate-password/src/metrics.rs").contains(r#"("Secret", ev.secret_id"#));
    // check-retrieval names each series after its Suomi.fi system (one per secret).
    assert!(src("functions/check-retrieval/src/fleet.rs").contains(r#"("System", "#));
    for f in ["rotate-password", "check-retrieval", "check-certificates"] {
        assert!(
            src(&format!("functions/{f}/src/main.rs"))
                .contains(r#"set_metrics_stack(std::env::var("STACK_NAME").ok())"#),
            "{f} does not pass STACK_NAME to its metrics"
        );
    }
}

#[test]
fn no_account_level_singletons() {
    let t = template();
    assert!(of_type(&t, "AWS::Logs::ResourcePolicy").is_empty());
    // Names every stack would share: each name a resource sets must contain the stack name.
    for (id, r) in resources(&t) {
        for key in [
            "Name",
            "LogGroupName",
            "AliasName",
            "ConfigurationName",
            "DashboardName",
        ] {
            if let Some(v) = get(props_or_empty(r), key) {
                let text = format!("{v:?}");
                assert!(text.contains("AWS::StackName"), "{id}.{key} = {text}");
            }
        }
    }
}

fn props_or_empty(r: &Value) -> &Value {
    static EMPTY: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    get(r, "Properties").unwrap_or_else(|| EMPTY.get_or_init(|| Value::Mapping(Default::default())))
}

// ---- Rotation watched end to end ------------------------------------------------------------------

/// The input template with every `<placeholder>` replaced by a sample, as EventBridge does.
fn rendered(template: &str, paths: &Value) -> Json {
    let mut text = template.to_owned();
    for (k, _) in untagged(paths).as_mapping().unwrap() {
        let k = k.as_str().unwrap();
        text = text.replace(&format!("<{k}>"), &format!("sample-{k}"));
    }
    let text = text.replace("${AWS::StackName}", "suomifi-ops-qa");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn chat_notification(t: &Value, rule: &str) -> Json {
    let r = resource(t, rule);
    let targets = seq(get(props(r), "Targets").unwrap());
    assert_eq!(targets.len(), 1, "{rule}: one target");
    let target = targets[0];
    let (f, arn) = intrinsic(get(target, "Arn").unwrap()).unwrap();
    assert_eq!(
        (f.as_str(), untagged(arn).as_str()),
        ("Ref", Some("AlertTopic"))
    );
    let transformer = get(target, "InputTransformer").expect("InputTransformer");
    let template = untagged(get(transformer, "InputTemplate").unwrap())
        .as_str()
        .unwrap();
    let doc = rendered(template, get(transformer, "InputPathsMap").unwrap());
    // Amazon Q Developer in chat applications' custom notification schema.
    assert_eq!(doc["version"], "1.0", "{rule}");
    assert_eq!(doc["source"], "custom", "{rule}");
    assert_eq!(doc["content"]["textType"], "client-markdown", "{rule}");
    assert!(
        doc["content"]["title"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    doc
}

#[test]
fn each_rotation_failure_is_one_chat_notification_naming_the_secret_and_the_error() {
    let t = template();
    let rule = resource(&t, "RotationFailedRule");
    let pattern = get(props(rule), "EventPattern").unwrap();
    assert_eq!(
        seq(get(get(pattern, "detail").unwrap(), "eventName").unwrap())
            .iter()
            .map(|v| untagged(v).as_str().unwrap())
            .collect::<Vec<_>>(),
        ["RotationFailed"]
    );
    let doc = chat_notification(&t, "RotationFailedRule");
    let description = doc["content"]["description"].as_str().unwrap();
    assert!(description.contains("sample-secret"), "{description}");
    assert!(description.contains("sample-errorMessage"), "{description}");
    assert_eq!(doc["metadata"]["threadId"], "sample-secret");
    // Nothing holds it back: no alarm with actions counts these events any more.
    let alarm = props(resource(&t, "RotationFailedAlarm"));
    assert!(get(alarm, "AlarmActions").is_none());
}

#[test]
fn turning_automatic_rotation_off_is_notified() {
    let t = template();
    let rule = resource(&t, "RotationTurnedOffRule");
    let detail = get(get(props(rule), "EventPattern").unwrap(), "detail").unwrap();
    let names: Vec<_> = seq(get(detail, "eventName").unwrap())
        .iter()
        .map(|v| untagged(v).as_str().unwrap().to_owned())
        .collect();
    assert!(
        names.contains(&"CancelRotateSecret".to_owned()),
        "{names:?}"
    );
    assert!(get(get(detail, "responseElements").unwrap(), "arn").is_some());
    let doc = chat_notification(&t, "RotationTurnedOffRule");
    assert!(
        doc["content"]["description"]
            .as_str()
            .unwrap()
            .contains("sample-secret")
    );
}

#[test]
fn the_topic_and_its_key_admit_the_rotation_rules() {
    let t = template();
    let policy = format!("{:?}", props(resource(&t, "AlertTopicPolicy")));
    assert!(policy.contains("events.amazonaws.com") && policy.contains("RotationFailedRule"));
    let key = format!("{:?}", props(resource(&t, "AlertKey")));
    assert!(key.contains("events.amazonaws.com"));
}

#[test]
fn an_overdue_rotation_alarms_per_secret_after_the_expected_interval() {
    let t = template();
    let hours = parameter(&t, "RotationExpectedIntervalHours");
    assert_eq!(
        get(hours, "MaxValue").and_then(|v| untagged(v).as_u64()),
        Some(168),
        "CloudWatch evaluates at most 7 days of hourly periods"
    );
    for (no_rotation, composite, condition) in [
        (
            "CreatedSecretNoRotationAlarm",
            "CreatedSecretRotationOverdueAlarm",
            "RotateCreatedSecret",
        ),
        (
            "NoRotationAlarm&{SecretArn}",
            "RotationOverdueAlarm&{SecretArn}",
            "RotateExistingSecrets",
        ),
    ] {
        let a = resource(&t, no_rotation);
        assert_eq!(str_at(a, "Condition"), Some(condition));
        let p = props(a);
        assert_eq!(str_at(p, "MetricName"), Some("RotationSucceeded"));
        assert_eq!(str_at(p, "TreatMissingData"), Some("breaching"));
        let (f, arg) = intrinsic(get(p, "EvaluationPeriods").unwrap()).unwrap();
        assert_eq!(
            (f.as_str(), untagged(arg).as_str()),
            ("Ref", Some("RotationExpectedIntervalHours"))
        );
        let c = resource(&t, composite);
        assert_eq!(str_at(c, "Condition"), Some(condition));
        assert!(
            get(props(c), "AlarmActions").is_some(),
            "{composite} notifies"
        );
    }
}

#[test]
fn failed_scheduled_runs_reach_the_queue_with_their_error() {
    let t = template();
    let mut with_async = 0;
    for (id, f) in of_type(&t, "AWS::Serverless::Function") {
        let p = props(f);
        assert!(
            get(p, "DeadLetterQueue").is_none(),
            "{id}: a DLQ carries no error"
        );
        if let Some(cfg) = get(p, "EventInvokeConfig") {
            with_async += 1;
            let on_failure = get(
                get(cfg, "DestinationConfig").expect("destinations"),
                "OnFailure",
            )
            .expect("OnFailure");
            assert_eq!(str_at(on_failure, "Type"), Some("SQS"), "{id}");
        }
    }
    // Every function a schedule invokes (asynchronously) has one.
    let scheduled = of_type(&t, "AWS::Scheduler::Schedule").len();
    assert!(scheduled >= 2, "{scheduled}");
    assert_eq!(with_async, scheduled, "every scheduled function");
}

// ---- Access -----------------------------------------------------------------------------------------

/// SDK operations (builder method → IAM action) of the services the project uses.
const SDK_OPERATIONS: &[(&str, &str)] = &[
    ("describe_secret", "secretsmanager:DescribeSecret"),
    ("get_secret_value", "secretsmanager:GetSecretValue"),
    (
        "batch_get_secret_value",
        "secretsmanager:BatchGetSecretValue",
    ),
    ("put_secret_value", "secretsmanager:PutSecretValue"),
    (
        "update_secret_version_stage",
        "secretsmanager:UpdateSecretVersionStage",
    ),
    ("rotate_secret", "secretsmanager:RotateSecret"),
    ("cancel_rotate_secret", "secretsmanager:CancelRotateSecret"),
    (
        "list_secret_version_ids",
        "secretsmanager:ListSecretVersionIds",
    ),
    ("get_random_password", "secretsmanager:GetRandomPassword"),
    ("update_secret", "secretsmanager:UpdateSecret"),
    ("get_item", "dynamodb:GetItem"),
    ("batch_get_item", "dynamodb:BatchGetItem"),
    ("put_item", "dynamodb:PutItem"),
    ("update_item", "dynamodb:UpdateItem"),
    ("delete_item", "dynamodb:DeleteItem"),
    ("batch_write_item", "dynamodb:BatchWriteItem"),
    ("scan", "dynamodb:Scan"),
    ("query", "dynamodb:Query"),
    ("publish", "sns:Publish"),
    ("get_parameter", "ssm:GetParameter"),
    ("get_parameters", "ssm:GetParameters"),
    ("put_parameter", "ssm:PutParameter"),
    ("get_certificate", "acm:GetCertificate"),
    ("describe_certificate", "acm:DescribeCertificate"),
    ("describe_stacks", "cloudformation:DescribeStacks"),
    ("send_message", "sqs:SendMessage"),
];

fn rust_text(dir: &Path) -> String {
    let mut out = String::new();
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out += &rust_text(&path);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out += &fs::read_to_string(&path).unwrap();
        }
    }
    out
}

/// The IAM actions of the SDK calls in `sources` (an SDK request starts as `.operation()`).
fn actions_called(sources: &str) -> BTreeSet<String> {
    SDK_OPERATIONS
        .iter()
        .filter(|(op, _)| sources.contains(&format!(".{op}()")))
        .map(|(_, action)| action.to_string())
        .collect()
}

fn policy_actions(t: &Value, id: &str) -> BTreeSet<String> {
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        if let Some(a) = get(v, "Action") {
            match untagged(a) {
                Value::String(s) => {
                    out.insert(s.clone());
                }
                Value::Sequence(s) => {
                    out.extend(s.iter().filter_map(|x| x.as_str().map(String::from)))
                }
                _ => {}
            }
        }
        match untagged(v) {
            Value::Sequence(s) => s.iter().for_each(|x| walk(x, out)),
            Value::Mapping(m) => m.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let r = resource(t, id);
    assert_eq!(str_at(r, "Type"), Some("AWS::IAM::ManagedPolicy"));
    let mut out = BTreeSet::new();
    walk(get(props(r), "PolicyDocument").unwrap(), &mut out);
    out
}

#[test]
fn the_operator_policy_grants_exactly_what_suomifi_ops_calls() {
    let root = root();
    // The CLI, and the code it runs in-process: the shared adapters, both checks, the recovery.
    let sources: String = [
        "cli/src",
        "shared/src",
        "functions/check-retrieval/src",
        "functions/check-certificates/src",
        "functions/rotate-password/src",
    ]
    .iter()
    .map(|d| rust_text(&root.join(d)))
    .collect();
    let called = actions_called(&sources);
    for expected in [
        "secretsmanager:RotateSecret",
        "secretsmanager:PutSecretValue",
        "dynamodb:Scan",
        "ssm:PutParameter",
        "cloudformation:DescribeStacks",
    ] {
        assert!(
            called.contains(expected),
            "{expected} not found in {called:?}"
        );
    }
    let granted: BTreeSet<String> = policy_actions(&template(), "OperatorPolicy")
        .into_iter()
        .filter(|a| !a.starts_with("kms:"))
        .collect();
    let missing: Vec<_> = called.difference(&granted).collect();
    let unused: Vec<_> = granted.difference(&called).collect();
    assert!(
        missing.is_empty(),
        "suomifi-ops calls these, the policy lacks them: {missing:?}"
    );
    assert!(
        unused.is_empty(),
        "the policy grants these, nothing calls them: {unused:?}"
    );
}

#[test]
fn the_action_scan_finds_calls_and_ignores_trait_methods() {
    let called = actions_called("client.scan().table_name(t).send(); notifier.publish(&alert)");
    assert_eq!(called, BTreeSet::from(["dynamodb:Scan".to_owned()]));
}

#[test]
fn the_retriever_reads_the_credentials_and_writes_the_checkpoint_only() {
    let granted = policy_actions(&template(), "RetrieverPolicy");
    let expected: BTreeSet<String> = [
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
        "ssm:GetParameter",
        "ssm:PutParameter",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(granted, expected);
}

#[test]
fn every_output_is_described_and_the_cli_finds_what_it_reads_there() {
    let t = template();
    let outputs = untagged(get(&t, "Outputs").unwrap()).as_mapping().unwrap();
    for (k, o) in outputs {
        assert!(
            str_at(o, "Description").is_some_and(|d| !d.is_empty()),
            "output {k:?} has no description"
        );
    }
    for policy in ["OperatorPolicyArn", "RetrieverPolicyArn"] {
        assert!(
            get(outputs.get(policy).unwrap(), "Export").is_some(),
            "{policy} exported"
        );
    }
    // Every output key cli/src/stack.rs maps to an option exists.
    let stack_rs = fs::read_to_string(root().join("cli/src/stack.rs")).unwrap();
    let table = &stack_rs[stack_rs.find("pub const OUTPUTS").unwrap()..];
    let table = &table[..table.find("];").unwrap()];
    let keys: BTreeSet<&str> = table
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.starts_with(|c: char| c.is_ascii_uppercase()) && s.chars().any(|c| c.is_lowercase())
        })
        .collect();
    assert!(keys.len() >= 6, "{keys:?}");
    for key in keys {
        assert!(
            outputs.contains_key(key),
            "the CLI reads output {key}, the template has none"
        );
    }
}

// ---- Tags, boundary, publishing ---------------------------------------------------------------------

const TAGGABLE: &[&str] = &[
    "AWS::KMS::Key",
    "AWS::SNS::Topic",
    "AWS::DynamoDB::Table",
    "AWS::SecretsManager::Secret",
    "AWS::Logs::LogGroup",
    "AWS::IAM::Role",
    "AWS::SQS::Queue",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::CompositeAlarm",
    "AWS::Chatbot::SlackChannelConfiguration",
    "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
];

#[test]
fn every_taggable_resource_carries_the_stack_and_the_version() {
    let t = template();
    let version = workspace_version();
    let mapped = get(
        get(
            get(get(&t, "Mappings").unwrap(), "Release").unwrap(),
            "Version",
        )
        .unwrap(),
        "Value",
    )
    .map(|v| match untagged(v) {
        Value::String(s) => s.clone(),
        other => format!("{other:?}"),
    });
    assert_eq!(
        mapped.as_deref(),
        Some(version.as_str()),
        "Mappings.Release = the workspace version"
    );
    let mut tagged = 0;
    for (id, r) in resources(&t) {
        let ty = str_at(r, "Type").unwrap();
        if !TAGGABLE.contains(&ty) {
            continue;
        }
        let tags = format!(
            "{:?}",
            get(props(r), "Tags").unwrap_or_else(|| panic!("{id} has no Tags"))
        );
        assert!(
            tags.contains("suomifi-ops:stack") && tags.contains("AWS::StackName"),
            "{id}: {tags}"
        );
        assert!(
            tags.contains("suomifi-ops:version") && tags.contains("Release"),
            "{id}: {tags}"
        );
        tagged += 1;
    }
    assert!(tagged >= 20, "{tagged}");
    let globals = get(
        get(get(&t, "Globals").unwrap(), "Function").unwrap(),
        "Tags",
    )
    .expect("function tags");
    assert!(get(globals, "suomifi-ops:version").is_some());
}

#[test]
fn every_role_takes_the_permissions_boundary() {
    let t = template();
    let roles = of_type(&t, "AWS::IAM::Role");
    assert!(roles.len() >= 4);
    for (id, r) in roles {
        let b = get(props(r), "PermissionsBoundary").unwrap_or_else(|| panic!("{id}"));
        let (f, arg) = intrinsic(b).unwrap();
        assert_eq!(f, "Fn::If", "{id}");
        assert_eq!(
            untagged(seq(arg)[0]).as_str(),
            Some("HasPermissionsBoundary"),
            "{id}"
        );
    }
}

#[test]
fn the_template_is_publishable_to_the_serverless_application_repository() {
    let t = template();
    let app = get(
        get(&t, "Metadata").unwrap(),
        "AWS::ServerlessRepo::Application",
    )
    .expect("SAR metadata");
    let manifest = fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let license = toml_like::parse(&manifest).get("workspace.package", "license");
    assert_eq!(str_at(app, "SpdxLicenseId"), Some(license.as_str()));
    assert_eq!(
        str_at(app, "SemanticVersion"),
        Some(workspace_version().as_str())
    );
    for key in ["LicenseUrl", "ReadmeUrl"] {
        let rel = str_at(app, key).unwrap();
        let path = root().join("infra").join(rel);
        let text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("{key} {}: {e}", path.display()));
        assert!(text.len() > 1000, "{key} looks empty");
    }
    for key in ["HomePageUrl", "SourceCodeUrl"] {
        assert!(
            str_at(app, key).is_some_and(|u| u.starts_with("https://")),
            "{key}"
        );
    }
}

#[test]
fn no_output_is_named_like_a_parameter() {
    // `sam build` resolves output keys as intrinsics: an output named like a list parameter
    // becomes a list key and the build crashes ("unhashable type: 'list'", SAM CLI 1.170).
    let t = template();
    let params = untagged(get(&t, "Parameters").unwrap())
        .as_mapping()
        .unwrap();
    for (k, _) in untagged(get(&t, "Outputs").unwrap()).as_mapping().unwrap() {
        assert!(
            !params.contains_key(k),
            "output {k:?} is named like a parameter"
        );
    }
}
