//! The JSON objects the fake serves, built in full as GitHub sends them (every field the vendor
//! schema requires, plus the common optional ones).

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::model::{FakePull, Node, Repo};

/// RFC 3339 with a `Z`, as GitHub writes times.
pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A small stable number for a name (user and label ids).
pub fn stable_id(text: &str) -> u64 {
    text.bytes().fold(1_469_598_103_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1_099_511_628_211)
    }) % 90_000_000
        + 1_000_000
}

/// `simple-user`.
pub fn user(base: &str, login: &str) -> Value {
    let api = format!("{base}/users/{login}");
    let id = stable_id(login);
    let node_id = base64::engine::general_purpose::STANDARD.encode(format!("04:User{id}"));
    json!({
        "login": login, "id": id, "node_id": node_id,
        "avatar_url": format!("{base}/avatars/{login}"), "gravatar_id": "",
        "url": api, "html_url": format!("{base}/{login}"),
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"), "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": "User", "user_view_type": "public", "site_admin": false
    })
}

/// `repository` for `owner/name` (a fork when `fork`).
pub fn repository(base: &str, id: u64, owner: &str, name: &str, fork: bool) -> Value {
    let full = format!("{owner}/{name}");
    let api = format!("{base}/repos/{full}");
    let html = format!("{base}/{full}");
    let node_id = base64::engine::general_purpose::STANDARD.encode(format!("010:Repository{id}"));
    let created = "2020-01-01T00:00:00Z";
    let mut object = json!({
        "id": id, "node_id": node_id, "name": name, "full_name": full,
        "owner": user(base, owner), "private": true, "html_url": html,
        "description": null, "fork": fork, "url": api,
        "archive_url": format!("{api}/{{archive_format}}{{/ref}}"),
        "assignees_url": format!("{api}/assignees{{/user}}"),
        "blobs_url": format!("{api}/git/blobs{{/sha}}"),
        "branches_url": format!("{api}/branches{{/branch}}"),
        "collaborators_url": format!("{api}/collaborators{{/collaborator}}"),
        "comments_url": format!("{api}/comments{{/number}}"),
        "commits_url": format!("{api}/commits{{/sha}}"),
        "compare_url": format!("{api}/compare/{{base}}...{{head}}"),
        "contents_url": format!("{api}/contents/{{+path}}"),
        "contributors_url": format!("{api}/contributors"),
        "deployments_url": format!("{api}/deployments"),
        "downloads_url": format!("{api}/downloads"), "events_url": format!("{api}/events"),
        "forks_url": format!("{api}/forks"),
    });
    let more = json!({
        "git_commits_url": format!("{api}/git/commits{{/sha}}"),
        "git_refs_url": format!("{api}/git/refs{{/sha}}"),
        "git_tags_url": format!("{api}/git/tags{{/sha}}"),
        "git_url": format!("git://fake.invalid/{full}.git"),
        "issue_comment_url": format!("{api}/issues/comments{{/number}}"),
        "issue_events_url": format!("{api}/issues/events{{/number}}"),
        "issues_url": format!("{api}/issues{{/number}}"),
        "keys_url": format!("{api}/keys{{/key_id}}"),
        "labels_url": format!("{api}/labels{{/name}}"),
        "languages_url": format!("{api}/languages"), "merges_url": format!("{api}/merges"),
        "milestones_url": format!("{api}/milestones{{/number}}"),
        "notifications_url": format!("{api}/notifications{{?since,all,participating}}"),
        "pulls_url": format!("{api}/pulls{{/number}}"),
        "releases_url": format!("{api}/releases{{/id}}"),
        "ssh_url": format!("git@fake.invalid:{full}.git"),
        "stargazers_url": format!("{api}/stargazers"),
        "statuses_url": format!("{api}/statuses/{{sha}}"),
        "subscribers_url": format!("{api}/subscribers"),
        "subscription_url": format!("{api}/subscription"), "tags_url": format!("{api}/tags"),
        "teams_url": format!("{api}/teams"), "trees_url": format!("{api}/git/trees{{/sha}}"),
    });
    merge(&mut object, more);
    let more = json!({
        "clone_url": format!("{html}.git"), "mirror_url": null,
        "hooks_url": format!("{api}/hooks"), "svn_url": html, "homepage": null,
        "language": "Rust", "forks_count": 0, "stargazers_count": 0, "watchers_count": 0,
        "size": 108, "default_branch": "main", "open_issues_count": 0, "is_template": false,
        "topics": [], "has_issues": true, "has_projects": true, "has_wiki": false,
        "has_pages": false, "has_downloads": true, "has_discussions": false,
        "archived": false, "disabled": false, "visibility": "private",
        "pushed_at": created, "created_at": created, "updated_at": created,
        "allow_forking": true, "web_commit_signoff_required": false,
        "license": null, "forks": 0, "open_issues": 0, "watchers": 0
    });
    merge(&mut object, more);
    object
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}

