//! The deployment template (`infra/template.yaml`) against the Cargo workspace, so that nothing is
//! renamed in one place only:
//!
//! - every `AWS::Serverless::Function` deploys a `[[bin]]` of a `functions/*` crate, built by
//!   cargo-lambda from the workspace root, and every such binary is deployed exactly once;
//! - every environment variable the template sets for a function is a string literal in that
//!   function's sources and is documented in its binary's `//!` header (`` - `NAME` ``);
//! - every variable a binary's header documents is set by the template, or marked optional there
//!   ("optional", "(default ...)", "unset: ..."), or provided by Lambda itself (`AWS_*`);
//! - every `SuomifiOps` metric and dimension the dashboard and alarms use is a string literal in
//!   the functions' sources (they emit it as CloudWatch Embedded Metric Format).
//!
//! Standalone: reads files only, needs no AWS, no network and no harness.

use serde_norway::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// At least this many functions make up the bundle (rotate-password, check-retrieval,
/// check-certificates); fewer means the template or the workspace was not read correctly.
const MIN_FUNCTIONS: usize = 3;

/// The CloudWatch namespace of the functions' Embedded Metric Format metrics.
const METRIC_NAMESPACE: &str = "SuomifiOps";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives inside the workspace")
        .to_path_buf()
}

fn template_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml")
}

// ---- The template --------------------------------------------------------------------------------

fn load_template() -> Value {
    let path = template_path();
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_norway::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
}

/// The value under a CloudFormation short-form tag (`!Ref X` → `X`), or the value itself.
fn untagged(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) => untagged(&tagged.value),
        other => other,
    }
}

fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    untagged(value).as_mapping()?.get(key)
}

fn get_str<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    get(value, key).and_then(|v| untagged(v).as_str())
}

/// Every string anywhere below `value` (keys and tagged values included).
fn collect_strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Sequence(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Mapping(map) => {
            for (k, v) in map {
                collect_strings(k, out);
                collect_strings(v, out);
            }
        }
        Value::Tagged(tagged) => collect_strings(&tagged.value, out),
        _ => {}
    }
}

/// [`collect_strings`] leaving out `Condition` blocks: their keys (`dynamodb:LeadingKeys`) name
/// condition keys, not actions.
fn collect_action_strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Sequence(items) => items.iter().for_each(|v| collect_action_strings(v, out)),
        Value::Mapping(map) => {
            for (k, v) in map {
                if k.as_str() == Some("Condition") {
                    continue;
                }
                collect_strings(k, out);
                collect_action_strings(v, out);
            }
        }
        Value::Tagged(tagged) => collect_action_strings(&tagged.value, out),
        other => collect_strings(other, out),
    }
}

/// The template's resources as (logical id, resource), without `Fn::ForEach::*` loops (their
/// resources are not functions).
fn resources(template: &Value) -> Vec<(String, &Value)> {
    let resources = get(template, "Resources")
        .and_then(|r| untagged(r).as_mapping())
        .expect("the template has a Resources mapping");
    resources
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v)))
        .filter(|(k, _)| !k.starts_with("Fn::ForEach::"))
        .collect()
}

/// One `AWS::Serverless::Function` of the template, with `Globals.Function` applied.
struct DeployedFunction<'a> {
    logical_id: String,
    resource: &'a Value,
    globals: Option<&'a Value>,
}

