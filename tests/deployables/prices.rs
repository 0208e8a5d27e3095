//! `docs/cost.md` prices previews from what they request: the table of "Prices assumed" holds
//! the pods, CPU and memory the rendered demo previews request, each preview's share of the
//! node and the prices that follow, and the demo fleet's `price_per_hour` are those prices.

use std::collections::BTreeMap;

use serde_json::Value;

use super::rendered::{Preview, awake_demo_previews};
use super::{root, tools};

/// The node docs/cost.md prices by: an m6i.large in eu-west-1.
const NODE_CPU: f64 = 2.0;
const NODE_MEMORY_MIB: f64 = 8.0 * 1024.0;
const NODE_PODS: f64 = 29.0;
const ON_DEMAND_PER_HOUR: f64 = 0.107;
const SPOT_PER_HOUR: f64 = 0.040;
const FORMULA: &str = "share = max(CPU requests / 2 vCPU, memory requests / 8 GiB, pods / 29)";

/// What an awake preview's long-running pods request.
#[derive(Debug, Default)]
struct Requests {
    pods: f64,
    cpu: f64,
    memory_mib: f64,
}

impl Requests {
    /// The share of the node, and the resource that sets it.
    fn share(&self) -> (f64, &'static str) {
        [
            (self.cpu / NODE_CPU, "CPU"),
            (self.memory_mib / NODE_MEMORY_MIB, "memory"),
            (self.pods / NODE_PODS, "pods"),
        ]
        .into_iter()
        .fold(
            (0.0, ""),
            |best, next| if next.0 > best.0 { next } else { best },
        )
    }
}

/// A Kubernetes quantity of the forms the overlays use: CPUs, or MiB for memory.
fn quantity(text: &str, memory: bool) -> f64 {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().unwrap_or_else(|_| panic!("quantity {text}"));
    let scale = match (memory, unit) {
        (false, "") => 1.0,
        (false, "m") => 0.001,
        (true, "Ki") => 1.0 / 1024.0,
        (true, "Mi") => 1.0,
        (true, "Gi") => 1024.0,
        _ => panic!("unexpected quantity {text}"),
    };
    number * scale
}

/// What the scheduler reserves for one pod: the larger of its containers' sum and its largest
/// init container, per resource.
fn pod_requests(pod: &Value) -> (f64, f64) {
    let request = |c: &Value, key: &str, memory: bool| {
        c["resources"]["requests"][key]
            .as_str()
            .map_or(0.0, |q| quantity(q, memory))
    };
    let list = |key: &str| pod[key].as_array().cloned().unwrap_or_default();
    let (containers, inits) = (list("containers"), list("initContainers"));
    let sum = |key, memory| {
        containers
            .iter()
            .map(|c| request(c, key, memory))
            .sum::<f64>()
    };
    let max = |key, memory| {
        inits
            .iter()
            .map(|c| request(c, key, memory))
            .fold(0.0, f64::max)
    };
    (
        sum("cpu", false).max(max("cpu", false)),
        sum("memory", true).max(max("memory", true)),
    )
}

/// The long-running pods of one preview (Deployments and StatefulSets at their rendered
/// replicas); Jobs run for seconds per sync and are left out.
fn requests(preview: &Preview) -> Requests {
    let mut total = Requests::default();
    for workload in preview
        .docs
        .iter()
        .filter(|d| matches!(d["kind"].as_str(), Some("Deployment" | "StatefulSet")))
    {
        let replicas = workload["spec"]["replicas"].as_f64().unwrap_or(1.0);
        let (cpu, memory) = pod_requests(&workload["spec"]["template"]["spec"]);
        total.pods += replicas;
        total.cpu += replicas * cpu;
        total.memory_mib += replicas * memory;
    }
    total
}

