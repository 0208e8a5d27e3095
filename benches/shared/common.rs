//! What the benchmarks share besides the service (`tests/support/serve.rs`): where results go,
//! the runtimes, and the allocator settings the deployment ships.

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

/// The `MALLOC_*` environment of the preview-tower container in `manifests/deployment.yaml`.
pub fn shipped_allocator() -> Vec<(String, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/deployment.yaml");
    let text = std::fs::read_to_string(&path).expect("read manifests/deployment.yaml");
    let deployment: serde_json::Value =
        serde_saphyr::from_str(&text).expect("manifests/deployment.yaml is YAML");
    deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["env"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| {
            let name = e["name"].as_str()?;
            let value = e["value"].as_str()?;
            name.starts_with("MALLOC_")
                .then(|| (name.to_owned(), value.to_owned()))
        })
        .collect()
}
