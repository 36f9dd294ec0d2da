//! `aiobs html`: the page of a runtime trace, of the Python fixture and of a 100,000-event file
//! is self-contained and holds the data with its aggregates; bad inputs fail in one line; and
//! the page works in a real headless chromium (driven through chromedriver): the tree renders,
//! a click shows a call's details, search finds a call, a big page loads and scrolls.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aiobs::{Collector, FlushOptions, ObserveOptions, ProviderCall, observe};
use base64::Engine;
use common::{aiobs, arg, big_trace, python_fixture, workspace_root};
use serde_json::{Value, json};

// ---- a trace with nesting, an error and an LLM call ----------------------------------------

#[derive(Debug)]
struct ToolError(String);

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tool failed: {}", self.0)
    }
}

impl std::error::Error for ToolError {}

fn pause(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

#[observe]
fn score(doc: &str) -> f64 {
    pause(1);
    doc.len() as f64 / 10.0
}

#[observe]
fn retrieve(query: &str, top_k: usize) -> Vec<String> {
    pause(1);
    (0..top_k)
        .map(|i| format!("{query} doc {i}"))
        .inspect(|d| {
            score(d);
        })
        .collect()
}

#[observe(name = "weather_tool")]
fn weather(city: &str) -> Result<String, ToolError> {
    pause(2);
    if city.is_empty() {
        return Err(ToolError("no city given".into()));
    }
    Ok(format!("sunny in {city}"))
}

#[observe(capture_args = false)]
fn call_model(question: &str, context: &[String]) -> String {
    let request = json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You answer briefly."},
            {"role": "user", "content": format!("{question}\ncontext: {context:?}")},
        ],
        "tools": [{"type": "function", "function": {"name": "weather_tool", "parameters": {}}}],
    });
    let answer = format!("An answer to: {question}");
    if let Some(call) = ProviderCall::start("openai", "chat.completions.create", &request) {
        pause(6);
        call.finish_ok(&json!({
            "id": "chatcmpl-html",
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {
                "role": "assistant",
                "content": answer,
                "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "weather_tool", "arguments": "{\"city\": \"Lisbon\"}"}}],
            }}],
            "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500},
        }));
    }
    answer
}

#[observe]
fn answer(question: &str) -> Result<String, ToolError> {
    let docs = retrieve(question, 3);
    let _ = weather("");
    let forecast = weather("Lisbon")?;
    pause(1);
    Ok(format!("{} ({forecast})", call_model(question, &docs)))
}

/// `answer` twice in a session with labels: 2 roots, each with retrieve (3 scores), a failed
/// and a good weather_tool, and call_model with an OpenAI call (1200 in, 300 out tokens).
fn llm_trace(dir: &Path) -> PathBuf {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(
        ObserveOptions::new()
            .session_name("html-demo")
            .label("team", "agents")
            .label("env", "test"),
    )
    .expect("observe");
    for q in ["What is aiobs?", "How do traces nest?"] {
        answer(q).expect("answer");
    }
    obs.end();
    obs.flush(FlushOptions::to_path(dir.join("trace.json")))
        .expect("flush")
}

#[observe]
fn ask_gemini(question: &str) -> String {
    let request = json!({
        "model": "gemini-2.5-flash",
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"text": question}]}],
        "tools": [{"functionDeclarations": [{"name": "lookup"}]}],
    });
    if let Some(call) = ProviderCall::start("gemini", "models.generate_content", &request) {
        pause(2);
        call.finish_ok(&json!({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": "Let me look that up."},
                {"functionCall": {"name": "lookup", "args": {"q": question}}},
            ]}}],
            "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 20},
            "modelVersion": "gemini-2.5-flash",
        }));
    }
    "looked up".to_owned()
}

/// One Gemini call (REST shapes: `contents`, `candidates`, `usageMetadata`) inside a function.
fn gemini_trace(dir: &Path) -> PathBuf {
    let obs = Collector::new();
    let _scope = obs.set_default();
    obs.observe(ObserveOptions::new().session_name("gemini"))
        .expect("observe");
    ask_gemini("Who wrote Dune?");
    obs.end();
    obs.flush(FlushOptions::to_path(dir.join("gemini.json")))
        .expect("flush")
}

