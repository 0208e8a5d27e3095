//! GitHub credentials.
