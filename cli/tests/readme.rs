//! The README's usage lines must say what `--help` says: the same flags, the
//! same defaults, the same choices. A flag added, renamed or given a new
//! default without the README following makes this test fail.
//!
//! README convention, in each ```sh block that runs `cargo run -p cli -- CMD`:
//! `[--flag VALUE]` where VALUE is the default if the flag has one (for a
//! choice, `default|other|…`, default first, every choice listed), and a
//! placeholder in capitals (`N`, `FILE.csv`) if it has none.

mod common;
use common::{cli, fresh_dir};
use std::collections::{BTreeMap, BTreeSet};

/// What `--help` says of one flag.
#[derive(Debug, Default)]
struct HelpFlag {
    default: Option<String>,
    choices: Vec<String>,
}

/// The flags of `cli CMD --help`, by name (`--layers`).
fn help_flags(command: &str) -> (BTreeMap<String, HelpFlag>, BTreeMap<String, String>) {
    let dir = fresh_dir("readme", command);
    let out = cli(&dir, &[command, "--help"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut flags: BTreeMap<String, HelpFlag> = BTreeMap::new();
    let mut aliases = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with('-') && indent <= 6 {
            let name = trimmed
                .split([' ', ','])
                .find(|w| w.starts_with("--"))
                .map(str::to_string);
            // `-n, --num <N>`: the README may use the short form.
            if let (Some(short), Some(long)) = (trimmed.split(',').next(), &name) {
                if short.len() == 2 && short.starts_with('-') {
                    aliases.insert(short.to_string(), long.clone());
                }
            }
            current = name.filter(|n| n != "--help" && n != "--version");
            if let Some(n) = &current {
                flags.entry(n.clone()).or_default();
            }
        }
        let Some(flag) = current.as_ref().and_then(|n| flags.get_mut(n)) else {
            continue;
        };
        if let Some(rest) = trimmed.split("[default: ").nth(1) {
            flag.default = rest.split(']').next().map(str::to_string);
        }
        if let Some(rest) = trimmed.strip_prefix("- ") {
            flag.choices
                .push(rest.split(':').next().unwrap().to_string());
        }
        if let Some(rest) = trimmed.split("[possible values: ").nth(1) {
            let list = rest.split(']').next().unwrap();
            flag.choices.extend(list.split(", ").map(str::to_string));
        }
    }
    (flags, aliases)
}

/// The flags of the README's usage lines for `cli CMD`, bracketed (optional)
/// or not (required): flag → the value shown (empty for a switch).
fn readme_flags(command: &str) -> BTreeMap<String, String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("the README");
    let starts = [
        format!("cargo run -p cli -- {command} "),
        format!("cargo run --release -p cli -- {command} "),
    ];
    let mut usage = String::new();
    let mut in_usage = false;
    for line in readme.lines() {
        if starts.iter().any(|s| line.starts_with(s)) {
            in_usage = true;
        } else if !line.starts_with("    ") {
            in_usage = false;
        }
        if in_usage {
            let line = starts
                .iter()
                .find_map(|s| line.strip_prefix(s))
                .unwrap_or(line);
            usage.push_str(line.trim_end_matches('\\'));
            usage.push(' ');
        }
    }
    assert!(!usage.is_empty(), "no usage of `{command}` in the README");
    let spaced = usage.replace('[', " [ ").replace(']', " ] ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut flags = BTreeMap::new();
    let mut depth = 0;
    for (i, token) in tokens.iter().enumerate() {
        match *token {
            "[" => depth += 1,
            "]" => depth -= 1,
            _ => {}
        }
        // A required flag (outside brackets) shows an example value.
        if !token.starts_with('-') || *token == "--" || depth == 0 {
            if depth == 0 && token.starts_with("--") {
                flags.insert(token.to_string(), "REQUIRED".to_string());
            }
            continue;
        }
        let value = tokens
            .get(i + 1)
            .filter(|v| !v.starts_with('-') && !["[", "]", "|"].contains(v))
            .unwrap_or(&"");
        flags.insert(token.to_string(), value.to_string());
    }
    flags
}

fn check_command(command: &str) {
    let (help, aliases) = help_flags(command);
    let readme: BTreeMap<String, String> = readme_flags(command)
        .into_iter()
        .map(|(flag, value)| (aliases.get(&flag).cloned().unwrap_or(flag), value))
        .collect();
    let in_help: BTreeSet<&String> = help.keys().collect();
    let in_readme: BTreeSet<&String> = readme.keys().collect();
    assert_eq!(
        in_readme, in_help,
        "`{command}`: the README's flags (left) differ from --help's (right)"
    );
    for (flag, value) in &readme {
        let h = &help[flag];
        let shown: Vec<&str> = value.split('|').collect();
        match &h.default {
            // A placeholder is fine where the default is not a fixed value
            // (`--threads N`: one per core).
            _ if value.chars().next().is_some_and(char::is_uppercase) && h.default.is_none() => {}
            Some(default) => assert_eq!(
                shown[0], default,
                "`{command} {flag}`: the README shows {value:?}, --help's default is {default}"
            ),
            None => assert!(
                value.is_empty() || value.chars().next().unwrap().is_uppercase(),
                "`{command} {flag}`: the README shows the value {value:?} but the flag has no default"
            ),
        }
        if !h.choices.is_empty() && h.default.is_some() {
            let shown: BTreeSet<&str> = shown.into_iter().collect();
            let choices: BTreeSet<&str> = h.choices.iter().map(String::as_str).collect();
            assert_eq!(
                shown, choices,
                "`{command} {flag}`: the README lists other choices than --help"
            );
        }
    }
}

#[test]
fn readme_train_usage_matches_help() {
    check_command("train");
}

#[test]
fn readme_sample_eval_plot_usage_matches_help() {
    for command in ["sample", "eval", "plot", "tape", "bench", "report", "vi"] {
        check_command(command);
    }
}