// ---- reading a page ------------------------------------------------------------------------

/// The JSON data embedded in a page.
fn page_data(page: &str) -> Value {
    let open = r#"<script type="application/json" id="data">"#;
    let start = page.find(open).expect("data element") + open.len();
    let end = start
        + page[start..]
            .find("</script>")
            .expect("end of the data element");
    serde_json::from_str(&page[start..end]).expect("the data is JSON")
}

/// Runs `aiobs html INPUT -o OUT ARGS` and returns the page.
fn html(input: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec!["html", arg(input), "-o", arg(out)];
    args.extend_from_slice(extra);
    let run = aiobs(&args);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(run.stdout.contains("call(s)"), "{}", run.stdout);
    std::fs::read_to_string(out).expect("the page was written")
}

/// Fails if the page would load anything: no URL, no `src=`, every `href=` a fragment or
/// `data:`, no CSS `url(` or `@import`.
fn assert_self_contained(page: &str) {
    let lower = page.to_lowercase();
    for needle in [
        "http:", "https:", "//cdn", "src=", "url(", "@import", "<link",
    ] {
        assert!(!lower.contains(needle), "the page mentions {needle:?}");
    }
    for (at, _) in lower.match_indices("href=") {
        let rest = &lower[at + 5..];
        assert!(
            rest.starts_with("\"#") || rest.starts_with("\"data:"),
            "external href: {}",
            &rest[..rest.len().min(40)]
        );
    }
    assert!(lower.contains("content-security-policy"));
}

fn row<'v>(data: &'v Value, name: &str) -> &'v Value {
    data["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["n"] == name)
        .unwrap_or_else(|| panic!("no row {name}"))
}

fn rows_named<'v>(data: &'v Value, name: &str) -> Vec<&'v Value> {
    data["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["n"] == name)
        .collect()
}

const OWN_ERROR: u64 = 1;
const ERROR_BELOW: u64 = 2;
const CRITICAL: u64 = 4;

fn flags(row: &Value) -> u64 {
    row["f"].as_u64().unwrap_or(0)
}

// ---- the page's content --------------------------------------------------------------------

