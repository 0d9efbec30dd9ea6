//! `--stack NAME` (or `SUOMIFI_OPS_STACK`): every value a command needs, read from the deployed
//! stack's Outputs (CloudFormation `DescribeStacks`), so an operator exports nothing else.
//!
//! Each output fills the option that reads the same environment variable as the functions do
//! ([`OUTPUTS`]). It is only a default: an option on the command line, or its environment
//! variable, still wins — so `--stack prod --secret-id other` works on another secret.

use crate::error::CliError;
use clap::{Arg, ArgMatches, Command};
use std::collections::BTreeMap;

/// The variable naming the stack when `--stack` is not given.
pub const STACK_VAR: &str = "SUOMIFI_OPS_STACK";

/// Which stack output fills the options reading which variable: (variable, output for a
/// one-value option, output for a list option such as `status --secret-id`).
pub const OUTPUTS: &[(&str, &str, &str)] = &[
    (
        "SUOMIFI_SECRET_ID",
        "CredentialsSecretArn",
        "RotatedSecretArns",
    ),
    ("SYSTEMS", "Systems", "Systems"),
    ("STATE_TABLE", "StateTableName", "StateTableName"),
    ("ALERT_TOPIC_ARN", "AlertTopicArn", "AlertTopicArn"),
    (
        "CHECKPOINT_PARAMETER",
        "CheckpointParameter",
        "CheckpointParameter",
    ),
    (
        "CERT_TARGETS",
        "WatchedCertificateTargets",
        "WatchedCertificateTargets",
    ),
    (
        "THRESHOLD_DAYS",
        "CertificateThresholds",
        "CertificateThresholds",
    ),
];

/// The stack the command line asks for (`--stack` anywhere, else `SUOMIFI_OPS_STACK`), read
/// before the full parse: the full parse needs the stack's values for its required options.
pub fn requested(cmd: Command) -> Option<String> {
    let matches = cmd.ignore_errors(true).try_get_matches().ok()?;
    find_stack(&matches).filter(|s| !s.trim().is_empty())
}

fn find_stack(m: &ArgMatches) -> Option<String> {
    if let Ok(Some(s)) = m.try_get_one::<String>("stack") {
        return Some(s.clone());
    }
    m.subcommand().and_then(|(_, sub)| find_stack(sub))
}

/// The stack's outputs, key → value. A stack that does not exist, or an identity without
/// `cloudformation:DescribeStacks`, is an error naming the stack.
pub async fn outputs(stack: &str) -> Result<BTreeMap<String, String>, CliError> {
    let sdk = crate::aws_config().await?;
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);
    let described = cfn
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| crate::aws_error(&format!("DescribeStacks on stack `{stack}`"), &e))?;
    let Some(found) = described.stacks().first() else {
        return Err(CliError::new(format!("stack `{stack}` not found"))
            .hint("give the stack's name as sam deploy used it (aws cloudformation list-stacks)"));
    };
    Ok(found
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect())
}

/// `cmd` with every option that reads a variable of [`OUTPUTS`] defaulting to the stack's value
/// (in every subcommand). Options whose output the stack lacks are left as they are.
///
/// In a command that takes `SYSTEMS` (`check retrieval`), the one-system options
/// (`--secret-id`, `--checkpoint-parameter`) are not filled: the stack's systems are the
/// default, and an explicit `--secret-id` checks that one secret instead.
pub fn with_defaults(cmd: Command, outputs: &BTreeMap<String, String>) -> Command {
    let takes_systems = cmd
        .get_arguments()
        .any(|a| a.get_env().and_then(|v| v.to_str()) == Some("SYSTEMS"));
    cmd.mut_args(|arg| default_from(arg, outputs, takes_systems))
        .mut_subcommands(|sub| with_defaults(sub, outputs))
}

