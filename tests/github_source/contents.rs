//! Reading files at a commit, and why the others cannot be read; the object SHA of a path as
//! `git rev-parse` gives it.

use preview_tower::github::GitHubError;
use preview_tower::github::PullRequestSource;
use preview_tower::pull_request::ConfigFile;
use preview_tower::repo_config::MAX_FILE_BYTES;

use super::support::fake_github::sha1_hex;
use super::{REPO, fake, repo, sha, source};

#[tokio::test]
async fn reads_files_and_says_why_others_are_unreadable() {
    let github = fake().await;
    let commit = sha("files");
    github.put_file(REPO, &commit, ".preview.yaml", "ttl: 2d\n");
    github.put_file(REPO, &commit, "deploy/my app/ünï.yaml", "nested: true\n");
    github.put_file(REPO, &commit, "config/dir/inner.yaml", "x: 1\n");
    github.put_bytes(REPO, &commit, "binary.yaml", &[0xff, 0xfe, 0x00, 0x41]);
    github.put_file(REPO, &commit, "big.yaml", &"a".repeat(MAX_FILE_BYTES + 1));
    github.put_file(REPO, &commit, "limit.yaml", &"b".repeat(MAX_FILE_BYTES));
    github.put_symlink(REPO, &commit, "link.yaml", "/etc/passwd");
    github.put_submodule(REPO, &commit, "vendor/lib", "https://example.com/lib.git");
    let source = source(&github);
    let repo = repo();
    let read = |path: &'static str| source.file_at(&repo, &commit, path);

    assert_eq!(
        read(".preview.yaml").await.unwrap(),
        ConfigFile::Present("ttl: 2d\n".into())
    );
    assert_eq!(
        read("deploy/my app/ünï.yaml").await.unwrap(),
        ConfigFile::Present("nested: true\n".into())
    );
    assert_eq!(read("absent.yaml").await.unwrap(), ConfigFile::Missing);
    assert!(
        matches!(read("limit.yaml").await.unwrap(), ConfigFile::Present(t) if t.len() == MAX_FILE_BYTES)
    );
    for (path, why) in [
        ("config/dir", "directory"),
        ("binary.yaml", "UTF-8"),
        ("big.yaml", "limit"),
        ("link.yaml", "symbolic link"),
        ("vendor/lib", "submodule"),
    ] {
        match read(path).await.unwrap() {
            ConfigFile::Unreadable(message) => assert!(message.contains(why), "{path}: {message}"),
            other => panic!("{path}: {other:?}"),
        }
    }
    let unknown = source
        .file_at(&repo, &sha("no such commit"), ".preview.yaml")
        .await;
    assert!(
        matches!(unknown, Err(GitHubError::Upstream { status: 404, .. })),
        "a commit GitHub does not know yet is an error, not a missing file: {unknown:?}"
    );
}

#[tokio::test]
async fn object_sha_at_matches_rev_parse_for_nested_and_root_paths() {
    let github = fake().await;
    let commit = sha("tree");
    let (nested, root) = (sha("nested seed"), sha("root seed"));
    github.put_dir_entry(REPO, &commit, "db/seed", &nested);
    github.put_file(REPO, &commit, "db/seed/data.sql", "insert;\n");
    github.put_dir_entry(REPO, &commit, "seed", &root);
    github.put_file(REPO, &commit, "README.md", "hi\n");
    let source = source(&github);
    let repo = repo();
    let at = |path: &'static str| source.object_sha_at(&repo, &commit, path);

    assert_eq!(at("db/seed").await.unwrap(), Some(nested));
    assert_eq!(at("seed").await.unwrap(), Some(root));
    let blob = at("README.md").await.unwrap().unwrap();
    assert_eq!(
        blob,
        sha1_hex(b"blob 3\0hi\n"),
        "a file's object id is git's blob id"
    );
    assert_eq!(at("db/missing").await.unwrap(), None);
    assert_eq!(at("nowhere/seed").await.unwrap(), None);
    assert_eq!(at("README.md/inside").await.unwrap(), None);
}
