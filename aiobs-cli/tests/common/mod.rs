//! Shared helpers for the command's tests: running the built `aiobs`, the Python SDK's models
//! (from the workspace's `aiobs-compat` crate), and traces written by the runtime.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use aiobs::{Collector, FlushOptions, ObserveOptions, llm_call, observe};
use serde_json::json;

/// The fixture written by the real Python SDK aiobs 0.1.5 (see `aiobs/tests/fixtures`).
pub fn python_fixture() -> PathBuf {
    workspace_root().join("aiobs/tests/fixtures/python-0.1.5.json")
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// What one run of `aiobs` did.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs `aiobs ARGS` with a fixed width and no colour from the environment.
pub fn aiobs(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_aiobs"))
        .args(args)
        .env("COLUMNS", "100")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("run aiobs");
    Run::from(out)
}

/// `path` as a `&str` argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Whether the Python SDK aiobs 0.1.5's own models accept `path` (lax and strict), through
/// `compat/check_python_models.py`. Never skipped: without a Python it panics saying how to get
/// one.
pub fn python_accepts(path: &Path) -> bool {
    aiobs_compat::python_models_reject(&[path.to_owned()]).is_empty()
}

#[observe]
pub fn tokenize(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_lowercase).collect()
}

#[derive(Debug)]
pub struct ToolError(pub String);

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ToolError {}

#[observe]
pub fn lookup(key: &str) -> Result<u32, ToolError> {
    if key == "missing" {
        Err(ToolError(format!("no entry for {key}")))
    } else {
        Ok(7)
    }
}

#[observe]
pub fn ask(question: &str) -> String {
    let request =
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": question}]});
    let call = llm_call("openai", "chat.completions.create").request(&request);
    call.response(&json!({
        "id": "chatcmpl-1",
        "model": "gpt-4o-mini-2024-07-18",
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
        "choices": [{"message": {"role": "assistant", "content": "four"}}]
    }));
    "four".to_owned()
}

#[observe]
pub fn agent(question: &str) -> Result<String, ToolError> {
    let words = tokenize(question);
    let _ = lookup("missing");
    lookup("present")?;
    Ok(format!("{} words: {}", words.len(), ask(question)))
}

/// A trace written by the runtime: `agent` (tokenize, a failed and a good lookup, ask with an
/// LLM call) in a session named `demo` with a label.
/// The LLM calls of the Anthropic example (`cargo run -p examples --example anthropic`),
/// recorded from the mock's bodies through the built-in provider: a plain answer, a stream, a
/// tool use read mostly from the prompt cache, and the answer after the tool's result.
pub fn anthropic_trace(dir: &Path) -> PathBuf {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new().session_name("anthropic"))
        .expect("observe");
    let exchange = |request: serde_json::Value, content_type: &str, body: &str| {
        let sent = request.to_string();
        let mut call = aiobs::providers::HttpCall::start(
            "POST",
            "https://api.anthropic.com/v1/messages",
            sent.as_bytes(),
        )
        .expect("recording");
        call.response_head(200, Some(content_type));
        call.response_bytes(body.as_bytes());
        call.finish();
    };
    let ask = json!({"model": "claude-sonnet-4-5", "max_tokens": 256,
                     "messages": [{"role": "user", "content": "Say hello"}]});
    exchange(
        ask.clone(),
        "application/json",
        mock_llm::fixtures::ANTHROPIC_MESSAGE,
    );
    let mut stream = ask.clone();
    stream["stream"] = true.into();
    exchange(
        stream,
        "text/event-stream",
        mock_llm::fixtures::ANTHROPIC_STREAM,
    );
    let mut tools = ask;
    tools["tools"] = json!([{"name": "get_weather", "input_schema": {"type": "object"}}]);
    exchange(
        tools.clone(),
        "application/json",
        mock_llm::fixtures::ANTHROPIC_MESSAGE_TOOL_USE,
    );
    exchange(
        tools,
        "application/json",
        mock_llm::fixtures::ANTHROPIC_MESSAGE,
    );
    obs.end();
    obs.flush(FlushOptions::to_path(dir.join("anthropic.json")))
        .expect("flush")
}

pub fn runtime_trace(dir: &Path) -> PathBuf {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(
        ObserveOptions::new()
            .session_name("demo")
            .label("team", "cli"),
    )
    .expect("observe");
    agent("What is two plus two").expect("agent");
    obs.end();
    obs.flush(FlushOptions::to_path(dir.join("runtime.json")))
        .expect("flush")
}

#[observe]
pub fn leaf(i: u64, label: &str) -> u64 {
    i.wrapping_mul(2654435761) ^ label.len() as u64
}

#[observe]
pub fn branch(i: u64) -> Result<u64, ToolError> {
    let mut sum = 0u64;
    for k in 0..8 {
        sum = sum.wrapping_add(leaf(i * 8 + k, "leaf"));
    }
    if i % 1000 == 999 {
        let call = llm_call("openai", "chat.completions.create").request(
            &json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "sum?"}]}),
        );
        call.response(
            &json!({"model": "gpt-4o-mini", "usage": {"prompt_tokens": 3, "completion_tokens": 1}}),
        );
    }
    if i % 500 == 0 {
        return Err(ToolError(format!("branch {i} failed")));
    }
    Ok(sum)
}

/// A trace of `roots` × (1 branch + 8 leaves) function events (and an LLM call every 1000
/// roots; every 500th root fails), written by the runtime.
pub fn big_trace(path: &Path, roots: u64) -> PathBuf {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new().session_name("big"))
        .expect("observe");
    for i in 0..roots {
        let _ = branch(i);
    }
    obs.end();
    obs.flush(FlushOptions::to_path(path)).expect("flush")
}

/// Runs `aiobs ARGS` once with its output thrown away; returns its wall time, its CPU time
/// (user + system: what it costs, also on a machine busy with other work) and its peak
/// resident set in bytes, from `wait4`. Panics if it fails.
// The child is reaped by `wait4`, which also gives its own resource usage.
#[allow(clippy::zombie_processes)]
pub fn run_measured(args: &[&str]) -> (std::time::Duration, std::time::Duration, u64) {
    use std::time::{Duration, Instant};
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_aiobs"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run aiobs");
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: zeroed is a valid rusage; wait4 fills it for the child we started.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointers; the child is ours and not yet reaped.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4");
    let took = start.elapsed();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "aiobs {args:?} failed"
    );
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    (
        took,
        cpu,
        u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024,
    )
}
