//! What the benchmarks share besides the service: where results go, and the runtimes.

use std::path::PathBuf;

/// `<target dir>/bench-results`: the bench binary is `<target dir>/<profile>/deps/<name>`.
pub fn results_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the bench binary's path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the bench binary lives in <target>/<profile>/deps")
        .to_path_buf();
    let dir = target.join("bench-results");
    std::fs::create_dir_all(&dir).expect("create bench-results");
    dir
}

/// A multi-threaded Tokio runtime whose threads are called `name`.
pub fn runtime(name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name(name)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
}