fn default_from(arg: Arg, outputs: &BTreeMap<String, String>, takes_systems: bool) -> Arg {
    let Some(var) = arg.get_env().and_then(|v| v.to_str()) else {
        return arg;
    };
    let one_system = matches!(var, "SUOMIFI_SECRET_ID" | "CHECKPOINT_PARAMETER");
    if takes_systems && one_system && arg.get_value_delimiter().is_none() {
        return arg;
    }
    let Some((_, one, list)) = OUTPUTS.iter().find(|(v, _, _)| *v == var) else {
        return arg;
    };
    let delimiter = arg.get_value_delimiter();
    let key = if delimiter.is_some() { list } else { one };
    let Some(value) = outputs.get(*key).filter(|v| !v.is_empty()) else {
        return arg;
    };
    let values: Vec<String> = match delimiter {
        Some(d) => value.split(d).map(str::to_owned).collect(),
        None => vec![value.clone()],
    };
    arg.required(false).default_values(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Probe {
        #[arg(long, global = true, env = "PROBE_STACK_UNUSED")]
        stack: Option<String>,
        #[command(subcommand)]
        command: ProbeCommand,
    }

    #[derive(clap::Subcommand, Debug)]
    enum ProbeCommand {
        One {
            #[arg(long, env = "SUOMIFI_SECRET_ID")]
            secret_id: String,
            #[arg(long, env = "CHECKPOINT_PARAMETER")]
            parameter: Option<String>,
        },
        Many {
            #[arg(long, env = "SUOMIFI_SECRET_ID", value_delimiter = ',')]
            secret_id: Vec<String>,
        },
    }

    fn outputs() -> BTreeMap<String, String> {
        [
            ("CredentialsSecretArn", "arn:first"),
            ("RotatedSecretArns", "arn:first,arn:second"),
            ("CheckpointParameter", "/from/stack"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn parse(args: &[&str]) -> Probe {
        use clap::{CommandFactory, FromArgMatches};
        let cmd = with_defaults(Probe::command(), &outputs());
        Probe::from_arg_matches(&cmd.try_get_matches_from(args).expect("parses")).expect("fits")
    }

    #[test]
    fn a_required_option_is_filled_from_the_stack() {
        let ProbeCommand::One {
            secret_id,
            parameter,
        } = parse(&["probe", "one"]).command
        else {
            panic!("wrong subcommand")
        };
        assert_eq!(secret_id, "arn:first");
        assert_eq!(parameter.as_deref(), Some("/from/stack"));
    }

    #[test]
    fn the_command_line_wins_over_the_stack() {
        let ProbeCommand::One { secret_id, .. } =
            parse(&["probe", "one", "--secret-id", "mine"]).command
        else {
            panic!("wrong subcommand")
        };
        assert_eq!(secret_id, "mine");
    }

    #[test]
    fn a_list_option_gets_every_secret_in_order() {
        let ProbeCommand::Many { secret_id } = parse(&["probe", "many"]).command else {
            panic!("wrong subcommand")
        };
        assert_eq!(secret_id, ["arn:first", "arn:second"]);
    }

    #[derive(Parser, Debug)]
    struct Systems {
        #[arg(long, env = "SYSTEMS")]
        systems: Option<String>,
        #[arg(long, env = "SUOMIFI_SECRET_ID")]
        secret_id: Option<String>,
    }

    #[test]
    fn a_command_taking_systems_defaults_to_the_stacks_systems_not_its_first_secret() {
        use clap::{CommandFactory, FromArgMatches};
        let mut out = outputs();
        out.insert("Systems".into(), r#"[{"name":"a","secret":"s"}]"#.into());
        let cmd = with_defaults(Systems::command(), &out);
        let parsed =
            Systems::from_arg_matches(&cmd.clone().try_get_matches_from(["s"]).unwrap()).unwrap();
        assert!(parsed.systems.is_some());
        assert_eq!(
            parsed.secret_id, None,
            "the first secret is not a default here"
        );
        let one = Systems::from_arg_matches(
            &cmd.try_get_matches_from(["s", "--secret-id", "mine"])
                .unwrap(),
        )
        .unwrap();
        assert_eq!(one.secret_id.as_deref(), Some("mine"));
    }

    #[test]
    fn the_stack_is_found_after_the_subcommand_too() {
        use clap::CommandFactory;
        let m = Probe::command()
            .ignore_errors(true)
            .try_get_matches_from(["probe", "one", "--stack", "qa"])
            .unwrap();
        assert_eq!(find_stack(&m).as_deref(), Some("qa"));
    }
}
