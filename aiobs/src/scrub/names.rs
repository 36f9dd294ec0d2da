//! Secret names: a name is split into words on the fly (no allocation) and the words are
//! compared with the built-in secret words, word pairs and the user's patterns.

/// The words of a name: runs of ASCII letters and digits, split where the case changes
/// (`apiKey` → api, Key; `APIKey` → API, Key). Everything else separates words.
#[derive(Clone, Copy)]
pub(super) struct Words<'a> {
    name: &'a [u8],
    pos: usize,
}

impl<'a> Words<'a> {
    pub(super) fn new(name: &'a [u8]) -> Self {
        Words { name, pos: 0 }
    }

    /// Whether a new word starts at `i` (an uppercase letter inside a run): after a lowercase
    /// letter or a digit (`apiKey`, `oauth2Token`), or as the last capital of a capital run
    /// followed by a lowercase letter (`APIKey`).
    fn starts_word(&self, i: usize) -> bool {
        let b = self.name;
        if !b[i].is_ascii_uppercase() {
            return false;
        }
        let prev = b[i - 1];
        prev.is_ascii_lowercase()
            || prev.is_ascii_digit()
            || (prev.is_ascii_uppercase() && b.get(i + 1).is_some_and(u8::is_ascii_lowercase))
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let b = self.name;
        while self.pos < b.len() && !b[self.pos].is_ascii_alphanumeric() {
            self.pos += 1;
        }
        if self.pos >= b.len() {
            return None;
        }
        let start = self.pos;
        self.pos += 1;
        while self.pos < b.len()
            && b[self.pos].is_ascii_alphanumeric()
            && !self.starts_word(self.pos)
        {
            self.pos += 1;
        }
        Some(&b[start..self.pos])
    }
}

/// Longest built-in word (`subscriptionkey`); longer words are never built-in secrets.
const LONGEST_WORD: usize = 16;

/// `word` in lowercase, in `buf`; `None` when it is longer than any built-in word.
fn lower<'b>(word: &[u8], buf: &'b mut [u8; LONGEST_WORD]) -> Option<&'b [u8]> {
    let out = buf.get_mut(..word.len())?;
    for (o, c) in out.iter_mut().zip(word) {
        *o = c.to_ascii_lowercase();
    }
    Some(out)
}

/// Words that make any name containing them secret. The joined forms of the pairs below
/// (`apikey`, `sessionid`, …) are here too, for names written in one lowercase word.
fn is_secret_word(word: &[u8]) -> bool {
    // By length first: one comparison or a few, instead of a chain of all of them.
    match word.len() {
        3 => matches!(word, b"pwd" | b"jwt" | b"ssn" | b"cvv" | b"cvc"),
        4 => matches!(word, b"auth" | b"xsrf" | b"csrf"),
        5 => matches!(word, b"creds"),
        6 => matches!(
            word,
            b"passwd" | b"secret" | b"cookie" | b"bearer" | b"sessid" | b"apikey"
        ),
        7 => matches!(word, b"secrets" | b"cookies" | b"idtoken"),
        8 => matches!(word, b"password" | b"passcode" | b"ccnumber" | b"apitoken"),
        9 => matches!(
            word,
            b"passwords" | b"secretkey" | b"accesskey" | b"sessionid" | b"setcookie" | b"authtoken"
        ),
        10 => matches!(
            word,
            b"passphrase"
                | b"credential"
                | b"privatekey"
                | b"signingkey"
                | b"sessionkey"
                | b"creditcard"
                | b"cardnumber"
        ),
        11 => matches!(word, b"credentials" | b"accesstoken" | b"bearertoken"),
        12 => matches!(word, b"sessiontoken" | b"clientsecret" | b"refreshtoken"),
        13 => matches!(word, b"authorization" | b"encryptionkey"),
        14 => matches!(word, b"socialsecurity"),
        15 => matches!(word, b"subscriptionkey"),
        _ => false,
    }
}

