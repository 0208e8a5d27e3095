//! octocrab adapter.