#[test]
fn a_runtime_trace_becomes_a_self_contained_page_with_every_call() {
    let dir = tempfile::tempdir().unwrap();
    let trace = llm_trace(dir.path());
    let page = html(&trace, &dir.path().join("trace.html"), &[]);
    assert_self_contained(&page);
    let data = page_data(&page);
    let rows = data["rows"].as_array().unwrap();
    // 2 × (answer, retrieve, 3 score, 2 weather_tool, call_model, the LLM call)
    assert_eq!(rows.len(), 18);
    assert_eq!(data["sessions"][0]["name"], "html-demo");
    assert_eq!(data["sessions"][0]["labels"]["team"], "agents");
    let llm = row(&data, "openai chat.completions.create");
    assert_eq!(llm["k"], 1);
    assert_eq!(llm["m"], "gpt-4o-mini-2024-07-18");
    assert_eq!(llm["Q"]["messages"][1]["role"], "user");
    assert_eq!(
        llm["P"]["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "weather_tool"
    );
    let weather = rows_named(&data, "weather_tool");
    assert_eq!(weather[0]["x"], "ToolError: tool failed: no city given");
    assert_eq!(weather[0]["A"], json!([""]));
    assert_eq!(weather[0]["N"], json!(["city"]));
    assert_eq!(weather[1]["R"], "sunny in Lisbon");
    assert!(
        weather[0]["l"]
            .as_str()
            .unwrap()
            .starts_with("aiobs-cli/tests/html.rs:"),
        "callsite: {}",
        weather[0]["l"]
    );
    // rows are in pre-order: each row's parent comes before it, one level up
    for (i, r) in rows.iter().enumerate() {
        let p = r["p"].as_i64().unwrap();
        if p >= 0 {
            assert!((p as usize) < i);
            assert_eq!(
                rows[p as usize]["d"].as_u64().unwrap() + 1,
                r["d"].as_u64().unwrap()
            );
            assert!(r["z"].as_u64() <= rows[p as usize]["z"].as_u64());
        }
    }
}

#[test]
fn tokens_cost_and_errors_are_summed_over_descendants() {
    let dir = tempfile::tempdir().unwrap();
    let trace = llm_trace(dir.path());
    let data = page_data(&html(&trace, &dir.path().join("trace.html"), &[]));
    // gpt-4o-mini: $0.15 / $0.60 per 1M tokens
    let cost = (1200.0 * 0.15 + 300.0 * 0.6) / 1e6;
    let llm = row(&data, "openai chat.completions.create");
    assert_eq!(
        (llm["ti"].as_u64(), llm["to"].as_u64()),
        (Some(1200), Some(300))
    );
    assert!((llm["c"].as_f64().unwrap() - cost).abs() < 1e-12);
    for root in rows_named(&data, "answer") {
        assert_eq!(root["p"], -1);
        assert_eq!(
            (root["Ti"].as_u64(), root["To"].as_u64()),
            (Some(1200), Some(300))
        );
        assert!((root["C"].as_f64().unwrap() - cost).abs() < 1e-12);
        assert_eq!(flags(root) & (OWN_ERROR | ERROR_BELOW), ERROR_BELOW);
    }
    let retrieve = row(&data, "retrieve");
    assert_eq!(flags(retrieve) & (OWN_ERROR | ERROR_BELOW), 0);
    assert!(retrieve.get("Ti").is_none());
    assert_eq!(data["models"][0]["priced_as"], "gpt-4o-mini");
    assert_eq!(data["models"][0]["calls"], 2);
}

/// Anthropic's cache reads are billed at the cached price, once: its `input_tokens` leaves
/// them out, the page adds them to the input and prices them apart.
#[test]
fn cached_input_is_counted_once_and_priced_at_the_cached_price() {
    let dir = tempfile::tempdir().unwrap();
    let trace = common::anthropic_trace(dir.path());
    let data = page_data(&html(&trace, &dir.path().join("anthropic.html"), &[]));
    let tools = data["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "claude-sonnet-4-5-20250929")
        .expect("the tool-use model");
    assert_eq!(tools["priced_as"], "claude-sonnet-4-5");
    assert_eq!(
        (
            &tools["tokens_in"],
            &tools["tokens_cached"],
            &tools["tokens_out"]
        ),
        (&1824.into(), &1800.into(), &62.into())
    );
    // claude-sonnet-4-5: $3 input, $0.30 cached, $15 output per 1M tokens.
    let cost = (24.0 * 3.0 + 1800.0 * 0.3 + 62.0 * 15.0) / 1e6;
    assert!(
        (tools["cost"].as_f64().unwrap() - cost).abs() < 1e-12,
        "{tools}"
    );
    assert_eq!(tools["cached_input"], 0.3);
}

#[test]
fn the_critical_path_follows_the_child_that_ended_last() {
    let dir = tempfile::tempdir().unwrap();
    let trace = llm_trace(dir.path());
    let data = page_data(&html(&trace, &dir.path().join("trace.html"), &[]));
    let rows = data["rows"].as_array().unwrap();
    for (i, root) in rows.iter().enumerate().filter(|(_, r)| r["p"] == -1) {
        assert_ne!(flags(root) & CRITICAL, 0);
        // call_model ends last in answer, the LLM call last in call_model
        let path: Vec<&str> = rows
            .iter()
            .enumerate()
            .skip(i + 1)
            .take_while(|(j, _)| *j < root["z"].as_u64().unwrap() as usize)
            .filter(|(_, r)| flags(r) & CRITICAL != 0)
            .map(|(_, r)| r["n"].as_str().unwrap())
            .collect();
        assert_eq!(path, ["call_model", "openai chat.completions.create"]);
    }
}

#[test]
fn the_python_fixture_becomes_a_page_with_its_sessions_and_priced_llm_call() {
    let dir = tempfile::tempdir().unwrap();
    let page = html(&python_fixture(), &dir.path().join("py.html"), &[]);
    assert_self_contained(&page);
    let data = page_data(&page);
    assert_eq!(data["rows"].as_array().unwrap().len(), 25);
    assert_eq!(data["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(data["sessions"][1]["labels"]["stage"], "second");
    let llm = row(&data, "openai chat.completions.create");
    assert_eq!(llm["l"], "app.py:180");
    assert_eq!(
        (llm["ti"].as_u64(), llm["to"].as_u64()),
        (Some(21), Some(9))
    );
    assert!((llm["c"].as_f64().unwrap() - (21.0 * 0.15 + 9.0 * 0.6) / 1e6).abs() < 1e-12);
    let tokenize = &rows_named(&data, "tokenize")[0];
    assert_eq!(tokenize["K"], json!({"lower": true}));
}

#[test]
fn a_price_file_overrides_and_adds_models() {
    let dir = tempfile::tempdir().unwrap();
    let trace = llm_trace(dir.path());
    let prices = dir.path().join("prices.json");
    std::fs::write(
        &prices,
        r#"{"date": "2030-01-01", "models": {"GPT-4o-mini": {"input": 1, "output": 2}}}"#,
    )
    .unwrap();
    let data = page_data(&html(
        &trace,
        &dir.path().join("t.html"),
        &["--prices", arg(&prices)],
    ));
    let llm = row(&data, "openai chat.completions.create");
    assert!((llm["c"].as_f64().unwrap() - (1200.0 + 600.0) / 1e6).abs() < 1e-12);
    assert_eq!(data["prices"]["date"], "2030-01-01");

    // an unknown model has no price, and says so
    let unknown = dir.path().join("unknown.json");
    let text = std::fs::read_to_string(&trace)
        .unwrap()
        .replace("gpt-4o-mini", "house-model-7");
    std::fs::write(&unknown, text).unwrap();
    let data = page_data(&html(&unknown, &dir.path().join("u.html"), &[]));
    let llm = row(&data, "openai chat.completions.create");
    assert!(llm.get("c").is_none());
    assert_eq!(row(&data, "answer")["U"], 1);
    std::fs::write(
        &prices,
        r#"{"models": {"house-model-7": {"input": 10, "output": 10}}}"#,
    )
    .unwrap();
    let data = page_data(&html(
        &unknown,
        &dir.path().join("u.html"),
        &["--prices", arg(&prices)],
    ));
    let llm = row(&data, "openai chat.completions.create");
    assert!((llm["c"].as_f64().unwrap() - 0.015).abs() < 1e-12);
}

#[test]
fn a_title_cannot_inject_markup() {
    let dir = tempfile::tempdir().unwrap();
    let page = html(
        &python_fixture(),
        &dir.path().join("t.html"),
        &["--title", "</title><script>alert(1)</script>"],
    );
    assert!(!page.contains("<script>alert"));
    assert!(page.contains("&lt;/title&gt;&lt;script&gt;alert(1)"));
    assert_eq!(
        page_data(&page)["title"],
        "</title><script>alert(1)</script>"
    );
}

#[test]
fn data_holding_script_tags_stays_data() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(python_fixture())
        .unwrap()
        .replace("Alpha Beta Gamma", "</script><script>alert(1)</script><!--");
    let input = dir.path().join("evil.json");
    std::fs::write(&input, text).unwrap();
    let page = html(&input, &dir.path().join("evil.html"), &[]);
    assert_eq!(
        page.matches("</script>").count(),
        2,
        "only the two script elements end"
    );
    let data = page_data(&page);
    assert_eq!(
        rows_named(&data, "tokenize")[0]["A"][0],
        "</script><script>alert(1)</script><!--"
    );
}

#[observe]
fn down(n: u32) -> u32 {
    if n == 0 { 0 } else { down(n - 1) + 1 }
}

#[test]
fn a_3000_deep_chain_becomes_a_page_with_its_whole_critical_path() {
    let dir = tempfile::tempdir().unwrap();
    // The recursion runs on a thread with room for it.
    let trace = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn({
            let dir = dir.path().to_owned();
            move || {
                let obs = Collector::new();
                let _scope = obs.set_default();
                obs.observe(ObserveOptions::new()).unwrap();
                down(2999);
                obs.end();
                obs.flush(FlushOptions::to_path(dir.join("deep.json")))
                    .unwrap()
            }
        })
        .unwrap()
        .join()
        .unwrap();
    let data = page_data(&html(&trace, &dir.path().join("deep.html"), &[]));
    let rows = data["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3000);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["d"], i as u64);
        assert_eq!(r["z"], 3000);
        assert_ne!(flags(r) & CRITICAL, 0, "row {i} is on the only path");
    }
}

// ---- errors --------------------------------------------------------------------------------

fn fails(args: &[&str], expect: &str) {
    let run = aiobs(args);
    assert_eq!(run.code, Some(1), "{args:?}: {}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    assert!(run.stderr.starts_with("aiobs: "), "{}", run.stderr);
    assert!(run.stderr.contains(expect), "{args:?}: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"));
}

#[test]
fn a_missing_or_broken_input_is_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.html");
    let missing = dir.path().join("missing.json");
    fails(
        &["html", arg(&missing), "-o", arg(&out)],
        "missing.json: no such file",
    );
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"sessions\": [],\n \"events\": [1, }").unwrap();
    fails(&["html", arg(&broken), "-o", arg(&out)], "broken.json:2:");
    assert!(!out.exists(), "no page for a broken input");
}

#[test]
fn a_bad_price_file_is_one_line_naming_it_and_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.html");
    let fixture = python_fixture();
    let prices = dir.path().join("prices.json");
    std::fs::write(&prices, "{\"models\": {\"m\": {\"input\": \"cheap\"}}}").unwrap();
    fails(
        &[
            "html",
            arg(&fixture),
            "-o",
            arg(&out),
            "--prices",
            arg(&prices),
        ],
        "prices.json:1:",
    );
    std::fs::write(&prices, r#"{"models": {"m": {"input": -1, "output": 1}}}"#).unwrap();
    fails(
        &[
            "html",
            arg(&fixture),
            "-o",
            arg(&out),
            "--prices",
            arg(&prices),
        ],
        "models.\"m\".input: -1 is not a price",
    );
    let missing = dir.path().join("nope.json");
    fails(
        &[
            "html",
            arg(&fixture),
            "-o",
            arg(&out),
            "--prices",
            arg(&missing),
        ],
        "nope.json: no such file",
    );
    assert!(!out.exists());
}

#[test]
fn an_unwritable_output_is_one_line_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no-such-dir/o.html");
    fails(
        &["html", arg(&python_fixture()), "-o", arg(&out)],
        "o.html: cannot create",
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

// ---- in a real browser ---------------------------------------------------------------------

/// chromium driven by chromedriver over the WebDriver HTTP API; both stop when dropped.
struct Browser {
    agent: ureq::Agent,
    base: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    /// A headless chromium, or none (said loudly) when it is not installed.
    fn start() -> Option<Browser> {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file());
        let Some(chromium) = chromium else {
            eprintln!(
                "\n\n*** SKIPPED: chromium not found (/usr/bin/chromium): the HTML page was \
                 not opened in a browser. Install it: apt-get install -y chromium chromium-driver ***\n"
            );
            return None;
        };
        let driver_path = Path::new("/usr/bin/chromedriver");
        assert!(
            driver_path.is_file(),
            "chromium is installed but chromedriver is not: apt-get install -y chromium-driver"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        // chromedriver says when it listens
        let stdout = driver.stdout.take().expect("chromedriver stdout");
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            if line
                .expect("chromedriver output")
                .contains("started successfully")
            {
                break;
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(180)))
            .build()
            .into();
        let profile = tempfile::tempdir().expect("profile dir");
        let mut browser = Browser {
            agent,
            base: format!("http://127.0.0.1:{port}"),
            driver,
            _profile: profile,
        };
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1500,860",
            &format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        let session = browser.request(
            "POST",
            "/session",
            Some(json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": chromium, "args": args},
            }}})),
        );
        let id = session["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {session}"))
            .to_owned();
        browser.base = format!("{}/session/{id}", browser.base);
        Some(browser)
    }

    fn request(&mut self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self
                .agent
                .post(&url)
                .header("content-type", "application/json")
                .send(body.unwrap_or(json!({})).to_string()),
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let text = response
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_string()
            .expect("WebDriver answer");
        let answer: Value = serde_json::from_str(&text).expect("WebDriver JSON");
        if let Some(error) = answer["value"]["error"].as_str() {
            panic!("{method} {path}: {error}: {}", answer["value"]["message"]);
        }
        answer.get("value").cloned().unwrap_or(answer)
    }

    fn open(&mut self, page: &Path) {
        let url = format!("file://{}", page.canonicalize().unwrap().display());
        self.request("POST", "/url", Some(json!({ "url": url })));
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    fn js(&mut self, script: &str, args: Value) -> Value {
        self.request(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Waits until `script` returns true; panics after 60 s.
    fn wait_for(&mut self, what: &str, script: &str) -> Duration {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if self.js(script, json!([])) == json!(true) {
                return start.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("timed out waiting for {what}");
    }

    fn element(&mut self, css: &str) -> String {
        let found = self.request(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        found[ELEMENT].as_str().expect("element id").to_owned()
    }

    fn click(&mut self, element: &str) {
        self.request("POST", &format!("/element/{element}/click"), None);
    }

    fn type_into(&mut self, element: &str, text: &str) {
        self.request(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn screenshot(&mut self, path: &Path) {
        let png = self.request("GET", "/screenshot", None);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64 PNG"))
            .expect("PNG bytes");
        assert!(bytes.starts_with(b"\x89PNG"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    fn row_names(&mut self) -> Vec<String> {
        let names = self.js(
            "return Array.from(document.querySelectorAll('#rows .row .nm')).map(e => e.textContent)",
            json!([]),
        );
        serde_json::from_value(names).expect("names")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let url = self.base.clone();
        let _ = self.agent.delete(&url).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Where the tests keep what they show: `target/aiobs-html/`.
fn artifacts() -> PathBuf {
    let dir = workspace_root().join("target/aiobs-html");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const READY: &str = "return document.body.getAttribute('data-ready') === '1'";

#[test]
fn in_chromium_the_tree_renders_a_click_shows_details_and_search_finds_a_call() {
    let Some(mut browser) = Browser::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let trace = llm_trace(dir.path());
    let page = artifacts().join("timeline.html");
    html(&trace, &page, &["--title", "agent trace"]);
    browser.open(&page);
    browser.wait_for("the page", READY);

    let names = browser.row_names();
    assert_eq!(names.len(), 18, "{names:?}");
    assert_eq!(names[0], "answer");
    assert!(names.contains(&"weather_tool".to_owned()));
    let errors = browser.js(
        "return document.querySelectorAll('#rows .badge.err').length",
        json!([]),
    );
    assert_eq!(errors, 2, "both failed weather_tool calls are marked");

    // a click on the failed tool shows its argument names, value and error
    let failed = browser.element("#rows .row[data-i='5']");
    browser.click(&failed);
    let detail = browser.js(
        "return document.getElementById('detail').innerText",
        json!([]),
    );
    let detail = detail.as_str().unwrap();
    assert!(detail.contains("weather_tool"), "{detail}");
    assert!(detail.contains("\"city\": \"\""), "{detail}");
    assert!(
        detail.contains("ToolError: tool failed: no city given"),
        "{detail}"
    );
    assert!(
        detail.contains("aiobs-cli/tests/html.rs:"),
        "callsite: {detail}"
    );
    assert!(detail.contains("team=agents"), "session labels: {detail}");

    // the good one shows its result
    let good = browser.element("#rows .row[data-i='6']");
    browser.click(&good);
    let detail = browser.js(
        "return document.getElementById('detail').innerText",
        json!([]),
    );
    assert!(
        detail.as_str().unwrap().contains("\"sunny in Lisbon\""),
        "{detail}"
    );

    // the LLM call shows its messages, tool call, model, tokens and cost
    let llm = browser.element("#rows .row[data-i='8']");
    browser.click(&llm);
    let panel = browser.js(
        "return document.querySelector('#detail .llm').innerText",
        json!([]),
    );
    let panel = panel.as_str().unwrap();
    for expect in [
        "You answer briefly.",
        "What is aiobs?",
        "An answer to: What is aiobs?",
        "weather_tool",
        "Lisbon",
        "gpt-4o-mini-2024-07-18",
        "in 1.2k · out 300",
        "$0.00036",
    ] {
        assert!(
            panel.contains(expect),
            "{expect:?} not in the LLM panel: {panel}"
        );
    }
    browser.screenshot(&artifacts().join("timeline.png"));

    // collapse the first root, zoom in and back
    let caret = browser.element("#rows .row[data-i='0'] .caret");
    browser.click(&caret);
    assert_eq!(
        browser.row_names().len(),
        10,
        "the first root's 8 calls are hidden"
    );
    let width = "return parseFloat(document.querySelector('#rows .row[data-i=\"0\"] .bar').style.width.replace('calc(', ''))";
    let before = browser.js(width, json!([])).as_f64().unwrap();
    let zoom_in = browser.element("#zoom-in");
    browser.click(&zoom_in);
    let after = browser.js(width, json!([])).as_f64().unwrap();
    assert!(
        (after / before - 2.0).abs() < 0.05,
        "zoomed ×2: {before} → {after}"
    );
    let fit = browser.element("#zoom-fit");
    browser.click(&fit);
    assert_eq!(browser.js(width, json!([])).as_f64().unwrap(), before);
    // rows are drawn anew on every change: find the caret again
    let caret = browser.element("#rows .row[data-i='0'] .caret");
    browser.click(&caret);
    assert_eq!(browser.row_names().len(), 18);

    // search keeps the matches and their ancestors
    let search = browser.element("#search");
    browser.type_into(&search, "scor");
    browser.wait_for(
        "the search",
        "return document.querySelectorAll('#rows .row').length === 10",
    );
    let one = ["answer", "retrieve", "score", "score", "score"];
    assert_eq!(browser.row_names(), [one, one].concat());
    let marked = browser.js(
        "return document.querySelectorAll('#rows mark').length",
        json!([]),
    );
    assert_eq!(
        marked, 6,
        "the matches are highlighted, their ancestors not"
    );

    // names, values and labels are text, never markup
    let text = std::fs::read_to_string(python_fixture())
        .unwrap()
        .replace("\"tokenize\"", "\"<i>tokenize</i>\"")
        .replace("sdk-fixtures", "<b>sdk</b>");
    let input = dir.path().join("markup.json");
    std::fs::write(&input, text).unwrap();
    let page = artifacts().join("markup.html");
    html(&input, &page, &[]);
    browser.open(&page);
    browser.wait_for("the page", READY);
    assert!(browser.row_names().contains(&"<i>tokenize</i>".to_owned()));
    let markup = browser.js(
        "return document.querySelectorAll('#rows i, #detail b:not(.label b)').length + ' ' + document.getElementById('detail').innerText.includes('team=<b>sdk</b>')",
        json!([]),
    );
    assert_eq!(markup, "0 true");

    // a Gemini call: its system instruction, contents, candidates and function call
    let page = artifacts().join("gemini.html");
    html(&gemini_trace(dir.path()), &page, &[]);
    browser.open(&page);
    browser.wait_for("the page", READY);
    let llm = browser.element("#rows .row[data-i='1']");
    browser.click(&llm);
    let panel = browser.js(
        "return document.querySelector('#detail .llm').innerText",
        json!([]),
    );
    let panel = panel.as_str().unwrap();
    for expect in [
        "Be brief.",
        "Who wrote Dune?",
        "MODEL · RESPONSE",
        "Let me look that up.",
        "tool call lookup",
        "gemini-2.5-flash",
        "in 100 · out 20",
        "$0.000080",
        "tools offered: lookup",
    ] {
        assert!(
            panel.contains(expect),
            "{expect:?} not in the LLM panel: {panel}"
        );
    }

    // a file without calls says so
    let input = dir.path().join("empty.json");
    std::fs::write(
        &input,
        r#"{"sessions": [], "events": [], "function_events": [], "generated_at": 1795525407.5}"#,
    )
    .unwrap();
    let page = artifacts().join("empty.html");
    html(&input, &page, &[]);
    browser.open(&page);
    browser.wait_for("the page", READY);
    let empty = browser.js(
        "return document.getElementById('empty').innerText",
        json!([]),
    );
    assert_eq!(empty, "This trace has no calls.");
}

#[test]
fn a_100k_event_page_is_generated_loads_scrolls_and_searches_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let trace = big_trace(&dir.path().join("big.json"), 100_000 / 9 + 1);
    let trace_size = std::fs::metadata(&trace).unwrap().len();
    let page = artifacts().join("big.html");
    let start = Instant::now();
    let run = aiobs(&["html", arg(&trace), "-o", arg(&page)]);
    let generated = start.elapsed();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // for scale: `stats` reads the same file (one parse, a small table)
    let start = Instant::now();
    let stats = aiobs(&["stats", arg(&trace)]);
    let stats_took = start.elapsed();
    assert_eq!(stats.code, Some(0), "{}", stats.stderr);
    let page_size = std::fs::metadata(&page).unwrap().len();
    let text = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&text);
    let data = page_data(&text);
    let rows = data["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 100_008 + 11);
    drop(text);

    let mut report = format!(
        "100k-event file: {} events, trace {:.1} MB, page {:.1} MB, generated in {:?} (aiobs stats on it: {:?})\n",
        rows.len(),
        trace_size as f64 / 1e6,
        page_size as f64 / 1e6,
        generated,
        stats_took
    );
    if let Some(mut browser) = Browser::start() {
        let start = Instant::now();
        browser.open(&page);
        browser.wait_for("the big page", READY);
        let loaded = start.elapsed();
        let ready_ms = browser.js(
            "return document.body.getAttribute('data-ready-ms')",
            json!([]),
        );
        let in_dom = browser.js(
            "return document.querySelectorAll('#rows .row').length",
            json!([]),
        );
        assert!(
            in_dom.as_u64().unwrap() < 200,
            "only the rows in view are in the DOM: {in_dom}"
        );

        // scroll to the middle and to the end
        let start = Instant::now();
        browser.js(
            "const s = document.getElementById('scroller'); s.scrollTop = s.scrollHeight / 2;",
            json!([]),
        );
        browser.wait_for(
            "rows in the middle",
            "const r = document.querySelector('#rows .row'); return !!r && +r.dataset.i > 40000",
        );
        browser.js(
            "const s = document.getElementById('scroller'); s.scrollTop = s.scrollHeight;",
            json!([]),
        );
        browser.wait_for(
            "the last row",
            "return !!document.querySelector('#rows .row[data-i=\"100018\"]')",
        );
        let scrolled = start.elapsed();

        // search a branch by its failure, then open it
        let search = browser.element("#search");
        let start = Instant::now();
        browser.type_into(&search, "branch");
        browser.wait_for(
            "the search",
            "return document.getElementById('shown').textContent.startsWith('11,112 matches')",
        );
        let searched = start.elapsed();
        let errors = browser.element("#errors-only");
        let start = Instant::now();
        browser.click(&errors);
        browser.wait_for(
            "errors only",
            "return /^23 matches/.test(document.getElementById('shown').textContent)",
        );
        let filtered = start.elapsed();
        let carets = browser.js(
            "return Array.from(document.querySelectorAll('#rows .caret')).filter(c => c.textContent).length",
            json!([]),
        );
        assert_eq!(
            carets, 0,
            "no caret on a failed branch whose leaves are all filtered out"
        );
        browser.screenshot(&artifacts().join("big.png"));
        report.push_str(&format!(
            "chromium: page ready {loaded:?} after navigation (script: {} ms), scroll to middle and end {scrolled:?}, search {searched:?}, errors only {filtered:?}\n",
            ready_ms.as_str().unwrap_or("?")
        ));
    }
    eprint!("{report}");
    let mut file = std::fs::File::create(artifacts().join("big-timings.txt")).unwrap();
    file.write_all(report.as_bytes()).unwrap();
}