/// The second words that make a secret pair with `first` (`api` + `key`); empty when
/// `first` starts no pair. (`secret key`, `client secret`, `set cookie` need no pair: `secret`
/// and `cookie` are secret words.)
fn pair_seconds(first: &[u8]) -> &'static [&'static [u8]] {
    match first {
        b"api" | b"private" | b"access" | b"signing" | b"encryption" | b"subscription" => &[b"key"],
        b"session" => &[b"id", b"key", b"token"],
        b"credit" => &[b"card"],
        b"card" | b"cc" => &[b"number"],
        b"social" => &[b"security"],
        _ => &[],
    }
}

/// Whether the built-in rules make `name` secret: a secret word, a secret pair of adjacent
/// words, or `token` as the last word (`access_token`, but not `max_tokens` or `token_count`).
pub(super) fn is_builtin_secret(name: &[u8]) -> bool {
    let mut words = Words::new(name);
    let mut last_is_token = false;
    while let Some(word) = words.next() {
        let mut buf = [0; LONGEST_WORD];
        let Some(word) = lower(word, &mut buf) else {
            last_is_token = false;
            continue;
        };
        if is_secret_word(word) {
            return true;
        }
        let seconds = pair_seconds(word);
        if !seconds.is_empty() {
            let mut next_buf = [0; LONGEST_WORD];
            let next = words.clone().next().and_then(|w| lower(w, &mut next_buf));
            if next.is_some_and(|next| seconds.contains(&next)) {
                return true;
            }
        }
        last_is_token = word == b"token";
    }
    last_is_token
}

/// Whether a query or form parameter name names a secret: its last `_`/`-` part is `key`,
/// `apikey`, `token`, `sig`, `signature`, `secret`, `password` or `passwd`, or it is
/// `accesstoken`, `subscriptionkey` or `apitoken` (any case). Allocation-free.
// Unlike is_builtin_secret: any `…_key` and `sig` count (Gemini, Azure SAS); only the last part does.
pub(super) fn is_secret_param(name: &[u8]) -> bool {
    let last = name
        .rsplit(|&c| c == b'_' || c == b'-')
        .next()
        .unwrap_or_default();
    let mut buf = [0; LONGEST_WORD];
    let Some(last) = lower(last, &mut buf) else {
        return false;
    };
    matches!(
        last,
        b"key" | b"apikey" | b"token" | b"sig" | b"signature" | b"secret" | b"password" | b"passwd"
    ) || (last.len() == name.len()
        && matches!(last, b"accesstoken" | b"subscriptionkey" | b"apitoken"))
}

/// A user's secret name pattern: its words in lowercase, and their concatenation (so that
/// `customerpin` matches the pattern `customer pin` too).
#[derive(Clone, Debug)]
pub(super) struct Pattern {
    words: Box<[Box<str>]>,
    joined: Box<str>,
}

impl Pattern {
    /// The pattern written as `pattern`; `None` when it has no word.
    pub(super) fn new(pattern: &str) -> Option<Pattern> {
        let words: Box<[Box<str>]> = Words::new(pattern.as_bytes())
            .map(|w| {
                String::from_utf8_lossy(w)
                    .to_ascii_lowercase()
                    .into_boxed_str()
            })
            .collect();
        if words.is_empty() {
            return None;
        }
        let joined = words.concat().into_boxed_str();
        Some(Pattern { words, joined })
    }

    /// Whether the pattern's words occur next to each other in `name`, or its joined form
    /// is one of `name`'s words.
    pub(super) fn occurs_in(&self, name: &[u8]) -> bool {
        let mut words = Words::new(name);
        loop {
            let mut rest = words;
            let at_start = self.words.iter().all(|p| {
                rest.next()
                    .is_some_and(|w| w.eq_ignore_ascii_case(p.as_bytes()))
            });
            if at_start {
                return true;
            }
            match words.next() {
                Some(w)
                    if self.words.len() > 1 && w.eq_ignore_ascii_case(self.joined.as_bytes()) =>
                {
                    return true;
                }
                Some(_) => {}
                None => return false,
            }
        }
    }
}

/// `name` compared the way safe names are: lowercase ASCII letters and digits only.
pub(super) fn normalise(name: &str) -> String {
    name.bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase() as char)
        .collect()
}

/// Whether `name`, normalised, is `normalised` (without allocating).
pub(super) fn normalised_eq(name: &[u8], normalised: &[u8]) -> bool {
    name.iter()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
        .eq(normalised.iter().copied())
}