impl<'a> DeployedFunction<'a> {
    /// A property of the function, falling back to `Globals.Function` like SAM does.
    fn property(&self, key: &str) -> Option<&'a Value> {
        get(self.resource, "Properties")
            .and_then(|p| get(p, key))
            .or_else(|| self.globals.and_then(|g| get(g, key)))
    }

    /// The binary `sam build` ships as this function's `bootstrap`: the `build-<LogicalId>` target
    /// of infra/Makefile (BuildMethod makefile), `$(call ship,<binary>)`.
    fn binary(&self) -> Option<String> {
        makefile_binaries().remove(&self.logical_id)
    }

    fn environment(&self) -> BTreeSet<String> {
        self.property("Environment")
            .and_then(|e| get(e, "Variables"))
            .and_then(|v| untagged(v).as_mapping())
            .map(|vars| {
                vars.keys()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn logging_config(&self, key: &str) -> Option<&'a Value> {
        self.property("LoggingConfig").and_then(|l| get(l, key))
    }
}

/// infra/Makefile's `build-<LogicalId>:` targets and the binary each ships (`$(call ship,<binary>)`
/// on the recipe's first line).
fn makefile_binaries() -> BTreeMap<String, String> {
    let path = template_path().with_file_name("Makefile");
    let makefile =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut targets = BTreeMap::new();
    let mut lines = makefile.lines();
    while let Some(line) = lines.next() {
        let Some(id) = line
            .strip_prefix("build-")
            .and_then(|rest| rest.strip_suffix(':'))
        else {
            continue;
        };
        let recipe = lines.next().unwrap_or_default();
        let binary = recipe
            .strip_prefix("\t$(call ship,")
            .and_then(|rest| rest.strip_suffix(')'))
            .unwrap_or_else(|| {
                panic!(
                    "{}: build-{id} must be `$(call ship,<binary>)`",
                    path.display()
                )
            });
        assert!(
            targets.insert(id.to_owned(), binary.to_owned()).is_none(),
            "{}: build-{id} twice",
            path.display()
        );
    }
    targets
}

fn deployed_functions(template: &Value) -> Vec<DeployedFunction<'_>> {
    let globals = get(template, "Globals").and_then(|g| get(g, "Function"));
    let functions: Vec<_> = resources(template)
        .into_iter()
        .filter(|(_, r)| get_str(r, "Type") == Some("AWS::Serverless::Function"))
        .map(|(logical_id, resource)| DeployedFunction {
            logical_id,
            resource,
            globals,
        })
        .collect();
    assert!(
        functions.len() >= MIN_FUNCTIONS,
        "expected at least {MIN_FUNCTIONS} AWS::Serverless::Function resources in {}, found {}",
        template_path().display(),
        functions.len()
    );
    functions
}

// ---- The workspace -------------------------------------------------------------------------------

/// A binary target of a `functions/*` crate.
#[derive(Debug, Clone)]
struct WorkspaceBinary {
    crate_dir: PathBuf,
    main_rs: PathBuf,
}

/// `key = "value"` → `value` (enough for the `name`/`path` keys of Cargo manifests).
fn toml_string(line: &str, key: &str) -> Option<String> {
    let (k, v) = line.split_once('=')?;
    if k.trim() != key {
        return None;
    }
    let v = v.trim();
    let v = v.strip_prefix('"')?;
    Some(v[..v.find('"')?].to_owned())
}

/// The binaries of one crate: its `[[bin]]` targets, or the implicit `src/main.rs` one named after
/// the package.
fn crate_binaries(crate_dir: &Path) -> Vec<(String, WorkspaceBinary)> {
    let manifest_path = crate_dir.join("Cargo.toml");
    let manifest = fs::read_to_string(&manifest_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest_path.display()));
    let mut package_name = None;
    let mut bins: Vec<(Option<String>, Option<String>)> = Vec::new();
    let mut section = String::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_owned();
            if section == "[[bin]]" {
                bins.push((None, None));
            }
            continue;
        }
        match section.as_str() {
            "[package]" => package_name = package_name.or_else(|| toml_string(line, "name")),
            "[[bin]]" => {
                let bin = bins.last_mut().expect("inside a [[bin]] section");
                bin.0 = bin.0.take().or_else(|| toml_string(line, "name"));
                bin.1 = bin.1.take().or_else(|| toml_string(line, "path"));
            }
            _ => {}
        }
    }
    let package_name =
        package_name.unwrap_or_else(|| panic!("{} has no package name", manifest_path.display()));
    if bins.is_empty() && crate_dir.join("src/main.rs").is_file() {
        bins.push((Some(package_name.clone()), None));
    }
    bins.into_iter()
        .map(|(name, path)| {
            let name = name.unwrap_or_else(|| package_name.clone());
            let main_rs = crate_dir.join(path.unwrap_or_else(|| "src/main.rs".to_owned()));
            (
                name,
                WorkspaceBinary {
                    crate_dir: crate_dir.to_path_buf(),
                    main_rs,
                },
            )
        })
        .collect()
}

