//! The size limits of captured values: per value (those of the Python SDK by default) and per
//! event. They are applied while a value is serialised, so a huge value is never captured whole
//! and cut afterwards.

/// How much of each captured value is kept.
///
/// The per-value limits are those of the Python SDK: strings keep 500 characters (and end in
/// `...` when cut), sequences 10 items, maps and structs 20 entries, map keys 100 characters.
/// On top of them, one event (its arguments, result and error together) keeps at most
/// 64 KiB of captured data: when it holds more, its largest values are replaced first by
/// `"[cut: N bytes]"`, until it fits.
///
/// A cut sequence ends with a marker item, `"[+990 more items]"`, and a cut map with a marker
/// entry, `"...": "[+5 more entries]"`; [`Limits::markers`] turns those two off for output
/// shaped exactly as the Python SDK's.
///
/// ```
/// let limits = aiobs::Limits::new().max_str_chars(2_000).max_items(50);
/// let obs = aiobs::Collector::new();
/// obs.set_limits(limits);
/// assert_eq!(obs.limits().get_max_items(), 50);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub(crate) str_chars: usize,
    pub(crate) items: usize,
    pub(crate) entries: usize,
    pub(crate) key_chars: usize,
    pub(crate) event_bytes: usize,
    pub(crate) markers: bool,
}

/// The defaults, as a constant the hot path can point to.
pub(crate) static DEFAULT: Limits = Limits::new();

/// No limit at all (provider requests and responses, which have a cap of their own).
pub(crate) static NONE: Limits = Limits {
    str_chars: usize::MAX,
    items: usize::MAX,
    entries: usize::MAX,
    key_chars: usize::MAX,
    event_bytes: usize::MAX,
    markers: false,
};

impl Default for Limits {
    fn default() -> Self {
        Limits::new()
    }
}

impl Limits {
    /// The defaults: 500 characters, 10 items, 20 entries, 100-character keys, 64 KiB an
    /// event, markers on.
    ///
    /// ```
    /// assert_eq!(aiobs::Limits::new().get_max_str_chars(), 500);
    /// ```
    pub const fn new() -> Limits {
        Limits {
            str_chars: 500,
            items: 10,
            entries: 20,
            key_chars: 100,
            event_bytes: 64 * 1024,
            markers: true,
        }
    }

    /// Characters a captured string keeps (a longer one is cut and ends in `...`).
    ///
    /// ```
    /// let limits = aiobs::Limits::new().max_str_chars(80);
    /// # assert_eq!(limits.get_max_str_chars(), 80);
    /// ```
    pub const fn max_str_chars(mut self, chars: usize) -> Limits {
        self.str_chars = chars;
        self
    }

    /// Items a captured sequence (`Vec`, slice, tuple, set) keeps.
    ///
    /// ```
    /// let limits = aiobs::Limits::new().max_items(100);
    /// # assert_eq!(limits.get_max_items(), 100);
    /// ```
    pub const fn max_items(mut self, items: usize) -> Limits {
        self.items = items;
        self
    }

    /// Entries a captured map or struct keeps.
    ///
    /// ```
    /// let limits = aiobs::Limits::new().max_entries(50);
    /// # assert_eq!(limits.get_max_entries(), 50);
    /// ```
    pub const fn max_entries(mut self, entries: usize) -> Limits {
        self.entries = entries;
        self
    }

    /// Characters a captured map key keeps.
    ///
    /// ```
    /// let limits = aiobs::Limits::new().max_key_chars(40);
    /// # assert_eq!(limits.get_max_key_chars(), 40);
    /// ```
    pub const fn max_key_chars(mut self, chars: usize) -> Limits {
        self.key_chars = chars;
        self
    }

    /// Bytes of captured data one event keeps, its arguments, result and error together
    /// (about the size of their JSON). The largest values are cut first.
    ///
    /// ```
    /// let limits = aiobs::Limits::new().max_event_bytes(16 * 1024);
    /// # assert_eq!(limits.get_max_event_bytes(), 16 * 1024);
    /// ```
    pub const fn max_event_bytes(mut self, bytes: usize) -> Limits {
        self.event_bytes = bytes;
        self
    }

    /// Whether a cut sequence or map gets a marker saying how much was left out (on by
    /// default). A cut string always ends in `...`, and a value cut by the event cap always
    /// becomes `"[cut: N bytes]"`.
    ///
    /// ```
    /// let python_shaped = aiobs::Limits::new().markers(false);
    /// # assert!(!python_shaped.get_markers());
    /// ```
    pub const fn markers(mut self, on: bool) -> Limits {
        self.markers = on;
        self
    }

    /// How far one event's captured bytes may grow while values are serialised: twice its
    /// cap, so that the cap then cuts the largest values rather than whatever came last.
    pub(crate) const fn capture_budget(&self) -> usize {
        self.event_bytes.saturating_mul(2)
    }

    /// See [`Limits::max_str_chars`].
    ///
    /// ```
    /// assert_eq!(aiobs::Limits::new().get_max_str_chars(), 500);
    /// ```
    pub const fn get_max_str_chars(&self) -> usize {
        self.str_chars
    }

    /// See [`Limits::max_items`].
    ///
    /// ```
    /// assert_eq!(aiobs::Limits::new().get_max_items(), 10);
    /// ```
    pub const fn get_max_items(&self) -> usize {
        self.items
    }

    /// See [`Limits::max_entries`].
    ///
    /// ```
    /// assert_eq!(aiobs::Limits::new().get_max_entries(), 20);
    /// ```
    pub const fn get_max_entries(&self) -> usize {
        self.entries
    }

    /// See [`Limits::max_key_chars`].
    ///
    /// ```
    /// assert_eq!(aiobs::Limits::new().get_max_key_chars(), 100);
    /// ```
    pub const fn get_max_key_chars(&self) -> usize {
        self.key_chars
    }

    /// See [`Limits::max_event_bytes`].
    ///
    /// ```
    /// assert_eq!(aiobs::Limits::new().get_max_event_bytes(), 65_536);
    /// ```
    pub const fn get_max_event_bytes(&self) -> usize {
        self.event_bytes
    }

    /// See [`Limits::markers`].
    ///
    /// ```
    /// assert!(aiobs::Limits::new().get_markers());
    /// ```
    pub const fn get_markers(&self) -> bool {
        self.markers
    }
}
