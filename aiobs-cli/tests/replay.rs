//! `aiobs replay FILE`, run as a child process: it prints its base URL, answers the recorded
//! calls over real HTTP to a client that knows nothing of aiobs, refuses the rest with a
//! message, and stops on Ctrl-C (SIGINT) with a summary.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

use common::{aiobs, arg, python_fixture};

/// `aiobs replay` started on a free port; its base URL, read from its first line.
fn start(extra: &[&str]) -> (Child, BufReader<std::process::ChildStdout>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aiobs"))
        .arg("replay")
        .arg(python_fixture())
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn aiobs replay");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("first line");
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no base URL in {first:?}"))
        .to_owned();
    assert!(
        first.starts_with("aiobs replay: 1 recorded LLM call(s) of "),
        "{first}"
    );
    let mut second = String::new();
    out.read_line(&mut second).expect("second line");
    assert!(second.contains("Ctrl-C stops"), "{second}");
    (child, out, url)
}

fn stop(mut child: Child, mut out: BufReader<std::process::ChildStdout>) -> (i32, String) {
    // SAFETY: kill(2) on the pid of a child we own and have not reaped.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0);
    let status = child.wait().expect("wait");
    let mut rest = String::new();
    out.read_to_string(&mut rest).expect("rest of stdout");
    (status.code().unwrap_or(-1), rest)
}

const REQUEST: &str = r#"{"model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 64, "stream": false,
    "messages": [{"role": "system", "content": "You are terse."},
                 {"role": "user", "content": "Write a short note about tracing."}]}"#;

fn post(url: &str, body: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(url)
        .content_type("application/json")
        .send(body)
        .expect("the replay server answers");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().expect("body"))
}

#[test]
fn recorded_calls_are_served_to_any_http_client_until_ctrl_c() {
    let (child, mut out, url) = start(&[]);
    let (status, body) = post(&format!("{url}/v1/chat/completions"), REQUEST);
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "aiobs records LLM calls and traced functions."
    );
    let mut line = String::new();
    out.read_line(&mut line).expect("log line");
    assert_eq!(line, "POST /v1/chat/completions -> 200\n");

    // Asked again: its one answer was given.
    let (status, body) = post(&format!("{url}/v1/chat/completions"), REQUEST);
    assert_eq!(status, 404);
    assert!(body.contains("every answer was given already"), "{body}");
    let (status, body) = post(&format!("{url}/v1/files"), "{}");
    assert_eq!(status, 404);
    assert!(
        body.contains("not an LLM endpoint that aiobs knows"),
        "{body}"
    );

    let (code, rest) = stop(child, out);
    assert_eq!(code, 0, "{rest}");
    assert!(
        rest.ends_with("aiobs replay: 1 answered, 2 refused, 0 recorded call(s) never asked for\n"),
        "{rest}"
    );
}

#[test]
fn strict_fails_on_stop_when_calls_were_never_asked_for() {
    let (child, out, _url) = start(&["--strict", "--match-by", "order"]);
    let (code, rest) = stop(child, out);
    assert_eq!(code, 1, "{rest}");
    assert!(
        rest.contains("1 recorded call(s) never asked for"),
        "{rest}"
    );
}

#[test]
fn bad_files_and_ports_are_one_line_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.json");
    let run = aiobs(&["replay", arg(&missing)]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .starts_with(&format!("aiobs: {}: cannot read it: ", missing.display())),
        "{}",
        run.stderr
    );
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, r#"{"sessions": [], "events": []}"#).expect("write");
    let run = aiobs(&["replay", arg(&empty)]);
    assert_eq!(
        run.stderr,
        format!(
            "aiobs: {}: no recorded LLM calls to replay (its \"events\" list is empty)\n",
            empty.display()
        )
    );

    let (child, out, url) = start(&[]);
    let port = url.rsplit(':').next().expect("port");
    let run = aiobs(&["replay", arg(&python_fixture()), "--port", port]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .starts_with(&format!("aiobs: cannot listen on 127.0.0.1:{port}: ")),
        "{}",
        run.stderr
    );
    stop(child, out);
}

#[test]
fn a_replayed_call_is_valid_and_shown_as_replayed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(python_fixture()).expect("fixture");
    let mut trace: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    trace["events"][0]["replayed"] = true.into();
    let node = trace["trace_tree"]
        .as_array_mut()
        .and_then(|roots| {
            roots.iter_mut().find_map(|r| {
                r["children"]
                    .as_array_mut()?
                    .iter_mut()
                    .find(|c| c["event_type"] == "provider")
            })
        })
        .expect("the provider node");
    node["replayed"] = true.into();
    let path = dir.path().join("replayed.json");
    std::fs::write(&path, trace.to_string()).expect("write");

    let run = aiobs(&["validate", arg(&path)]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let run = aiobs(&["view", arg(&path), "--color", "never"]);
    assert!(
        run.stdout
            .contains("openai chat.completions.create gpt-4o-mini")
            && run.stdout.contains("(replayed)"),
        "{}",
        run.stdout
    );
}
