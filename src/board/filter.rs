//! Which rows the board shows and in what order, as its URL says
//! (`?service=web&author=alice&state=asleep&q=checkout&sort=expires&order=desc`): the filter
//! form and the column headers are plain links and a `GET` form, so they work without
//! JavaScript and a link keeps what it shows. Untrusted: every value is bounded; an unknown
//! service, author or state matches nothing, an unknown sort or order is ignored, and a query
//! that cannot be read at all (a key given twice) shows the whole board rather than an error.

use std::fmt::Write as _;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use super::{Board, Left, Row, RowState};

/// Longest filter value kept, in characters.
const MAX_VALUE: usize = 100;

/// The board's filter and sort, from its query string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct Filter {
    /// Only this service.
    pub service: Option<String>,
    /// Only this author.
    pub author: Option<String>,
    /// Only this state ([`RowState::name`]).
    pub state: Option<String>,
    /// Only rows whose PR title, branch, number, author, service or Jira keys contain this
    /// (case-insensitive).
    pub q: Option<String>,
    /// The column sorted by (an unknown one: none).
    #[serde(deserialize_with = "lenient")]
    pub sort: Option<SortKey>,
    /// `desc` for descending (anything else: ascending).
    #[serde(deserialize_with = "lenient")]
    pub order: Option<Order>,
}

/// A value of a known set, or `None` for anything else: a hand-edited link still shows the
/// board, filtered as far as it can be.
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let text = Option::<String>::deserialize(deserializer)?;
    Ok(text
        .and_then(|t| T::deserialize(serde::de::value::StrDeserializer::<D::Error>::new(&t)).ok()))
}

/// A sortable column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// Fleet service order, then PR number (the default).
    Service,
    /// PR number.
    Pr,
    /// Author.
    Author,
    /// State.
    State,
    /// Expiry, soonest first.
    Expires,
    /// Cost so far.
    Cost,
}

impl SortKey {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::Pr => "pr",
            Self::Author => "author",
            Self::State => "state",
            Self::Expires => "expires",
            Self::Cost => "cost",
        }
    }
}

/// Ascending or descending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

impl Filter {
    /// The filter as the page uses it: values trimmed, bounded, empty ones dropped.
    pub fn cleaned(self) -> Self {
        let clean = |value: Option<String>| {
            value
                .map(|v| v.trim().chars().take(MAX_VALUE).collect::<String>())
                .filter(|v| !v.is_empty())
        };
        Self {
            service: clean(self.service),
            author: clean(self.author),
            state: clean(self.state),
            q: clean(self.q),
            sort: self.sort,
            order: self.order,
        }
    }

    /// Whether any row is filtered out.
    pub fn narrows(&self) -> bool {
        self.service.is_some() || self.author.is_some() || self.state.is_some() || self.q.is_some()
    }

    /// Whether `row` passes.
    pub fn keeps(&self, row: &Row) -> bool {
        let number = row.number.to_string();
        let texts = [
            row.title.as_str(),
            row.branch.as_str(),
            row.author.as_str(),
            row.service.as_str(),
            row.repo.as_str(),
            number.as_str(),
        ];
        is(&self.service, row.service.as_str())
            && is(&self.author, &row.author)
            && is(&self.state, row.state.name())
            && contains(
                &self.q,
                texts
                    .into_iter()
                    .chain(row.jira.iter().map(|j| j.key.as_str())),
            )
    }

    /// Whether `left` (a PR without a preview) passes: by service, author and text; a state
    /// filter leaves none (they have no state).
    pub fn keeps_left(&self, left: &Left) -> bool {
        let number = left.number.to_string();
        let texts = [
            left.title.as_str(),
            left.author.as_str(),
            left.service.as_str(),
            number.as_str(),
        ];
        self.state.is_none()
            && is(&self.service, left.service.as_str())
            && is(&self.author, &left.author)
            && contains(&self.q, texts.into_iter())
    }

    /// `board` with only the rows that pass, sorted.
    pub fn apply(&self, mut board: Board) -> Board {
        board.previews.retain(|row| self.keeps(row));
        board.without_preview.retain(|left| self.keeps_left(left));
        if let Some(key) = self.sort {
            board.previews.sort_by(|a, b| compare(key, a, b));
            if self.order == Some(Order::Desc) {
                board.previews.reverse();
            }
        }
        board
    }

    /// The query string of this filter sorted by `key`: ascending, or the other way round when
    /// it is already sorted by `key` ascending.
    pub fn sorted_by(&self, key: SortKey) -> String {
        let order = if self.sort == Some(key) && self.order != Some(Order::Desc) {
            Order::Desc
        } else {
            Order::Asc
        };
        Self {
            sort: Some(key),
            order: Some(order),
            ..self.clone()
        }
        .query()
    }

    /// `?key=value&…` (or empty), every value percent-encoded.
    pub fn query(&self) -> String {
        let mut out = String::new();
        let pairs = [
            ("service", self.service.as_deref()),
            ("author", self.author.as_deref()),
            ("state", self.state.as_deref()),
            ("q", self.q.as_deref()),
            ("sort", self.sort.map(SortKey::as_str)),
            (
                "order",
                self.order.map(|o| match o {
                    Order::Asc => "asc",
                    Order::Desc => "desc",
                }),
            ),
        ];
        for (key, value) in pairs {
            if let Some(value) = value {
                let separator = if out.is_empty() { '?' } else { '&' };
                let _ = write!(
                    out,
                    "{separator}{key}={}",
                    utf8_percent_encode(value, NON_ALPHANUMERIC)
                );
            }
        }
        out
    }
}

/// Whether `value` is the one `wanted` (case-insensitive), or nothing is wanted.
fn is(wanted: &Option<String>, value: &str) -> bool {
    wanted
        .as_deref()
        .is_none_or(|w| w.eq_ignore_ascii_case(value))
}

/// Whether one of `texts` contains `q` (case-insensitive), or there is no `q`.
fn contains<'a>(q: &Option<String>, mut texts: impl Iterator<Item = &'a str>) -> bool {
    let Some(q) = q else {
        return true;
    };
    let q = q.to_lowercase();
    texts.any(|text| text.to_lowercase().contains(&q))
}

fn compare(key: SortKey, a: &Row, b: &Row) -> std::cmp::Ordering {
    let by_pr = || a.number.cmp(&b.number);
    match key {
        SortKey::Service => a.order.cmp(&b.order),
        SortKey::Pr => by_pr(),
        SortKey::Author => a.author.to_lowercase().cmp(&b.author.to_lowercase()),
        SortKey::State => state_rank(&a.state).cmp(&state_rank(&b.state)),
        // Without an expiry last.
        SortKey::Expires => match (a.expires_at, b.expires_at) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        },
        SortKey::Cost => {
            let cost = |r: &Row| r.cost.map_or(0.0, |c| c.so_far);
            cost(a).total_cmp(&cost(b))
        }
    }
    .then_with(by_pr)
}

fn state_rank(state: &RowState) -> usize {
    RowState::ALL
        .iter()
        .position(|(n, _)| *n == state.name())
        .unwrap_or(usize::MAX)
}
