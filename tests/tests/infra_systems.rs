//! The stack watches every Suomi.fi system it is given: the template's `SYSTEMS` value and the
//! check-retrieval role's grants, evaluated for example parameters (a small evaluator of the
//! intrinsic functions they use), parse with check-retrieval's own parser into exactly the
//! systems listed, and grant exactly their secrets and checkpoint parameters.

use serde_json::{Value as Json, json};
use serde_norway::Value;
use std::collections::BTreeMap;

fn template() -> Value {
    let path = integration_tests::workspace_root().join("infra/template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).expect("template")).expect("YAML")
}

fn untagged(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => untagged(&t.value),
        other => other,
    }
}

fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |v, key| {
        untagged(v)
            .get(*key)
            .unwrap_or_else(|| panic!("no `{key}` in the template at {path:?}"))
    })
}

/// Parameter values (lists for CommaDelimitedList) and condition values of one deployment.
struct Deployment {
    parameters: BTreeMap<&'static str, Json>,
    conditions: BTreeMap<&'static str, bool>,
}

impl Deployment {
    /// Evaluates the intrinsic functions the SYSTEMS value and the grants use.
    fn eval(&self, v: &Value) -> Json {
        match v {
            Value::String(s) => json!(s),
            Value::Sequence(items) => Json::Array(items.iter().map(|i| self.eval(i)).collect()),
            Value::Tagged(t) => {
                let arg = &t.value;
                match t.tag.to_string().trim_start_matches('!') {
                    "Ref" => {
                        let name = arg.as_str().expect("Ref names a string");
                        self.parameters
                            .get(name)
                            .cloned()
                            .unwrap_or_else(|| json!(format!("<{name}>")))
                    }
                    "Join" => {
                        let parts = arg.as_sequence().expect("Join [sep, list]");
                        let sep = parts[0].as_str().expect("a literal delimiter");
                        let list = self.eval(&parts[1]);
                        let items: Vec<String> = list
                            .as_array()
                            .expect("Join of a list")
                            .iter()
                            .map(|i| i.as_str().expect("strings").to_owned())
                            .collect();
                        json!(items.join(sep))
                    }
                    "Split" => {
                        let parts = arg.as_sequence().expect("Split [sep, string]");
                        let sep = parts[0].as_str().unwrap();
                        let text = self.eval(&parts[1]);
                        json!(text.as_str().unwrap().split(sep).collect::<Vec<_>>())
                    }
                    "If" => {
                        let parts = arg.as_sequence().expect("If [cond, a, b]");
                        let cond = parts[0].as_str().unwrap();
                        let chosen = self.conditions[cond];
                        self.eval(&parts[if chosen { 1 } else { 2 }])
                    }
                    "Sub" => {
                        let parts = arg.as_sequence().expect("Sub [string, map]");
                        let mut text = parts[0].as_str().unwrap().to_owned();
                        let vars = parts[1].as_mapping().expect("Sub's variables");
                        for (k, value) in vars {
                            let value = self.eval(value);
                            text = text.replace(
                                &format!("${{{}}}", k.as_str().unwrap()),
                                value.as_str().expect("a string variable"),
                            );
                        }
                        json!(text)
                    }
                    other => panic!("the evaluator does not know !{other}"),
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn existing_secrets() -> Deployment {
    Deployment {
        parameters: BTreeMap::from([
            (
                "CredentialsSecretArns",
                json!([
                    "arn:aws:secretsmanager:eu-north-1:123456789012:secret:suomifi/edu-AbCdEf",
                    "arn:aws:secretsmanager:eu-north-1:123456789012:secret:suomifi/social-GhIjKl",
                    "arn:aws:secretsmanager:eu-north-1:123456789012:secret:suomifi/case-MnOpQr"
                ]),
            ),
            (
                "SystemNames",
                json!(["early-education", "social-services", "case-management"]),
            ),
            (
                "CheckpointParameterNames",
                json!(["/suomifi/edu/checkpoint", "", "/suomifi/case/checkpoint"]),
            ),
        ]),
        conditions: BTreeMap::from([("CreateSecret", false), ("HasCheckpoint", true)]),
    }
}

fn systems_of(d: &Deployment, value: &Value) -> Vec<check_retrieval::config::System> {
    let raw = d.eval(value);
    check_retrieval::config::parse_systems(raw.as_str().expect("SYSTEMS is a string"))
        .unwrap_or_else(|e| panic!("the stack's SYSTEMS is refused: {e}\n{raw}"))
}

#[test]
fn the_stack_gives_check_retrieval_every_system_with_its_name_and_checkpoint() {
    let t = template();
    let env = at(
        &t,
        &[
            "Resources",
            "CheckRetrievalFunction",
            "Properties",
            "Environment",
            "Variables",
        ],
    );
    let vars = untagged(env).as_mapping().unwrap();
    assert!(
        vars.get("SUOMIFI_SECRET_ID").is_none(),
        "one way of configuring only"
    );
    assert!(vars.get("CHECKPOINT_PARAMETER").is_none());
    let d = existing_secrets();
    let systems = systems_of(&d, &vars["SYSTEMS"]);
    let names: Vec<&str> = systems.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["early-education", "social-services", "case-management"]
    );
    assert!(systems[0].secret_id.ends_with("suomifi/edu-AbCdEf"));
    assert_eq!(
        systems[0].checkpoint_parameter.as_deref(),
        Some("/suomifi/edu/checkpoint")
    );
    assert_eq!(
        systems[1].checkpoint_parameter, None,
        "an empty entry: not watched"
    );
    assert!(systems[2].secret_id.ends_with("suomifi/case-MnOpQr"));

    // The CLI's `--systems` value is an output, the same list.
    let output = systems_of(&d, at(&t, &["Outputs", "Systems", "Value"]));
    assert_eq!(output, systems);

    // The defaults: the stack's own secret, named after it, not watched.
    let defaults = Deployment {
        parameters: BTreeMap::from([
            ("CredentialsSecretArns", json!([""])),
            ("SystemNames", json!([""])),
            ("CheckpointParameterNames", json!([""])),
            (
                "CredentialsSecret",
                json!(
                    "arn:aws:secretsmanager:eu-north-1:123456789012:secret:suomifi-ops/api-XyZ123"
                ),
            ),
        ]),
        conditions: BTreeMap::from([("CreateSecret", true), ("HasCheckpoint", false)]),
    };
    let one = systems_of(&defaults, &vars["SYSTEMS"]);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].name, "suomifi-ops-api-XyZ123");
    assert_eq!(one[0].checkpoint_parameter, None);
}

#[test]
fn the_check_retrieval_role_reads_exactly_the_listed_secrets_and_checkpoints() {
    let t = template();
    let statements = at(
        &t,
        &["Resources", "CheckRetrievalRole", "Properties", "Policies"],
    );
    let statements: Vec<&Value> = untagged(statements)
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|p| {
            untagged(at(p, &["PolicyDocument", "Statement"]))
                .as_sequence()
                .unwrap()
                .iter()
        })
        .collect();
    let d = existing_secrets();
    let by_sid = |sid: &str| -> Json {
        let statement = statements
            .iter()
            .map(|s| match untagged(s) {
                // `!If [HasCheckpoint, statement, NoValue]`
                Value::Sequence(branches) => untagged(&branches[1]).clone(),
                other => other.clone(),
            })
            .find(|s| s.get("Sid").and_then(Value::as_str) == Some(sid))
            .unwrap_or_else(|| panic!("no statement {sid}"));
        d.eval(statement.get("Resource").unwrap())
    };
    assert_eq!(
        by_sid("ReadTheWatchedCredentials"),
        d.parameters["CredentialsSecretArns"],
        "every system's secret, no other"
    );
    let checkpoints = by_sid("ReadTheCheckpoints");
    let arns: Vec<&str> = checkpoints
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        arns,
        [
            "arn:*:ssm:*:*:parameter/suomifi/edu/checkpoint",
            // The unwatched system's empty entry names no parameter at all.
            "arn:*:ssm:*:*:parameter",
            "arn:*:ssm:*:*:parameter/suomifi/case/checkpoint",
        ]
    );
}

#[test]
fn every_recover_step_the_stack_notifies_names_the_secret_and_looks_first() {
    // A stack watches several secrets: `--stack` alone would default to the first one, and a
    // person following the step at the worst moment must prove before anything changes.
    let text =
        std::fs::read_to_string(integration_tests::workspace_root().join("infra/template.yaml"))
            .expect("template");
    let steps: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("suomifi-ops recover"))
        .collect();
    assert!(!steps.is_empty(), "the rotation notifications name recover");
    for step in steps {
        assert!(step.contains("--secret-id <secret>"), "{step}");
        assert!(step.contains("--dry-run"), "{step}");
    }
}