fn label(base: &str, repo: &Repo, name: &str) -> Value {
    let id = stable_id(&format!("{}:{name}", repo.full_name()));
    json!({
        "id": id,
        "node_id": base64::engine::general_purpose::STANDARD.encode(format!("05:Label{id}")),
        "url": format!("{base}/repos/{}/labels/{name}", repo.full_name()),
        "name": name, "description": "", "color": "ededed", "default": false
    })
}

fn git_ref(base: &str, owner: &str, reference: &str, sha: &str, repo: Value) -> Value {
    json!({
        "label": format!("{owner}:{reference}"), "ref": reference, "sha": sha,
        "user": user(base, owner), "repo": repo
    })
}

/// `pull-request-simple` for `pull` in `repo`.
pub fn pull(base: &str, repo: &Repo, pull: &FakePull) -> Value {
    let full = repo.full_name();
    let api = format!("{base}/repos/{full}");
    let html = format!("{base}/{full}/pull/{}", pull.number);
    let n = pull.number;
    let base_repo = repository(base, repo.id, &repo.owner, &repo.name, false);
    let head = if pull.fork_deleted {
        git_ref(
            base,
            &pull.author,
            &pull.branch,
            &pull.head_sha,
            Value::Null,
        )
    } else if pull.from_fork {
        let fork = repository(
            base,
            repo.id + 1_000_000 + n,
            &pull.author,
            &repo.name,
            true,
        );
        git_ref(base, &pull.author, &pull.branch, &pull.head_sha, fork)
    } else {
        git_ref(
            base,
            &repo.owner,
            &pull.branch,
            &pull.head_sha,
            base_repo.clone(),
        )
    };
    let closed = pull.closed_at.map(time);
    let links = json!({
        "self": {"href": format!("{api}/pulls/{n}")}, "html": {"href": html},
        "issue": {"href": format!("{api}/issues/{n}")},
        "comments": {"href": format!("{api}/issues/{n}/comments")},
        "review_comments": {"href": format!("{api}/pulls/{n}/comments")},
        "review_comment": {"href": format!("{api}/pulls/comments{{/number}}")},
        "commits": {"href": format!("{api}/pulls/{n}/commits")},
        "statuses": {"href": format!("{api}/statuses/{}", pull.head_sha)}
    });
    let id = repo.id * 100_000 + n;
    json!({
        "url": format!("{api}/pulls/{n}"), "id": id,
        "node_id": base64::engine::general_purpose::STANDARD.encode(format!("011:PullRequest{id}")),
        "html_url": html, "diff_url": format!("{html}.diff"), "patch_url": format!("{html}.patch"),
        "issue_url": format!("{api}/issues/{n}"),
        "commits_url": format!("{api}/pulls/{n}/commits"),
        "review_comments_url": format!("{api}/pulls/{n}/comments"),
        "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
        "comments_url": format!("{api}/issues/{n}/comments"),
        "statuses_url": format!("{api}/statuses/{}", pull.head_sha),
        "number": n, "state": if closed.is_some() { "closed" } else { "open" },
        "locked": false, "title": pull.title, "user": user(base, &pull.author),
        "body": pull.body,
        "labels": pull.labels.iter().map(|l| label(base, repo, l)).collect::<Vec<_>>(),
        "milestone": null, "active_lock_reason": null,
        "created_at": time(pull.created_at), "updated_at": time(pull.updated_at),
        "closed_at": closed, "merged_at": null, "merge_commit_sha": null,
        "assignee": null, "assignees": [], "requested_reviewers": [], "requested_teams": [],
        "head": head,
        "base": git_ref(base, &repo.owner, &pull.base, &pull.base_sha, base_repo),
        "_links": links, "author_association": if pull.from_fork { "CONTRIBUTOR" } else { "MEMBER" },
        "auto_merge": null, "draft": pull.draft
    })
}

