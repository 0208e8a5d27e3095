//! A loosely typed, located YAML tree for strict config parsing.
//!
//! Both config files (the fleet file and the repo config file) are read into this tree first and
//! validated by hand, rather than deserialized straight into typed structs: serde stops at the
//! first problem, while a tree lets us report every unknown key, wrong type and invalid value at
//! once, each with its line and column. Loading is bounded by [`Limits`] (nesting depth, node and
//! alias counts), so hostile input such as an alias bomb fails fast with an error. Pure, and a
//! leaf: it knows neither config file and imports nothing of the crate; the parsers
//! (`fleet::parse`, `repo_config`) import it.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::options::{DuplicateKeyPolicy, MergeKeyPolicy, NonFiniteFloatPolicy};
use serde_saphyr::{MessageFormatter, Spanned, UserMessageFormatter};

/// A node of the tree with where it was written.
pub(crate) type Located = Spanned<Node>;

/// A YAML value as the document wrote it, scalars already typed by the YAML core schema.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// `null`, `~` or nothing.
    Null,
    /// `true` or `false` (YAML 1.1 spellings like `yes` stay text).
    Bool(bool),
    /// An integer.
    Int(i128),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Str(String),
    /// A sequence.
    Seq(Vec<Located>),
    /// A mapping, in document order; repeated keys are kept so that they can be reported.
    Map(Vec<(Located, Located)>),
}

impl Node {
    /// What kind of value this is, for messages (`a mapping`, `text`).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Null => "nothing (null)",
            Self::Bool(_) => "a boolean",
            Self::Int(_) | Self::Float(_) => "a number",
            Self::Str(_) => "text",
            Self::Seq(_) => "a list",
            Self::Map(_) => "a mapping",
        }
    }

    /// The value as short YAML-like text, for messages; `None` for collections.
    pub(crate) fn scalar_text(&self) -> Option<String> {
        match self {
            Self::Null => Some("null".to_owned()),
            Self::Bool(b) => Some(b.to_string()),
            Self::Int(i) => Some(i.to_string()),
            Self::Float(f) => Some(f.to_string()),
            Self::Str(s) => Some(s.clone()),
            Self::Seq(_) | Self::Map(_) => None,
        }
    }
}

/// 1-based line and column of a located node, `None` when unknown.
pub(crate) fn position(node: &Located) -> (Option<u32>, Option<u32>) {
    let at = node.referenced;
    let clamp = |n: u64| (n > 0).then(|| u32::try_from(n).unwrap_or(u32::MAX));
    match clamp(at.line()) {
        Some(line) => (Some(line), clamp(at.column())),
        None => (None, None),
    }
}

/// Resource limits for loading a document.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Deepest nesting of collections.
    pub(crate) max_depth: usize,
    /// Most nodes (scalars and collections), aliases expanded.
    pub(crate) max_nodes: usize,
    /// Most alias uses (`*name`).
    pub(crate) max_aliases: usize,
    /// Most events replayed by all aliases together.
    pub(crate) max_replayed_events: usize,
    /// Whether `<<` merge keys are expanded (otherwise `<<` is an ordinary, unknown key).
    pub(crate) merge_keys: bool,
}

/// Why a document could not be loaded: a syntax error or a limit breached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LoadError {
    /// 1-based line, when known.
    pub(crate) line: Option<u32>,
    /// 1-based column, when known.
    pub(crate) column: Option<u32>,
    /// What went wrong, without the location.
    pub(crate) message: String,
    /// Whether the error is a limit (nesting, aliases, size) rather than a syntax error.
    pub(crate) limit: bool,
}

/// Loads one YAML document; `Ok(None)` for an empty document (only comments or blanks).
pub(crate) fn load(text: &str, limits: Limits) -> Result<Option<Located>, LoadError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: limits.max_depth,
            max_nodes: limits.max_nodes,
            max_aliases: limits.max_aliases,
            max_anchors: limits.max_nodes,
            max_events: limits.max_nodes.saturating_mul(4),
            max_documents: 2, // so that a second document is a syntax error, not a budget one
            max_recorded_anchor_events: limits.max_replayed_events,
            flow_nesting_limit: limits.max_depth,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: limits.max_replayed_events,
            max_replay_stack_depth: limits.max_depth,
        },
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        merge_keys: if limits.merge_keys { MergeKeyPolicy::Merge } else { MergeKeyPolicy::AsOrdinary },
        strict_booleans: true,
        non_finite_float_policy: NonFiniteFloatPolicy::AsString,
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options::<Option<Located>>(text, options).map_err(load_error)
}

