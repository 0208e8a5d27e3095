//! The bulk read of [`GitHubSource`]: what a refresh wants, in a few GraphQL queries per
//! repository (see `wire/graphql.rs` for the documents and `wire/graphql/decode.rs` for the
//! answers).
//!
//! **Where.** `https://api.github.com/graphql`; on GitHub Enterprise Server
//! `https://HOST/api/graphql` (not under the REST base `…/api/v3`, which is why the GraphQL
//! client is a second octocrab client on the endpoint's origin, without credentials of its
//! own: the bearer is set per request, the token's or the installation's cached one).
//!
//! **Bounds.** At most [`IN_FLIGHT`] queries at once per client (GitHub's secondary limits
//! count concurrent requests and GraphQL CPU time), answers of at most [`ANSWER_CAP`] bytes:
//! a longer one is not read, and its chunk is asked again in two halves (down to one commit or
//! one PR, whose facts are then left to REST). A timeline is read page by page, newest first,
//! at most [`MAX_PAGES`](super::MAX_PAGES) pages.
//!
//! **Faults** are never evidence: a chunk that fails leaves its facts out of [`BulkFacts`]
//! (the sync reads them over REST). GitHub's GraphQL budget spent ends the bulk reads until its
//! reset (REST reads carry on, on their own budget). A secondary rate limit is on the client,
//! REST included: the whole call fails with it, and the refresh backs off. A server without a GraphQL endpoint
//! (`404`, `405`, `410`, `501`), or whose schema lacks a field or type the query uses, makes
//! the repository read over REST for [`RETRY_GRAPHQL_AFTER`]: said once in the log and in
//! `preview_tower_github_graphql_fallback_repos`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ::octocrab::Octocrab;
use futures::{StreamExt, stream};
use http::StatusCode;
use secrecy::SecretString;
use tracing::{debug, warn};
use url::Url;

use super::wire::graphql::decode::{self, Answered, ChunkFacts, TimelinePage};
use super::wire::graphql::{self, Chunk, TimelineWant, halves};
use super::{Auth, GitHubSource, MAX_PAGES, lock, transport};
use crate::github::GitHubError;
use crate::github::bulk::{BulkFacts, Wants};
use crate::naming::RepoName;
use crate::pull_request::PullEvent;

/// Most GraphQL queries in flight per client.
const IN_FLIGHT: usize = 4;
/// Longest GraphQL answer read, in bytes.
const ANSWER_CAP: usize = 4 << 20;
/// How long a repository whose GraphQL was refused is read over REST before GraphQL is tried
/// again (an upgraded GitHub Enterprise Server).
const RETRY_GRAPHQL_AFTER: Duration = Duration::from_secs(6 * 3600);
/// Failed bulk reads of a repository in a row after which its facts are read over REST while
/// GraphQL keeps failing.
const WITHHOLD_FAILURES: u32 = 3;
/// Longest wait for GitHub's GraphQL budget, whatever its headers say.
const MAX_HOLD_OFF: Duration = Duration::from_secs(3600);
/// Most faults kept for the log per bulk read.
const MAX_FAULTS: usize = 8;

/// Whether and where to read in bulk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphqlMode {
    /// At GitHub's GraphQL endpoint for the REST base URL (see [`graphql_url`]), or at this URL.
    On(Option<Url>),
    /// Never: every fact is read over REST, one at a time.
    Off,
}

/// GitHub's GraphQL endpoint for the REST base `api_url`: `https://api.github.com/graphql`;
/// `https://HOST/api/graphql` for GitHub Enterprise Server's `https://HOST/api/v3`; else
/// `{api_url}/graphql` (GitHub Enterprise Cloud with data residency, `api.SUBDOMAIN.ghe.com`).
pub fn graphql_url(api_url: &Url) -> Url {
    let mut url = api_url.clone();
    let path = api_url.path().trim_end_matches('/');
    let graphql = match path.strip_suffix("/v3") {
        Some(api) => format!("{api}/graphql"),
        None => format!("{path}/graphql"),
    };
    url.set_path(&graphql);
    url.set_query(None);
    url
}