/// One entry of the contents API: the full object for `path`, or a directory-listing item
/// (`listing`: no content, submodules typed `file` as GitHub does "for backwards
/// compatibility").
pub fn content(
    base: &str,
    repo: &Repo,
    reference: &str,
    path: &str,
    node: &Node,
    listing: bool,
) -> Value {
    let full = repo.full_name();
    let api = format!("{base}/repos/{full}");
    let name = path.rsplit('/').next().unwrap_or(path);
    let (kind, git_kind, size) = match node {
        Node::File { bytes, .. } => ("file", "blobs", bytes.len()),
        Node::Dir { .. } => ("dir", "trees", 0),
        Node::Symlink { target, .. } => ("symlink", "blobs", target.len()),
        Node::Submodule { .. } => (if listing { "file" } else { "submodule" }, "trees", 0),
    };
    let sha = node.sha();
    let self_url = format!("{api}/contents/{path}?ref={reference}");
    let git_url = format!("{api}/git/{git_kind}/{sha}");
    let html_url = format!(
        "{base}/{full}/{}/{reference}/{path}",
        if kind == "dir" { "tree" } else { "blob" }
    );
    let download = match node {
        Node::File { .. } | Node::Symlink { .. } => {
            Value::String(format!("{base}/raw/{full}/{reference}/{path}"))
        }
        Node::Dir { .. } | Node::Submodule { .. } => Value::Null,
    };
    let mut object = json!({
        "type": kind, "size": size, "name": name, "path": path, "sha": sha,
        "url": self_url, "git_url": git_url, "html_url": html_url, "download_url": download,
        "_links": {"self": self_url, "git": git_url, "html": html_url}
    });
    if listing {
        return object;
    }
    match node {
        Node::File { bytes, .. } if bytes.len() > 1_048_576 => {
            object["encoding"] = json!("none");
            object["content"] = json!("");
        }
        Node::File { bytes, .. } => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
            let wrapped: String = encoded
                .as_bytes()
                .chunks(60)
                .map(|line| format!("{}\n", String::from_utf8_lossy(line)))
                .collect();
            object["encoding"] = json!("base64");
            object["content"] = json!(wrapped);
        }
        Node::Symlink { target, .. } => object["target"] = json!(target),
        Node::Submodule { url, .. } => object["submodule_git_url"] = json!(url),
        Node::Dir { .. } => {}
    }
    object
}

/// `GET /repos/{o}/{r}/installation`.
pub fn installation(base: &str, id: u64, app_id: u64, slug: &str, owner: &str) -> Value {
    json!({
        "id": id, "account": user(base, owner), "app_id": app_id, "app_slug": slug,
        "target_id": stable_id(owner), "target_type": "Organization",
        "repository_selection": "all",
        "access_tokens_url": format!("{base}/app/installations/{id}/access_tokens"),
        "repositories_url": format!("{base}/installation/repositories"),
        "html_url": format!("{base}/organizations/{owner}/settings/installations/{id}"),
        "permissions": {"contents": "read", "metadata": "read", "pull_requests": "read"},
        "events": ["pull_request"], "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z", "single_file_name": null,
        "has_multiple_single_files": false, "single_file_paths": [], "suspended_at": null,
        "suspended_by": null
    })
}

/// `integration`: the GitHub App `app_id` named `slug`, as `GET /app` describes it.
pub fn app(base: &str, app_id: u64, slug: &str) -> Value {
    let owner = "acme";
    json!({
        "id": app_id, "slug": slug, "node_id": format!("A_kwDO{app_id:08X}"),
        "client_id": format!("Iv23li{app_id:010}"), "owner": user(base, owner),
        "name": slug, "description": null, "external_url": "https://preview-tower.example.com",
        "html_url": format!("{base}/apps/{slug}"), "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z",
        "permissions": {"contents": "read", "deployments": "write", "issues": "write",
            "metadata": "read", "pull_requests": "read"},
        "events": ["pull_request", "issue_comment"], "installations_count": 1
    })
}

/// `installation-token`.
pub fn installation_token(token: &str, expires_at: DateTime<Utc>) -> Value {
    json!({
        "token": token, "expires_at": time(expires_at),
        "permissions": {"contents": "read", "metadata": "read", "pull_requests": "read"},
        "repository_selection": "all"
    })
}

/// `basic-error`, with the `status` GitHub now adds.
pub fn error(status: u16, message: &str) -> Value {
    json!({
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": status.to_string()
    })
}
