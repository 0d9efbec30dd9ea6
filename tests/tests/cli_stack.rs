//! `suomifi-ops --stack NAME` / `SUOMIFI_OPS_STACK` against moto's CloudFormation: the built
//! binary reads the values it needs from the stack's Outputs (DescribeStacks), the command line
//! still wins, and a stack that does not exist is a clear error.
//!
//! Each test creates its own uniquely named stack (one SSM parameter as its resource, the
//! outputs as literals shaped like the real template's).

use integration_tests::moto::Moto;
use integration_tests::{CliRun, binary, unique};
use serde_json::{Value, json};

/// Runs `suomifi-ops` with only moto's environment plus `extra`.
async fn ops_with(args: &[&str], extra: &[(&str, &str)]) -> CliRun {
    let out = tokio::process::Command::new(binary("suomifi-ops"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(Moto::shared().env())
        .envs(extra.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run suomifi-ops");
    CliRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A stack whose outputs name `checkpoint` and `secret_arn` the way the real template does.
async fn create_stack(checkpoint: &str, secret_arn: &str) -> String {
    let cfg = Moto::shared().sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&cfg);
    let name = unique("suomifi-ops-stack");
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Marker": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": format!("/{name}/marker"), "Type": "String", "Value": "x"}
            }
        },
        "Outputs": {
            "CredentialsSecretArn": {"Value": secret_arn},
            "RotatedSecretArns": {"Value": secret_arn},
            "CheckpointParameter": {"Value": checkpoint},
            "StateTableName": {"Value": format!("{name}-state")},
            "WatchedCertificateTargets": {"Value": "[{\"name\":\"api\",\"tls\":\"127.0.0.1:9\"}]"},
            "CertificateThresholds": {"Value": "30,7"}
        }
    });
    cfn.create_stack()
        .stack_name(&name)
        .template_body(template.to_string())
        .send()
        .await
        .expect(
            "moto creates the stack (moto's CloudFormation is part of moto[server]; make venv)",
        );
    name
}

async fn checkpoint_token(parameter: &str) -> Option<String> {
    let cfg = Moto::shared().sdk_config().await;
    let ssm = aws_sdk_ssm::Client::new(&cfg);
    let value = ssm
        .get_parameter()
        .name(parameter)
        .send()
        .await
        .ok()?
        .parameter?
        .value?;
    let json: Value = serde_json::from_str(&value).expect("checkpoint JSON");
    json["continuationToken"].as_str().map(str::to_owned)
}

const NO_SECRET: &str = "arn:aws:secretsmanager:eu-north-1:123456789012:secret:none-AbCdEf";

#[tokio::test]
async fn the_checkpoint_parameter_comes_from_the_stack_outputs() {
    let parameter = format!("/{}", unique("stack-checkpoint"));
    let stack = create_stack(&parameter, NO_SECRET).await;
    let run = ops_with(
        &[
            "--stack",
            &stack,
            "checkpoint",
            "put",
            "--token",
            "from-stack",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        checkpoint_token(&parameter).await.as_deref(),
        Some("from-stack")
    );
}

#[tokio::test]
async fn the_stack_can_come_from_the_environment_and_after_the_subcommand() {
    let parameter = format!("/{}", unique("stack-env"));
    let stack = create_stack(&parameter, NO_SECRET).await;
    let run = ops_with(
        &["checkpoint", "put", "--token", "via-env"],
        &[("SUOMIFI_OPS_STACK", &stack)],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        checkpoint_token(&parameter).await.as_deref(),
        Some("via-env")
    );

    let run = ops_with(
        &["checkpoint", "put", "--token", "after", "--stack", &stack],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(checkpoint_token(&parameter).await.as_deref(), Some("after"));
}

#[tokio::test]
async fn an_option_on_the_command_line_wins_over_the_stack() {
    let from_stack = format!("/{}", unique("stack-default"));
    let explicit = format!("/{}", unique("stack-explicit"));
    let stack = create_stack(&from_stack, NO_SECRET).await;
    let run = ops_with(
        &[
            "--stack",
            &stack,
            "checkpoint",
            "put",
            "--parameter",
            &explicit,
            "--token",
            "explicit",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        checkpoint_token(&explicit).await.as_deref(),
        Some("explicit")
    );
    assert_eq!(checkpoint_token(&from_stack).await, None);
}

#[tokio::test]
async fn the_credentials_secret_comes_from_the_stack() {
    let cfg = Moto::shared().sdk_config().await;
    let sm = aws_sdk_secretsmanager::Client::new(&cfg);
    let secret_name = unique("stack-secret");
    let created = sm
        .create_secret()
        .name(&secret_name)
        .secret_string(
            r#"{"username":"u","password":"p","apiUrl":"https://api.messages.suomi.fi"}"#,
        )
        .send()
        .await
        .unwrap();
    let stack = create_stack("/unused", created.arn().unwrap()).await;
    // Rotation is off for this secret: rotate's preflight names it — so it was read from the stack.
    let run = ops_with(&["--stack", &stack, "rotate"], &[]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&secret_name) && run.stderr.contains("rotation is not turned on"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_stack_that_does_not_exist_is_an_error_naming_it() {
    let missing = unique("no-such-stack");
    let run = ops_with(
        &["--stack", &missing, "checkpoint", "put", "--token", "t"],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(&missing) && run.stderr.contains("DescribeStacks"),
        "{}",
        run.stderr
    );
}