fn load_error(err: serde_saphyr::Error) -> LoadError {
    let err = err.without_snippet();
    let (line, column) = match err.location() {
        Some(at) if at.line() > 0 => {
            let clamp = |n: u64| u32::try_from(n).ok().filter(|n| *n > 0);
            (clamp(at.line()), clamp(at.column()))
        }
        _ => (None, None),
    };
    let limit = is_limit(err);
    let message = if limit {
        "the document is too large or too deeply nested, or expands too many aliases".to_owned()
    } else {
        sanitize(&UserMessageFormatter.format_message(err), 200)
    };
    LoadError {
        line,
        column,
        message,
        limit,
    }
}

fn is_limit(err: &serde_saphyr::Error) -> bool {
    use serde_saphyr::Error as E;
    matches!(
        err,
        E::Budget { .. }
            | E::AliasReplayCounterOverflow { .. }
            | E::AliasReplayLimitExceeded { .. }
            | E::AliasExpansionLimitExceeded { .. }
            | E::AliasReplayStackDepthExceeded { .. }
    ) || matches!(err, E::AliasError { error, .. } if is_limit(error))
}

/// Untrusted text made safe to show inside a Markdown code span, as messages quote it (they end
/// up in PR comments, see [`code_span`]):
///
/// - a backtick becomes `'`, so that the text can never close the span it is quoted in;
/// - control characters, newlines included, and invisible formatting characters (bidi
///   overrides, zero-width spaces, line separators) are shown escaped (`\n`, `\u{202e}`), so the
///   text stays on one line and reads as it is;
/// - at most `max` characters of the text are kept, `…` marking a cut.
pub(crate) fn sanitize(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == max {
            out.push('…');
            break;
        }
        match c {
            '`' => out.push('\''),
            c if c.is_control() => out.extend(c.escape_default()),
            c if is_invisible_format(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

/// `text` quoted for a message as a Markdown code span: sanitized (see [`sanitize`]) and cut at
/// `max` characters. Empty text shows as `""`, as an empty span would not render.
pub(crate) fn code_span(text: &str, max: usize) -> String {
    let shown = sanitize(text, max);
    if shown.is_empty() {
        "`\"\"`".to_owned()
    } else {
        format!("`{shown}`")
    }
}

/// Characters that change how text around them is shown without being seen: bidi controls,
/// zero-width characters, line and paragraph separators, the byte-order mark, the soft hyphen.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{61c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// `duration` in the short form people write: each unit once, largest first, zeros left out
/// (`14d`, `2d 12h`, `1h 30m`, `0s`). Unlike humantime's form it has no months or years, which
/// humantime counts as 30.44 and 365.25 days (`900d` would show as `2years 5months 17days 7h
/// 12m`), and it reads back to the same duration.
pub(crate) fn short_duration(duration: Duration) -> String {
    const UNITS: [(&str, u64); 4] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];
    let mut secs = duration.as_secs();
    let mut parts = Vec::new();
    for (unit, size) in UNITS {
        if secs >= size {
            parts.push(format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    let nanos = duration.subsec_nanos();
    for (unit, part) in [
        ("ms", nanos / 1_000_000),
        ("us", nanos / 1_000 % 1_000),
        ("ns", nanos % 1_000),
    ] {
        if part > 0 {
            parts.push(format!("{part}{unit}"));
        }
    }
    if parts.is_empty() {
        return "0s".to_owned();
    }
    parts.join(" ")
}

/// The candidate closest to `word`, when it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let word = word.to_ascii_lowercase();
    let allowed = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(&word, &c.to_ascii_lowercase()), c))
        .filter(|(distance, _)| *distance <= allowed)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// `` `a`, `b` or `c` ``: a list of allowed values for messages.
pub(crate) fn one_of(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    match quoted.split_last() {
        None => "nothing".to_owned(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Int(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(i128::try_from(v).map_or(Node::Float(v as f64), Node::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Node, E> {
        Ok(Node::Str(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Located>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Located>()? {
            let value = map.next_value::<Located>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

/// A key of a mapping as text, when it is a scalar (`1: x` gives `"1"`).
pub(crate) fn key_text(key: &Located) -> Option<Cow<'_, str>> {
    match &key.value {
        Node::Str(s) => Some(Cow::Borrowed(s)),
        Node::Seq(_) | Node::Map(_) | Node::Null => None,
        other => other.scalar_text().map(Cow::Owned),
    }
}
