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

/// A trace of four OpenAI calls as the SDKs send them (`model` and `messages` only, `stream`
/// when streamed), their answers the mock's: a chat, a stream with usage, a tool call and a
/// rate limit. Recorded through `HttpCall`, as a middleware records.
fn openai_trace(dir: &std::path::Path) -> std::path::PathBuf {
    use aiobs::providers::HttpCall;
    use mock_llm::fixtures;
    let obs = aiobs::Collector::new();
    let _scope = obs.set_default();
    obs.observe(aiobs::ObserveOptions::new()).expect("observe");
    let url = "https://api.openai.com/v1/chat/completions";
    let calls: [(&str, u16, &str, &str); 4] = [
        (
            r#"{"messages":[{"role":"user","content":"Hi"}],"model":"gpt-4o-mini"}"#,
            200,
            "application/json",
            fixtures::OPENAI_CHAT_COMPLETION,
        ),
        (
            r#"{"messages":[{"role":"user","content":"Stream it"}],"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}"#,
            200,
            "text/event-stream",
            fixtures::OPENAI_CHAT_STREAM_USAGE,
        ),
        (
            r#"{"messages":[{"role":"user","content":"Weather in Paris?"}],"model":"gpt-4o-mini","tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}"#,
            200,
            "application/json",
            fixtures::OPENAI_CHAT_COMPLETION_TOOLS,
        ),
        (
            r#"{"messages":[{"role":"user","content":"Again"}],"model":"gpt-4o-mini"}"#,
            429,
            "application/json",
            fixtures::OPENAI_ERROR_429,
        ),
    ];
    for (request, status, content_type, response) in calls {
        let mut call = HttpCall::start("POST", url, request.as_bytes()).expect("recording");
        call.response_head(status, Some(content_type));
        call.response_bytes(response.as_bytes());
        call.finish();
    }
    obs.flush(aiobs::FlushOptions::to_path(dir.join("openai.json")))
        .expect("flush")
}

/// The official OpenAI Python SDK, pointed at `aiobs replay`: its answers parse, its stream
/// parses, its rate limit raises `RateLimitError`, and a request never recorded raises
/// `NotFoundError` with the replay's reason.
const OPENAI_PYTHON: &str = r#"
import sys, openai
client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="unused", max_retries=0)
r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
print("chat:", r.choices[0].message.content, r.usage.total_tokens)
s = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Stream it"}],
                                   stream=True, stream_options={"include_usage": True})
chunks = list(s)
print("stream:", "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks[-1].usage.total_tokens)
t = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather in Paris?"}],
    tools=[{"type": "function", "function": {"name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
call = t.choices[0].message.tool_calls[0]
print("tool:", call.function.name, call.function.arguments, t.choices[0].finish_reason)
try:
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Again"}])
except openai.RateLimitError as e:
    print("429:", e.status_code, e.code)
try:
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Never asked"}])
except openai.NotFoundError as e:
    print("unmatched:", e.status_code, "closest recorded request" in str(e))
"#;

#[test]
fn the_openai_python_sdk_is_answered_by_aiobs_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = openai_trace(dir.path());
    let python = aiobs_compat::python_with_package("openai", "openai==1.109.1");
    let mut child = Command::new(env!("CARGO_BIN_EXE_aiobs"))
        .args(["replay", arg(&trace), "--strict"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn aiobs replay");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("first line");
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("base URL")
        .to_owned();
    let script = Command::new(python)
        .args(["-c", OPENAI_PYTHON, &url])
        .output()
        .expect("run python");
    let printed = String::from_utf8_lossy(&script.stdout);
    assert!(
        script.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&script.stderr)
    );
    assert_eq!(
        printed,
        "chat: Hello from the mock. 17\n\
         stream: Hello from the mock. 17\n\
         tool: get_weather {\"city\":\"Paris\"} tool_calls\n\
         429: 429 rate_limit_exceeded\n\
         unmatched: 404 True\n"
    );
    let (code, rest) = stop(child, out);
    assert_eq!(
        code, 0,
        "strict, and every recorded call was asked for: {rest}"
    );
}