/// The rows of the table under "### Prices assumed", by service, each cell by column name.
fn documented_rows(doc: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let section = doc
        .split_once("### Prices assumed")
        .expect("docs/cost.md has \"Prices assumed\"")
        .1;
    let cells = |line: &str| -> Vec<String> {
        line.trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect()
    };
    let mut lines = section
        .lines()
        .skip_while(|l| !l.starts_with("| service |"));
    let header = cells(lines.next().expect("the table's header"));
    lines
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .map(|line| {
            let row: BTreeMap<String, String> = header.iter().cloned().zip(cells(line)).collect();
            (row["service"].trim_matches('`').to_owned(), row)
        })
        .collect()
}

/// The number at the start of a cell (`0.16 vCPU`, `3.4 % (pods)`).
fn number(cell: &str) -> f64 {
    cell.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number in {cell:?}"))
}

#[test]
fn docs_cost_md_prices_previews_from_what_they_request() {
    let Some(tools) = tools::Tools::find() else {
        return;
    };
    let doc = std::fs::read_to_string(root().join("docs/cost.md")).expect("docs/cost.md");
    assert!(doc.contains(FORMULA), "docs/cost.md must state `{FORMULA}`");
    for price in [ON_DEMAND_PER_HOUR, SPOT_PER_HOUR] {
        assert!(
            doc.contains(&format!("${price:.3}")),
            "docs/cost.md: ${price:.3}"
        );
    }
    let rows = documented_rows(&doc);
    let fleet = preview_tower::demo::fleet().expect("demo fleet");
    let previews = awake_demo_previews(&tools, "prices");
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        {
            let mut services: Vec<&String> = previews.iter().map(|p| &p.service).collect();
            services.sort();
            services.dedup();
            services
        },
        "docs/cost.md prices every demo service, once"
    );
    let mut problems = Vec::new();
    let mut wrong_binding = Vec::new();
    let mut check = |what: String, documented: f64, actual: f64, tolerance: f64| {
        if (documented - actual).abs() > tolerance + 1e-9 {
            problems.push(format!(
                "{what}: docs/cost.md says {documented}, the previews give {actual:.4}"
            ));
        }
    };
    for preview in &previews {
        let service = &preview.service;
        let row = &rows[service];
        let requests = requests(preview);
        let (share, binding) = requests.share();
        check(
            format!("{service} pods"),
            number(&row["pods"]),
            requests.pods,
            0.0,
        );
        check(
            format!("{service} CPU requests"),
            number(&row["CPU requests"]),
            requests.cpu,
            0.005,
        );
        check(
            format!("{service} memory requests (MiB)"),
            number(&row["memory requests"]),
            requests.memory_mib,
            0.5,
        );
        let share_cell = &row["share of an m6i.large"];
        check(
            format!("{service} share (%)"),
            number(share_cell),
            100.0 * share,
            0.05,
        );
        if !share_cell.contains(&format!("({binding})")) {
            wrong_binding.push(format!(
                "{service}: the share is set by {binding}, not as {share_cell:?} says"
            ));
        }
        let on_demand = number(&row["on-demand $/h"]);
        let spot = number(&row["spot $/h"]);
        let asleep = number(&row["asleep $/h"]);
        check(
            format!("{service} on-demand $/h"),
            on_demand,
            share * ON_DEMAND_PER_HOUR,
            0.00005,
        );
        check(
            format!("{service} spot $/h"),
            spot,
            share * SPOT_PER_HOUR,
            0.00005,
        );
        let price = fleet
            .service(service)
            .and_then(|s| s.policy.price.as_ref())
            .unwrap_or_else(|| panic!("the demo fleet prices {service}"));
        check(
            format!("{service}: the demo fleet's on_demand"),
            price.on_demand,
            on_demand,
            0.0,
        );
        check(
            format!("{service}: the demo fleet's spot"),
            price.spot,
            spot,
            0.0,
        );
        check(
            format!("{service}: the demo fleet's asleep"),
            price.asleep,
            asleep,
            0.0,
        );
    }
    problems.extend(wrong_binding);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