/// Every binary of the `functions/*` crates, by name.
fn function_binaries() -> BTreeMap<String, WorkspaceBinary> {
    let functions_dir = workspace_root().join("functions");
    let mut binaries = BTreeMap::new();
    let entries = fs::read_dir(&functions_dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", functions_dir.display()));
    for entry in entries {
        let crate_dir = entry.expect("directory entry").path();
        if !crate_dir.join("Cargo.toml").is_file() {
            continue;
        }
        for (name, binary) in crate_binaries(&crate_dir) {
            if let Some(previous) = binaries.insert(name.clone(), binary) {
                panic!(
                    "binary {name} is defined twice (also in {})",
                    previous.crate_dir.display()
                );
            }
        }
    }
    assert!(
        binaries.len() >= MIN_FUNCTIONS,
        "expected at least {MIN_FUNCTIONS} binaries in {}/*/Cargo.toml, found {:?}",
        functions_dir.display(),
        binaries.keys().collect::<Vec<_>>()
    );
    binaries
}

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// All Rust source text under `dir` (`src/**/*.rs` of a crate).
fn source_text(dir: &Path) -> String {
    let mut files = Vec::new();
    rust_sources(dir, &mut files);
    files.sort();
    files
        .iter()
        .map(|f| {
            fs::read_to_string(f).unwrap_or_else(|e| panic!("cannot read {}: {e}", f.display()))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn contains_literal(source: &str, name: &str) -> bool {
    source.contains(&format!("\"{name}\""))
}

fn is_env_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The variables a binary documents in its `//!` header, one entry per `` - `NAME` `` line, with
/// the entry's text (continuation lines included) to look for "optional".
fn documented_variables(main_rs: &Path) -> BTreeMap<String, String> {
    let text = fs::read_to_string(main_rs)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", main_rs.display()));
    let mut documented = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let Some(doc) = line.trim_start().strip_prefix("//!") else {
            current = None;
            continue;
        };
        let item = doc.trim_start();
        if let Some(rest) = item
            .strip_prefix("- `")
            .or_else(|| item.strip_prefix("* `"))
        {
            current = rest
                .split_once('`')
                .map(|(name, _)| name)
                .filter(|name| is_env_name(name))
                .map(str::to_owned);
            if let Some(name) = &current {
                documented.insert(name.clone(), item.to_owned());
            }
        } else if item.is_empty() || item.starts_with(['-', '*', '#']) {
            current = None;
        } else if let Some(name) = &current {
            // A continuation line of the current entry.
            let entry = documented.get_mut(name).expect("entry exists");
            entry.push(' ');
            entry.push_str(item);
        }
    }
    documented
}

/// Whether a header entry marks its variable as optional: "optional", a "(default ...)", or what
/// happens when it is "unset".
fn is_optional(entry: &str) -> bool {
    let entry = entry.to_ascii_lowercase();
    ["optional", "default", "unset"]
        .iter()
        .any(|marker| entry.contains(marker))
}

// ---- Tests ---------------------------------------------------------------------------------------

#[test]
fn every_function_binary_is_deployed_exactly_once_and_nothing_else() {
    let template = load_template();
    let functions = deployed_functions(&template);
    let binaries = function_binaries();

    let mut deployed: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for f in &functions {
        let binary = f.binary().unwrap_or_else(|| {
            panic!(
                "{0}: infra/Makefile has no build-{0} target (sam build's makefile method)",
                f.logical_id
            )
        });
        deployed.entry(binary).or_default().push(&f.logical_id);
    }

    let unknown: Vec<_> = deployed
        .keys()
        .filter(|b| !binaries.contains_key(b.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "the template deploys binaries that no functions/*/Cargo.toml defines: {unknown:?} \
         (workspace binaries: {:?})",
        binaries.keys().collect::<Vec<_>>()
    );
    let undeployed: Vec<_> = binaries
        .keys()
        .filter(|b| !deployed.contains_key(b.as_str()))
        .collect();
    assert!(
        undeployed.is_empty(),
        "function binaries not deployed by the template: {undeployed:?}"
    );
    let twice: Vec<_> = deployed.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(
        twice.is_empty(),
        "binaries deployed by more than one function: {twice:?}"
    );
}

#[test]
fn functions_are_built_from_the_workspace_root_by_one_release_build_with_json_logs() {
    let template = load_template();
    let functions = deployed_functions(&template);
    let infra_dir = template_path().parent().expect("infra/").to_path_buf();
    let root = workspace_root()
        .canonicalize()
        .expect("workspace root exists");

    for f in &functions {
        let id = &f.logical_id;
        // One workspace release build ships every function (infra/Makefile says why); the
        // Makefile beside the template (ContextPath) names the binary.
        let metadata = get(f.resource, "Metadata");
        let build_method = metadata.and_then(|m| get_str(m, "BuildMethod"));
        assert_eq!(build_method, Some("makefile"), "{id}: Metadata.BuildMethod");
        let context = metadata.and_then(|m| get_str(m, "ContextPath"));
        assert_eq!(
            context,
            Some("."),
            "{id}: Metadata.ContextPath (infra/Makefile)"
        );
        assert!(
            f.binary().is_some(),
            "{id}: no build-{id} target in infra/Makefile"
        );
        let runtime = f.property("Runtime").and_then(|v| untagged(v).as_str());
        assert_eq!(runtime, Some("provided.al2023"), "{id}: Runtime");
        let handler = f.property("Handler").and_then(|v| untagged(v).as_str());
        assert_eq!(
            handler,
            Some("bootstrap"),
            "{id}: Handler (infra/Makefile ships `bootstrap`)"
        );

        let code_uri = f
            .property("CodeUri")
            .and_then(|v| untagged(v).as_str())
            .unwrap_or_else(|| panic!("{id}: CodeUri must be a local path"));
        let code_dir = infra_dir
            .join(code_uri)
            .canonicalize()
            .unwrap_or_else(|e| panic!("{id}: CodeUri {code_uri} does not exist: {e}"));
        assert_eq!(code_dir, root, "{id}: CodeUri must be the workspace root");
        let manifest = fs::read_to_string(code_dir.join("Cargo.toml")).expect("root Cargo.toml");
        assert!(
            manifest.contains("[workspace]"),
            "{id}: CodeUri has no workspace Cargo.toml"
        );

        let format = f
            .logging_config("LogFormat")
            .and_then(|v| untagged(v).as_str());
        assert_eq!(format, Some("JSON"), "{id}: LoggingConfig.LogFormat");
    }

    // In place: SAM's makefile method otherwise copies the workspace (target/ included) to a
    // scratch directory and builds there from cold.
    let samconfig =
        fs::read_to_string(infra_dir.join("samconfig.toml")).expect("infra/samconfig.toml");
    let build_section = samconfig
        .split("[default.build.parameters]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("samconfig.toml has [default.build.parameters]");
    assert!(
        build_section
            .lines()
            .any(|l| l.trim() == "build_in_source = true"),
        "samconfig.toml: [default.build.parameters] must set build_in_source = true"
    );

    // The architecture is a parameter: x86_64 by default (what CI builds with `make package`),
    // arm64 possible.
    let architecture = get(&template, "Parameters")
        .and_then(|p| get(p, "Architecture"))
        .expect("an Architecture parameter");
    assert_eq!(get_str(architecture, "Default"), Some("x86_64"));
    let allowed: Vec<_> = get(architecture, "AllowedValues")
        .and_then(|v| untagged(v).as_sequence())
        .expect("Architecture.AllowedValues")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        allowed.contains(&"arm64") && allowed.contains(&"x86_64"),
        "{allowed:?}"
    );
    for f in &functions {
        let arch = f
            .property("Architectures")
            .and_then(|v| untagged(v).as_sequence());
        let refers = arch.is_some_and(|a| {
            a.len() == 1
                && matches!(&a[0], Value::Tagged(t) if t.value.as_str() == Some("Architecture"))
        });
        assert!(
            refers,
            "{}: Architectures must be [!Ref Architecture]",
            f.logical_id
        );
    }
}

#[test]
fn every_variable_the_template_sets_is_read_by_the_function() {
    let template = load_template();
    let functions = deployed_functions(&template);
    let binaries = function_binaries();

    let mut checked = 0;
    let mut missing = Vec::new();
    for f in &functions {
        let binary = f.binary().expect("checked by another test");
        let Some(crate_info) = binaries.get(&binary) else {
            continue;
        };
        let sources = source_text(&crate_info.crate_dir.join("src"));
        let environment = f.environment();
        assert!(
            !environment.is_empty(),
            "{}: sets no environment variables",
            f.logical_id
        );
        for name in environment {
            checked += 1;
            if !contains_literal(&sources, &name) {
                missing.push(format!("{binary}: {name}"));
            }
        }
    }
    assert!(checked >= MIN_FUNCTIONS, "only {checked} variables checked");
    assert!(
        missing.is_empty(),
        "the template sets variables that the function's sources (functions/<crate>/src/**/*.rs) \
         never name as a string literal:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn every_variable_the_template_sets_is_documented_in_the_binary_header() {
    let template = load_template();
    let functions = deployed_functions(&template);
    let binaries = function_binaries();

    let mut undocumented = Vec::new();
    for f in &functions {
        let binary = f.binary().expect("checked by another test");
        let Some(crate_info) = binaries.get(&binary) else {
            continue;
        };
        let documented = documented_variables(&crate_info.main_rs);
        for name in f.environment() {
            if !documented.contains_key(&name) {
                undocumented.push(format!("{binary}: {name}"));
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "variables set by the template but not listed as `//! - `NAME`` in the binary's header:\n  {}",
        undocumented.join("\n  ")
    );
}

#[test]
fn every_documented_variable_is_set_by_the_template_or_optional() {
    let template = load_template();
    let functions = deployed_functions(&template);
    let binaries = function_binaries();

    let mut problems = Vec::new();
    for f in &functions {
        let binary = f.binary().expect("checked by another test");
        let Some(crate_info) = binaries.get(&binary) else {
            continue;
        };
        let documented = documented_variables(&crate_info.main_rs);
        if documented.is_empty() {
            problems.push(format!(
                "{binary}: {} documents no variables (expected `//! - `NAME`` lines)",
                crate_info.main_rs.display()
            ));
            continue;
        }
        let environment = f.environment();
        for (name, entry) in &documented {
            let provided = match name.as_str() {
                // Lambda derives these from LoggingConfig.
                "AWS_LAMBDA_LOG_LEVEL" => f.logging_config("ApplicationLogLevel").is_some(),
                "AWS_LAMBDA_LOG_FORMAT" => f.logging_config("LogFormat").is_some(),
                // Set by the Lambda runtime or only used against emulators (AWS_ENDPOINT_URL...).
                other => other.starts_with("AWS_"),
            };
            let optional = is_optional(entry);
            if !(environment.contains(name) || provided || optional) {
                problems.push(format!(
                    "{binary}: {name} is documented as required but not set"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n  {}", problems.join("\n  "));
}

/// The DynamoDB operations the shared state-table adapter makes (`.get_item()` → `GetItem`), read
/// from its source.
fn state_table_actions() -> BTreeSet<String> {
    let source = fs::read_to_string(workspace_root().join("shared/src/state.rs"))
        .expect("shared/src/state.rs");
    let mut actions = BTreeSet::new();
    for (i, _) in source.match_indices(".client") {
        let call = source[i + ".client".len()..].trim_start();
        let Some(call) = call.strip_prefix('.') else {
            continue;
        };
        let method: String = call
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        let action: String = method
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect();
        actions.insert(action);
    }
    actions
}

#[test]
fn roles_that_use_the_state_table_allow_exactly_the_calls_the_code_makes() {
    let needed = state_table_actions();
    for op in ["GetItem", "PutItem", "DeleteItem", "BatchGetItem"] {
        assert!(needed.contains(op), "{op} not found in {needed:?}");
    }
    let template = load_template();
    let binaries = function_binaries();
    let mut checked = 0;
    for f in deployed_functions(&template) {
        // Batched reads only where the function's own code asks for them (least privilege).
        let source = f
            .binary()
            .and_then(|b| binaries.get(&b))
            .map(|b| source_text(&b.crate_dir))
            .unwrap_or_default();
        let batches = source.contains(".prefetch(") || source.contains(".get_many(");
        let needed: BTreeSet<&String> = needed
            .iter()
            .filter(|a| batches || !a.starts_with("Batch"))
            .collect();
        // The function's inline policies, or those of the role it names (`!GetAtt XRole.Arn`).
        let mut strings = Vec::new();
        if let Some(policies) = f.property("Policies") {
            collect_action_strings(policies, &mut strings);
        }
        let role = f
            .property("Role")
            .and_then(|r| untagged(r).as_str())
            .map(|r| r.trim_end_matches(".Arn").to_owned());
        if let Some((_, role)) = resources(&template)
            .into_iter()
            .find(|(id, _)| Some(id) == role.as_ref())
            && let Some(policies) = get(role, "Properties").and_then(|p| get(p, "Policies"))
        {
            collect_action_strings(policies, &mut strings);
        }
        let granted: BTreeSet<&str> = strings
            .iter()
            .filter_map(|s| s.strip_prefix("dynamodb:"))
            .collect();
        if granted.is_empty() {
            continue;
        }
        checked += 1;
        let missing: Vec<_> = needed
            .iter()
            .filter(|a| !granted.contains(a.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "{} may use the state table but its role lacks dynamodb:{missing:?}",
            f.logical_id
        );
        let unused: Vec<_> = granted
            .iter()
            .filter(|g| !needed.iter().any(|n| n.as_str() == **g))
            .collect();
        assert!(
            unused.is_empty(),
            "{}'s role grants dynamodb:{unused:?}, which its code never calls",
            f.logical_id
        );
    }
    assert!(
        checked >= 3,
        "rotate-password, check-retrieval and check-certificates keep alert state"
    );
}

/// Metric names the template uses: `"SuomifiOps", "Name"` in dashboard metric arrays,
/// `SEARCH('{SuomifiOps,Dim} MetricName="Name"'...)` expressions, and alarms on the namespace.
/// Returns (metric names, dimension names).
fn template_metrics(template: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    fn word_after(s: &str) -> String {
        s.trim_start_matches(|c: char| c == '\\' || c == '"' || c == ',' || c.is_whitespace())
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect()
    }
    let mut strings = Vec::new();
    collect_strings(template, &mut strings);
    let mut metrics = BTreeSet::new();
    let mut dimensions = BTreeSet::new();
    let quoted_namespace = format!("\"{METRIC_NAMESPACE}\"");
    let search_schema = format!("{{{METRIC_NAMESPACE},");
    for s in strings {
        for (i, _) in s.match_indices(&quoted_namespace) {
            let name = word_after(&s[i + quoted_namespace.len()..]);
            if !name.is_empty() {
                metrics.insert(name);
            }
        }
        for (i, _) in s.match_indices(&search_schema) {
            let rest = &s[i + search_schema.len()..];
            let Some(end) = rest.find('}') else { continue };
            dimensions.extend(rest[..end].split(',').map(|d| d.trim().to_owned()));
            if let Some(j) = rest.find("MetricName=") {
                metrics.insert(word_after(&rest[j + "MetricName=".len()..]));
            }
        }
    }
    for (_, resource) in resources(template) {
        let Some(props) = get(resource, "Properties") else {
            continue;
        };
        if get_str(props, "Namespace") == Some(METRIC_NAMESPACE) {
            metrics.extend(get_str(props, "MetricName").map(str::to_owned));
        }
    }
    metrics.remove("");
    dimensions.remove("");
    (metrics, dimensions)
}

#[test]
fn metrics_the_dashboard_and_alarms_use_are_emitted_by_the_functions() {
    let template = load_template();
    let (metrics, dimensions) = template_metrics(&template);
    // Retrieval backlog and age, heartbeat, deletion, password age, certificate expiry, rotation.
    assert!(
        metrics.len() >= 7,
        "found only these {METRIC_NAMESPACE} metrics: {metrics:?}"
    );
    assert!(
        dimensions.contains("Target"),
        "DaysToExpiry per Target expected: {dimensions:?}"
    );

    let root = workspace_root();
    let functions_source = source_text(&root.join("functions"));
    // The `Stack` dimension is added to every metric by the shared telemetry module.
    let namespace_source = functions_source.clone() + &source_text(&root.join("shared/src"));
    let missing: Vec<_> = metrics
        .iter()
        .filter(|name| !contains_literal(&functions_source, name))
        .chain(
            dimensions
                .iter()
                .filter(|name| !contains_literal(&namespace_source, name)),
        )
        .collect();
    assert!(
        missing.is_empty(),
        "metric names the template uses but no functions/*/src/**/*.rs names as a string \
         literal, or dimensions neither they nor shared/src name: {missing:?}"
    );
    assert!(
        contains_literal(&namespace_source, METRIC_NAMESPACE),
        "no function or shared source names the metric namespace \"{METRIC_NAMESPACE}\""
    );
}

// ---- Tests of the helpers above (so a parsing mistake cannot make the checks pass vacuously) --------

#[test]
fn documented_variables_reads_names_optional_markers_and_continuations() {
    let dir = std::env::temp_dir().join(format!("infra-template-test-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("temp dir");
    let main_rs = dir.join("main.rs");
    fs::write(
        &main_rs,
        "//! check-x\n//!\n//! Environment:\n//! - `STATE_TABLE`: the table.\n\
         //! - `CHECKPOINT_PARAMETER`: the parameter\n//!   (optional).\n\
         //! - `not_a_var`: ignored\n//! Other text.\nuse x;\n",
    )
    .expect("write");
    let documented = documented_variables(&main_rs);
    fs::remove_dir_all(&dir).ok();
    assert_eq!(
        documented.keys().collect::<Vec<_>>(),
        ["CHECKPOINT_PARAMETER", "STATE_TABLE"]
    );
    assert!(is_optional(&documented["CHECKPOINT_PARAMETER"]));
    assert!(!is_optional(&documented["STATE_TABLE"]));
    assert!(is_optional(
        "- `REMINDER_HOURS` — repeat an open alert this often (default 24)"
    ));
    assert!(is_optional(
        "- `ALERT_TOPIC_ARN` — SNS topic; unset: alerts are only logged"
    ));
}

#[test]
fn template_metrics_finds_dashboard_arrays_search_expressions_and_alarms() {
    let template: Value = serde_norway::from_str(
        r#"
Resources:
  Board:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardBody: !Sub
        - |
          {"metrics": [["SuomifiOps", "BacklogCount", {"stat": "Maximum"}]],
           "x": [[{"expression": "SEARCH('{SuomifiOps,Target} MetricName=\"DaysToExpiry\"', 'Minimum', 3600)"}]]}
        - {}
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: SuomifiOps
      MetricName: HeartbeatAgeMinutes
  Other:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
"#,
    )
    .expect("yaml");
    let (metrics, dimensions) = template_metrics(&template);
    assert_eq!(
        metrics.iter().map(String::as_str).collect::<Vec<_>>(),
        ["BacklogCount", "DaysToExpiry", "HeartbeatAgeMinutes"]
    );
    assert_eq!(
        dimensions.iter().map(String::as_str).collect::<Vec<_>>(),
        ["Target"]
    );
}

#[test]
fn crate_binaries_reads_bin_sections_and_the_implicit_main() {
    let dir = std::env::temp_dir().join(format!("infra-template-bins-{}", std::process::id()));
    let explicit = dir.join("explicit");
    let implicit = dir.join("implicit");
    fs::create_dir_all(explicit.join("src")).expect("temp dir");
    fs::create_dir_all(implicit.join("src")).expect("temp dir");
    fs::write(
        explicit.join("Cargo.toml"),
        "[package]\nname = \"pkg\"\n\n[lib]\nname = \"pkg_lib\"\n\n[[bin]]\nname = \"tool-a\"\npath = \"src/bin/a.rs\"\n\n[dependencies]\nname = \"nope\"\n",
    )
    .expect("write");
    fs::write(
        implicit.join("Cargo.toml"),
        "[package]\nname = \"implicit-bin\"\n",
    )
    .expect("write");
    fs::write(implicit.join("src/main.rs"), "fn main() {}\n").expect("write");
    let explicit_bins = crate_binaries(&explicit);
    let implicit_bins = crate_binaries(&implicit);
    fs::remove_dir_all(&dir).ok();
    assert_eq!(explicit_bins.len(), 1);
    assert_eq!(explicit_bins[0].0, "tool-a");
    assert!(explicit_bins[0].1.main_rs.ends_with("src/bin/a.rs"));
    assert_eq!(implicit_bins.len(), 1);
    assert_eq!(implicit_bins[0].0, "implicit-bin");
    assert!(implicit_bins[0].1.main_rs.ends_with("src/main.rs"));
}