/// The GraphQL side of a [`GitHubSource`].
pub(super) struct Graphql {
    /// A client on the endpoint's origin, without credentials.
    client: Octocrab,
    /// The endpoint's path.
    route: String,
    in_flight: tokio::sync::Semaphore,
    /// Repositories read over REST, since when.
    refused: Mutex<HashMap<RepoName, Instant>>,
    /// No bulk read until then, per budget (an App installation's, or the token's).
    limited_until: Mutex<HashMap<String, Instant>>,
    /// Failed bulk reads in a row, per repository.
    failing: Mutex<HashMap<RepoName, u32>>,
}

impl Graphql {
    /// The GraphQL side for `url`, with the REST client's timeouts.
    pub(super) fn new(url: &Url, timeout: Duration) -> Result<Self, GitHubError> {
        let origin = url.origin().ascii_serialization();
        let client = Octocrab::builder()
            .base_uri(origin.as_str())
            .map_err(|e| GitHubError::Transport(format!("invalid GitHub GraphQL URL {url}: {e}")))?
            .set_connect_timeout(Some(timeout))
            .set_write_timeout(Some(timeout))
            .build()
            .map_err(|e| GitHubError::Transport(format!("cannot build the GraphQL client: {e}")))?;
        Ok(Self {
            client,
            route: url.path().to_owned(),
            in_flight: tokio::sync::Semaphore::new(IN_FLIGHT),
            refused: Mutex::new(HashMap::new()),
            limited_until: Mutex::new(HashMap::new()),
            failing: Mutex::new(HashMap::new()),
        })
    }
}

/// What one chunk came to.
enum Outcome {
    Read(ChunkFacts),
    /// Not read, for a reason that leaves its facts to REST (a doubt, the GraphQL budget).
    ToRest(GitHubError),
    /// Not read: a fault of GraphQL.
    Failed(Chunk, GitHubError),
    /// A secondary rate limit.
    Limited(GitHubError),
}

/// How one query went.
enum Sent {
    Read(ChunkFacts),
    /// The answer was over [`ANSWER_CAP`].
    TooLong,
    Refused(String),
    /// GitHub's GraphQL budget (points) is spent: REST, a budget of its own, reads on.
    Spent(GitHubError),
}

impl GitHubSource {
    /// [`crate::github::PullRequestSource::bulk_facts`].
    pub(super) async fn read_bulk(
        &self,
        repo: &RepoName,
        wants: &Wants,
    ) -> Result<Option<BulkFacts>, GitHubError> {
        let Some(graphql) = &self.graphql else {
            return Ok(None);
        };
        if !self.graphql_available(graphql, repo) {
            return Ok(None);
        }
        if wants.is_empty() {
            return Ok(Some(BulkFacts::default()));
        }
        let started = Instant::now();
        let bearer = self.bearer(repo).await?;
        let own = self.own_account().await?;
        let mut facts = BulkFacts::default();
        let mut pages: HashMap<u64, Vec<TimelinePage>> = HashMap::new();
        let mut timelines: Vec<TimelineWant> = wants
            .activity
            .iter()
            .map(|&number| TimelineWant {
                number,
                before: None,
            })
            .collect();
        let mut commits: Vec<_> = wants.commits.iter().filter_map(graphql::askable).collect();
        // A query that fails (5xx, a timeout, an unreadable answer) leaves its facts unread in
        // this refresh, so that a GraphQL outage is not a REST storm; after a few failed reads
        // in a row the one-at-a-time reads take them (GraphQL may be down for long).
        let withhold = lock(&graphql.failing).get(repo).copied().unwrap_or(0) < WITHHOLD_FAILURES;
        let mut failed = false;
        for _ in 0..MAX_PAGES {
            if commits.is_empty() && timelines.is_empty() {
                break;
            }
            let round = graphql::chunks(&commits, &timelines);
            commits.clear();
            let read = self.send_all(graphql, repo, &bearer, &own, round).await;
            let read = match read {
                Ok(read) => read,
                Err(Refusal(why)) => {
                    self.fall_back(graphql, repo, &why);
                    return Ok(None);
                }
            };
            timelines = Vec::new();
            for outcome in read {
                let chunk = match outcome {
                    Outcome::Read(chunk) => chunk,
                    // A secondary limit is on the client, REST included: the refresh backs off.
                    Outcome::Limited(error) => return Err(error),
                    // Left to the one-at-a-time reads.
                    Outcome::ToRest(error) => {
                        note(&mut facts, error);
                        continue;
                    }
                    Outcome::Failed(chunk, error) => {
                        failed = true;
                        if withhold {
                            facts
                                .withheld
                                .commits
                                .extend(chunk.commits.into_iter().map(|c| c.sha));
                            facts
                                .withheld
                                .activity
                                .extend(chunk.timelines.iter().map(|t| t.number));
                            facts.withheld.error.get_or_insert_with(|| copy(&error));
                        }
                        note(&mut facts, error);
                        continue;
                    }
                };
                facts.points += chunk.points.unwrap_or(0);
                facts.queries += 1;
                facts.files.extend(chunk.files);
                facts.objects.extend(chunk.objects);
                facts.builds.extend(chunk.builds);
                for error in chunk.faults {
                    note(&mut facts, error);
                }
                for (number, page) in chunk.timelines {
                    if let Some(cursor) = &page.earlier {
                        timelines.push(TimelineWant {
                            number,
                            before: Some(cursor.clone()),
                        });
                    }
                    pages.entry(number).or_default().push(page);
                }
            }
        }
        self.count_failure(graphql, repo, failed);
        Ok(Some(self.finish_bulk(repo, started, facts, pages)))
    }

