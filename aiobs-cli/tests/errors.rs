//! Bad input gets one line on stderr naming the file and the place, and exit status 1; never
//! a panic.

mod common;

use common::{aiobs, arg, python_fixture};

/// `aiobs SUBCOMMAND FILE` on a file holding `text` fails with exactly `FILE<expected>`.
fn fails_with(subcommand: &str, text: Option<&str>, expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.json");
    if let Some(text) = text {
        std::fs::write(&path, text).unwrap();
    }
    let args: Vec<&str> = match subcommand {
        "merge" => vec!["merge", arg(&path), "-o", "/dev/null/never"],
        other => vec![other, arg(&path)],
    };
    let run = aiobs(&args);
    assert_eq!(run.code, Some(1), "{subcommand} {text:?}: {}", run.stderr);
    assert_eq!(
        run.stderr,
        format!("aiobs: {}{expected}\n", path.display()),
        "{subcommand} {text:?}"
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn bad_files_get_one_line_with_the_place() {
    for subcommand in ["view", "stats", "merge"] {
        fails_with(subcommand, Some("not json"), ":1:2: expected ident");
        fails_with(
            subcommand,
            Some("{\"sessions\": [], \"events\": ["),
            ":1:28: truncated file: EOF while parsing a list",
        );
        fails_with(
            subcommand,
            Some(""),
            ": empty file (expected an aiobs JSON export)",
        );
        fails_with(
            subcommand,
            Some(" \n"),
            ": empty file (expected an aiobs JSON export)",
        );
        fails_with(subcommand, None, ": no such file");
        fails_with(
            subcommand,
            Some("{\"sessions\": \"none\", \"events\": [], \"generated_at\": 1}"),
            ":1:19: invalid type: string \"none\", expected a sequence",
        );
        fails_with(
            subcommand,
            Some("{\"events\": []}"),
            ":1:14: missing field `sessions`",
        );
        fails_with(
            subcommand,
            Some("{\"sessions\": [], \"events\": [], \"generated_at\": 1, \"version\": 2}"),
            ": version 2 is not supported (this aiobs reads version 1)",
        );
    }
}

#[test]
fn a_truncated_real_file_names_its_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(python_fixture()).unwrap();
    let path = dir.path().join("cut.json");
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let run = aiobs(&["stats", arg(&path)]);
    assert_eq!(run.code, Some(1));
    let line = run.stderr.trim_end();
    assert!(!line.contains('\n'), "one line: {line}");
    let lines = text[..text.len() / 2].lines().count();
    assert!(
        line.starts_with(&format!("aiobs: {}:{lines}:", path.display())),
        "{line}"
    );
    assert!(line.contains("truncated file: EOF while parsing"), "{line}");
}

#[test]
fn bad_usage_exits_2_with_clap_s_message() {
    let run = aiobs(&["view"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("Usage: aiobs view"), "{}", run.stderr);
    let run = aiobs(&["view", "--depth", "0", arg(&python_fixture())]);
    assert_eq!(run.code, Some(2), "depth 0 shows nothing: refused");
}
