//! Test hooks of the contents side: what each commit holds (files, directories, symbolic
//! links, submodules), and whether GitHub's read replicas know a commit yet.

use super::FakeGitHub;
use super::model::{Node, sha1_hex};

impl FakeGitHub {
    /// Makes `sha` unknown again, whatever was put in it (see
    /// [`FakeGitHub::push_unreplicated`]).
    pub fn forget_commit(&self, repo: &str, sha: &str) {
        self.with(|s| {
            s.repo_mut(repo).trees.remove(sha);
        });
    }

    /// Makes `sha` readable (see [`FakeGitHub::push_unreplicated`]).
    pub fn know_commit(&self, repo: &str, sha: &str) {
        self.with(|s| s.repo_mut(repo).know_commit(sha));
    }

    /// A text file at `path` in commit `sha` (parents become directories).
    pub fn put_file(&self, repo: &str, sha: &str, path: &str, text: &str) {
        self.put_bytes(repo, sha, path, text.as_bytes());
    }

    /// A file of arbitrary bytes; its SHA is git's blob id.
    pub fn put_bytes(&self, repo: &str, sha: &str, path: &str, bytes: &[u8]) {
        let mut blob = format!("blob {}\0", bytes.len()).into_bytes();
        blob.extend_from_slice(bytes);
        let node = Node::File {
            bytes: bytes.to_vec(),
            sha: sha1_hex(&blob),
        };
        self.with(|s| s.repo_mut(repo).put(sha, path, node));
    }

    /// A directory at `path` with object id `object_sha` (`git rev-parse sha:path`). Files
    /// already under it stay.
    pub fn put_dir_entry(&self, repo: &str, sha: &str, path: &str, object_sha: &str) {
        self.with(|s| {
            s.repo_mut(repo).put(
                sha,
                path,
                Node::Dir {
                    sha: object_sha.to_owned(),
                },
            )
        });
    }

    /// A symbolic link at `path` pointing at `target`.
    pub fn put_symlink(&self, repo: &str, sha: &str, path: &str, target: &str) {
        let node = Node::Symlink {
            target: target.to_owned(),
            sha: sha1_hex(target.as_bytes()),
        };
        self.with(|s| s.repo_mut(repo).put(sha, path, node));
    }

    /// A submodule at `path` cloned from `url`.
    pub fn put_submodule(&self, repo: &str, sha: &str, path: &str, url: &str) {
        let node = Node::Submodule {
            url: url.to_owned(),
            sha: sha1_hex(url.as_bytes()),
        };
        self.with(|s| s.repo_mut(repo).put(sha, path, node));
    }
}