    /// Puts the timelines read to their first page into `facts`, logs, counts.
    fn finish_bulk(
        &self,
        repo: &RepoName,
        started: Instant,
        mut facts: BulkFacts,
        pages: HashMap<u64, Vec<TimelinePage>>,
    ) -> BulkFacts {
        for (number, newest_first) in pages {
            // Pages were read newest first: complete when the last one read has none before.
            if newest_first.last().is_none_or(|p| p.earlier.is_some()) {
                continue;
            }
            let events: Vec<PullEvent> = newest_first
                .into_iter()
                .rev()
                .flat_map(|p| p.events)
                .collect();
            facts.activity.insert(number, events);
        }
        let rate = &self.exchange.rate.graphql;
        rate.points.inc_by(facts.points);
        rate.queries.inc_by(facts.queries);
        debug!(%repo, queries = facts.queries, points = facts.points,
            files = facts.files.len(), builds = facts.builds.len(),
            timelines = facts.activity.len(), faults = facts.faults.len(),
            duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "GitHub bulk read");
        facts
    }

    /// Sends `chunks`, [`IN_FLIGHT`] at a time; a chunk whose answer is too long is asked again
    /// in halves. What each chunk came to; a refusal ends it all.
    async fn send_all(
        &self,
        graphql: &Graphql,
        repo: &RepoName,
        bearer: &SecretString,
        own: &str,
        chunks: Vec<Chunk>,
    ) -> Result<Vec<Outcome>, Refusal> {
        let mut out = Vec::new();
        let mut pending = chunks;
        while !pending.is_empty() {
            let sent: Vec<(Chunk, Result<Sent, GitHubError>)> = stream::iter(pending)
                .map(|chunk| async move {
                    let sent = self.send_query(graphql, repo, bearer, own, &chunk).await;
                    (chunk, sent)
                })
                .buffer_unordered(IN_FLIGHT)
                .collect()
                .await;
            pending = Vec::new();
            for (chunk, result) in sent {
                out.push(match result {
                    Ok(Sent::Read(facts)) => Outcome::Read(facts),
                    Ok(Sent::Refused(why)) => return Err(Refusal(why)),
                    Ok(Sent::TooLong) => match halves(chunk) {
                        Some((first, second)) => {
                            pending.extend([first, second]);
                            continue;
                        }
                        None => Outcome::ToRest(GitHubError::Malformed(format!(
                            "a GraphQL answer about one commit or pull request of {repo} is \
                             over {ANSWER_CAP} bytes"
                        ))),
                    },
                    Ok(Sent::Spent(error)) => {
                        let retry_after = error
                            .retry_after()
                            .unwrap_or(Duration::from_secs(60))
                            .min(MAX_HOLD_OFF);
                        let until = Instant::now().checked_add(retry_after);
                        lock(&graphql.limited_until).insert(self.budget_of(repo), until.unwrap_or_else(Instant::now));
                        warn!(%repo, retry_after_s = retry_after.as_secs(),
                            "GitHub's GraphQL budget is spent; facts are read over REST until it resets");
                        Outcome::ToRest(error)
                    }
                    Err(error @ GitHubError::RateLimited { .. }) => Outcome::Limited(error),
                    Err(error) => Outcome::Failed(chunk, error),
                });
            }
        }
        Ok(out)
    }

