//! Random text, generated deterministically: scrubbing never panics, is idempotent, and a
//! secret inserted anywhere (as a word of its own) never survives in part.

use super::Scrubbing;

/// xorshift64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Pieces random text is made of: triggers, quotes, brackets, secret names, prefixes,
/// multi-byte characters, and the marker itself.
const PIECES: &[&str] = &[
    "a",
    "b",
    "B",
    "e",
    "y",
    "J",
    "A",
    "K",
    "I",
    "S",
    "s",
    "k",
    "x",
    "o",
    "g",
    "h",
    "p",
    "_",
    "-",
    "=",
    ":",
    "/",
    "@",
    " ",
    "\n",
    "\"",
    "'",
    "\\",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ",",
    "&",
    ";",
    ".",
    "0",
    "7",
    "é",
    "€",
    "😀",
    "password",
    "token",
    "api_key",
    "Bearer ",
    "Basic ",
    "sk-",
    "sk_live_",
    "ghp_",
    "github_pat_",
    "xoxb-",
    "AKIA",
    "AIza",
    "eyJ",
    "://",
    "https://",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "Some(",
    "[REDACTED]",
    "max_tokens",
    "abcdefgh",
    "0123456789ABCDEF",
];

/// Secrets that must never survive, each as it would be written.
const SECRETS: &[(&str, &str)] = &[
    ("sk-proj-Q7xR2mN8vK4pL9wZ3tY6", "Q7xR2mN8vK4pL9wZ3tY6"),
    ("ghp_Zq8Wm3Xr7Tn2Vb6Yc1Hd5Kf9", "Zq8Wm3Xr7Tn2Vb6Yc1Hd5Kf9"),
    ("AKIAQ7XR2MN8VK4PL9WZ", "AKIAQ7XR2MN8VK4PL9WZ"),
    ("Bearer Qm9vX3JhbmRvbV90b2tlbg", "Qm9vX3JhbmRvbV90b2tlbg"),
    ("password=Hx7Qp2Lm9Zr4", "Hx7Qp2Lm9Zr4"),
    (r#""api_key": "Hx7Qp2Lm9Zr4""#, "Hx7Qp2Lm9Zr4"),
    (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJRN3hSMm1OOCJ9.Zq8Wm3Xr7Tn2Vb6Yc1Hd5Kf9",
        "Zq8Wm3Xr7Tn2Vb6Yc1Hd5Kf9",
    ),
    ("https://bob:Hx7Qp2Lm9Zr4@db.example", "Hx7Qp2Lm9Zr4"),
];

fn random_text(rng: &mut Rng) -> String {
    let n = rng.below(40);
    (0..n).map(|_| *rng.pick(PIECES)).collect()
}

/// Whether any 6-byte window of `secret` occurs in `text`.
fn leaks(text: &str, secret: &str) -> bool {
    secret
        .as_bytes()
        .windows(6)
        .any(|w| text.as_bytes().windows(6).any(|t| t == w))
}

#[test]
fn random_text_never_panics_and_scrubbing_is_idempotent() {
    let rules = Scrubbing::new().secret_name("pin");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..50_000 {
        let text = random_text(&mut rng);
        for cut in [false, true] {
            let once = rules.scrub_text(&text, cut);
            let twice = rules.scrub_text(&once, cut);
            assert_eq!(once, twice, "not idempotent on {text:?} (cut: {cut})");
        }
    }
}

#[test]
fn inserted_secrets_never_survive() {
    let rules = Scrubbing::new();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for _ in 0..50_000 {
        let (secret, value) = *rng.pick(SECRETS);
        let before = random_text(&mut rng);
        let after = random_text(&mut rng);
        // The secret is a word of its own: text before it ends, text after it starts anew.
        let text = format!("{before} {secret}\n{after}");
        let out = rules.scrub_text(&text, false);
        assert!(
            !leaks(&out, value),
            "{value:?} leaked from {text:?} as {out:?}"
        );
        // Cut anywhere inside the secret: no part of the value the cut left may survive.
        let start = before.len() + 1;
        let value_start = start + secret.find(value).unwrap_or(0);
        let mut end = start + 1 + rng.below(secret.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let shown = text
            .get(value_start..end.min(value_start + value.len()))
            .unwrap_or("");
        let out = rules.scrub_text(&text[..end], true);
        assert!(
            !leaks(&out, shown),
            "{shown:?} of {value:?} leaked from cut {:?} as {out:?}",
            &text[..end]
        );
    }
}

#[test]
fn cut_after_every_byte_of_a_secret_shows_nothing_of_it() {
    let rules = Scrubbing::new();
    for (secret, value) in SECRETS {
        let text = format!("x {secret}");
        for end in 3..=text.len() {
            let out = rules.scrub_text(&text[..end], true);
            let value_start = text.find(value).unwrap_or(0);
            let shown = text
                .get(value_start..end.min(value_start + value.len()))
                .unwrap_or("");
            assert!(
                shown.len() < 6 || !out.contains(shown),
                "{shown:?} of {value:?} survived the cut {:?}: {out:?}",
                &text[..end]
            );
        }
    }
}
