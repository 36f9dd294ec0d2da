//! `aiobs view`: the trace tree of real files, one line per call.

mod common;

use common::{aiobs, arg, python_fixture, runtime_trace};

#[test]
fn the_python_fixture_shows_its_sessions_and_tree() {
    let run = aiobs(&["view", arg(&python_fixture())]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "2 sessions:");
    assert!(lines[1].starts_with(
        "  session fixture-ended e91cfead-7992-44f7-9890-2a5e7895f618  20 calls  aiobs_hostname=vm"
    ));
    assert!(lines[2].starts_with("  session fixture-active ac0d3607-"));
    for expected in [
        "── fixture-ended ──",
        "├─ summarize  3.492 ms  (\"Alpha Beta Gamma\", max_words=2) → \"alpha beta\"",
        "│  └─ tokenize  2.781 ms  (\"Alpha Beta Gamma\", lower=true) → [\"alpha\",\"beta\",\"gamma\"]",
        "recover  3.058 ms  () → \"recovered from bad input: 42\"",
        "└─ ✗ flaky  2.510 ms  (42) error: ValueError: bad input: 42",
        "└─ openai chat.completions.create gpt-4o-mini-2024-07-18 21→9 tok  4.548 ms",
        "── fixture-active ──",
    ] {
        assert!(
            lines.contains(&expected),
            "no line {expected:?} in\n{}",
            run.stdout
        );
    }
    // 25 calls, 25 lines, besides the sessions and the headers.
    let calls = lines.iter().filter(|l| l.contains(" ms")).count();
    assert_eq!(calls, 25, "{}", run.stdout);
}

#[test]
fn a_runtime_trace_nests_calls_shows_the_llm_call_and_marks_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = runtime_trace(dir.path());
    let run = aiobs(&["view", arg(&file)]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("session demo "), "{}", run.stdout);
    assert!(
        lines[0].ends_with("6 calls  team=cli") || lines[0].contains("6 calls"),
        "{}",
        lines[0]
    );
    let calls: Vec<&str> = lines[2..].to_vec();
    assert_eq!(calls.len(), 6, "{}", run.stdout);
    assert!(calls[0].starts_with("agent  "), "{}", calls[0]);
    assert!(calls[0].contains("(question=\"What is two plus two\") → \"5 words: four\""));
    assert!(calls[1].starts_with("├─ tokenize  "));
    assert!(calls[2].starts_with("├─ ✗ lookup  "));
    assert!(calls[2].ends_with("(key=\"missing\") error: ToolError: no entry for missing"));
    assert!(calls[3].starts_with("├─ lookup  ") && calls[3].ends_with("(key=\"present\") → 7"));
    assert!(calls[4].starts_with("└─ ask  "));
    assert!(
        calls[5]
            .starts_with("   └─ openai chat.completions.create gpt-4o-mini-2024-07-18 12→5 tok  "),
        "{}",
        calls[5]
    );
}

#[test]
fn a_file_without_a_tree_shows_the_same_tree() {
    let dir = tempfile::tempdir().unwrap();
    let file = runtime_trace(dir.path());
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    value["trace_tree"] = serde_json::Value::Null;
    let flat = dir.path().join("flat.json");
    std::fs::write(&flat, serde_json::to_vec(&value).unwrap()).unwrap();
    let with_tree = aiobs(&["view", arg(&file)]);
    let without = aiobs(&["view", arg(&flat)]);
    assert_eq!(without.code, Some(0), "{}", without.stderr);
    assert_eq!(with_tree.stdout, without.stdout);
}

#[test]
fn depth_limits_the_levels_shown() {
    let run = aiobs(&["view", "--depth", "1", arg(&python_fixture())]);
    assert_eq!(run.code, Some(0));
    assert!(
        !run.stdout.contains("├─ ") && !run.stdout.contains("└─ "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\npipeline  28.682 ms"));
    let two = aiobs(&["view", "--depth", "2", arg(&python_fixture())]);
    assert!(two.stdout.contains("├─ summarize") && !two.stdout.contains("└─ tokenize"));
}

#[test]
fn errors_only_keeps_the_paths_to_failed_calls() {
    let run = aiobs(&["view", "--errors-only", arg(&python_fixture())]);
    assert_eq!(run.code, Some(0));
    let calls: Vec<&str> = run.stdout.lines().filter(|l| l.contains(" ms")).collect();
    assert_eq!(
        calls,
        [
            "recover  3.058 ms  () → \"recovered from bad input: 42\"",
            "└─ ✗ flaky  2.510 ms  (42) error: ValueError: bad input: 42",
        ]
    );
}

#[test]
fn grep_keeps_matching_calls_and_their_ancestors() {
    let run = aiobs(&["view", "--grep", "EPSILON", arg(&python_fixture())]);
    assert_eq!(run.code, Some(0));
    let calls: Vec<&str> = run.stdout.lines().filter(|l| l.contains(" ms")).collect();
    assert_eq!(calls.len(), 3, "{}", run.stdout);
    assert!(calls[0].starts_with("pipeline  28.682 ms"));
    assert!(calls[1].starts_with("└─ summarize  3.422 ms  (\"Delta Epsilon\""));
    assert!(calls[2].starts_with("   └─ tokenize  2.763 ms"));
    let none = aiobs(&[
        "view",
        "--grep",
        "no such text anywhere",
        arg(&python_fixture()),
    ]);
    assert!(
        none.stdout.ends_with("\nno call matches\n"),
        "{}",
        none.stdout
    );
}

#[test]
fn lines_are_shortened_to_the_terminal_width() {
    for width in [40usize, 72, 100] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_aiobs"))
            .args(["view", arg(&python_fixture())])
            .env("COLUMNS", width.to_string())
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        for line in text.lines().filter(|l| l.contains(" ms")) {
            let n = line.chars().count();
            assert!(n <= width, "{n} > {width}: {line}");
        }
        assert!(text.contains('…'), "something is cut at {width}");
        if width == 100 {
            // Session lines too (their labels are cut) when there is room for name and id.
            assert!(text.lines().all(|l| l.chars().count() <= width), "{text}");
        }
    }
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let file = python_fixture();
    let always = aiobs(&["view", "--color", "always", arg(&file)]);
    assert!(always.stdout.contains("\x1b[31m✗ \x1b[0m"), "errors in red");
    // Not a terminal: no colour by default.
    assert!(!aiobs(&["view", arg(&file)]).stdout.contains('\x1b'));
    assert!(
        !aiobs(&["view", "--color", "never", arg(&file)])
            .stdout
            .contains('\x1b')
    );
    let no_color = std::process::Command::new(env!("CARGO_BIN_EXE_aiobs"))
        .args(["view", "--color", "auto", arg(&file)])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&no_color.stdout).contains('\x1b'));
}