    async fn send_query(
        &self,
        graphql: &Graphql,
        repo: &RepoName,
        bearer: &SecretString,
        own: &str,
        chunk: &Chunk,
    ) -> Result<Sent, GitHubError> {
        let query = graphql::head_facts(repo, chunk);
        let _permit = graphql.in_flight.acquire().await;
        let answer = transport::post_graphql(
            &graphql.client,
            &graphql.route,
            bearer,
            &query.body(),
            ANSWER_CAP,
            &self.exchange,
        )
        .await?;
        let Some(answer) = answer else {
            return Ok(Sent::TooLong);
        };
        match answer.status {
            StatusCode::NOT_FOUND
            | StatusCode::METHOD_NOT_ALLOWED
            | StatusCode::GONE
            | StatusCode::NOT_IMPLEMENTED => {
                return Ok(Sent::Refused(format!(
                    "no GraphQL endpoint at {} ({})",
                    graphql.route, answer.status
                )));
            }
            status if !status.is_success() => {
                let error = transport::status_error(&answer);
                let spent = answer.header("x-ratelimit-remaining") == Some("0");
                return match error {
                    GitHubError::RateLimited { .. } if spent => Ok(Sent::Spent(error)),
                    error => Err(error),
                };
            }
            _ => {}
        }
        match decode::decode(&answer.body, &query, chunk, own)? {
            Answered::Read(facts) => Ok(Sent::Read(facts)),
            Answered::Refused(why) => Ok(Sent::Refused(why)),
            Answered::RateLimited(message) => {
                debug!(%repo, message, "GraphQL rate limited");
                let reset = answer
                    .header("x-ratelimit-reset")
                    .and_then(|r| r.trim().parse::<i64>().ok());
                let now = chrono::Utc::now().timestamp();
                let retry_after =
                    reset.map(|reset| Duration::from_secs(u64::try_from(reset - now).unwrap_or(0)));
                Ok(Sent::Spent(GitHubError::RateLimited { retry_after }))
            }
        }
    }

    /// The bearer for `repo`'s queries: the token, or the owner's installation token (cached
    /// by octocrab; minted only when it expires).
    async fn bearer(&self, repo: &RepoName) -> Result<SecretString, GitHubError> {
        match &self.auth {
            Auth::Token { token, .. } => Ok(token.clone()),
            Auth::App { .. } => {
                let client = self.client(repo).await?;
                let token =
                    tokio::time::timeout(self.exchange.timeout, client.installation_token())
                        .await
                        .map_err(|_elapsed| GitHubError::Timeout)?;
                token.map_err(|e| transport::from_octocrab(&e))
            }
        }
    }
}

/// Why the bulk read of a repository stops for good (for a while): see the module doc.
struct Refusal(String);

/// The same error again (for the refresh's error, beside the log's).
fn copy(error: &GitHubError) -> GitHubError {
    match error {
        GitHubError::Timeout => GitHubError::Timeout,
        GitHubError::Upstream { status, message } => GitHubError::Upstream {
            status: *status,
            message: message.clone(),
        },
        GitHubError::Unauthorized(message) => GitHubError::Unauthorized(message.clone()),
        GitHubError::Malformed(message) => GitHubError::Malformed(message.clone()),
        other => GitHubError::Transport(other.to_string()),
    }
}

fn note(facts: &mut BulkFacts, error: GitHubError) {
    if facts.faults.len() < MAX_FAULTS {
        facts.faults.push(error);
    }
}

mod standing;
#[cfg(test)]
mod tests;
