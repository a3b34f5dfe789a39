//! Every command the docs show runs in CI: `.ci/doc-commands` lists them and
//! `.ci/run` runs each one as written (in a scratch folder), and this test
//! fails when the list and the docs differ, so a command added to (or
//! changed in) README.md, docs/REPORT.md or docs/AUTODIFF.md cannot skip CI.
//!
//! What counts as a command: each line of a ```sh block (a line ending in
//! `\` continues on the next; a `# comment` is not part of it), and each
//! inline code span of the prose that starts with `cargo ` or `python `.
//! A usage line shows optional flags in brackets (`[--seed 0]`, checked
//! against `--help` by `readme.rs`); the command CI runs is the line without
//! them, which runs with every default.

use std::collections::BTreeSet;
use std::path::Path;

/// The docs whose commands CI runs, from the workspace root.
const DOCS: [&str; 3] = ["README.md", "docs/REPORT.md", "docs/AUTODIFF.md"];

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `text` without its `[…]` groups (nested ones too), spaces collapsed.
fn without_options(text: &str) -> String {
    let mut depth = 0usize;
    let mut out = String::new();
    for c in text.chars() {
        match c {
            // A `[` right after a `/` is a glob (`runs/latest/[1-6]_*.png`).
            '[' if !out.ends_with('/') => depth += 1,
            ']' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The commands of one markdown text, in order of appearance.
fn commands(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut prose = String::new();
    let mut fence: Option<String> = None;
    let mut pending = String::new();
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            fence = match fence {
                None => Some(info.trim().to_string()),
                Some(_) => None,
            };
            continue;
        }
        match fence.as_deref() {
            Some("sh") => {
                let code = match trimmed.find(" #") {
                    Some(at) => &trimmed[..at],
                    None => trimmed,
                };
                pending.push_str(code.trim_end_matches('\\'));
                pending.push(' ');
                if !code.trim_end().ends_with('\\') {
                    if !pending.trim().is_empty() {
                        found.push(without_options(&pending));
                    }
                    pending.clear();
                }
            }
            Some(_) => {}
            None => {
                prose.push_str(line);
                prose.push('\n');
            }
        }
    }
    // Inline spans may wrap onto the next line of a paragraph.
    let prose = prose.replace('\n', " ");
    for (i, span) in prose.split('`').enumerate() {
        let span = span.trim();
        if i % 2 == 1 && (span.starts_with("cargo ") || span.starts_with("python ")) {
            found.push(without_options(span));
        }
    }
    found
}

/// The commands `.ci/doc-commands` lists, without their `above:` or
/// `needs TOOL:` prefix.
fn ci_list() -> Vec<String> {
    let text = std::fs::read_to_string(root().join(".ci/doc-commands")).expect(".ci/doc-commands");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let command = match l.split_once(": ") {
                Some((prefix, rest)) if prefix == "above" || prefix.starts_with("needs ") => rest,
                _ => l,
            };
            command.to_string()
        })
        .collect()
}

#[test]
fn ci_runs_every_command_the_docs_show() {
    let mut in_docs = BTreeSet::new();
    for doc in DOCS {
        let text = std::fs::read_to_string(root().join(doc)).expect(doc);
        let found = commands(&text);
        assert!(!found.is_empty(), "no commands found in {doc}");
        in_docs.extend(found);
    }
    let listed: Vec<String> = ci_list();
    let in_ci: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(in_ci.len(), listed.len(), "a command is listed twice");
    let missing: Vec<&String> = in_docs.difference(&in_ci).collect();
    let stale: Vec<&String> = in_ci.difference(&in_docs).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "shown in the docs but not run by CI (add to .ci/doc-commands): {missing:#?}\n\
         run by CI but shown nowhere (remove from .ci/doc-commands): {stale:#?}"
    );
}

/// The extraction itself, on a made-up document: continued lines, comments,
/// options, wrapped inline spans, and blocks that are output, not commands.
#[test]
fn commands_are_read_as_ci_runs_them() {
    let doc = "Run `cargo run -p cli --\ntape` or `cargo fmt`, not `cli`.\n\
               ```sh\n\
               cargo run -p cli -- train [--data moons] \\\n    [--seed 0] [--out runs/latest]   # a comment\n\
               cp runs/latest/[1-6]_*.png docs/figures/\n\
               ```\n\
               ```\n\
               cargo output that is not a command\n\
               ```\n";
    assert_eq!(
        commands(doc),
        [
            "cargo run -p cli -- train",
            "cp runs/latest/[1-6]_*.png docs/figures/",
            "cargo run -p cli -- tape",
            "cargo fmt",
        ]
    );
}
