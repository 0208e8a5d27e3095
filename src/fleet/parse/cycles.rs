//! Dependency cycles between services, found in linear time and reported once each.

use std::collections::BTreeMap;

use super::cx::{Cx, Fields, join};
use crate::fleet::Service;

/// Reports each dependency cycle once, as `a -> b -> a`, at the dependencies of its first
/// service in file order. `services` holds `None` where a service is invalid: cycles among the
/// valid ones are still reported.
pub(super) fn report(cx: &mut Cx, services: &[Option<Service>], all: &[(String, Fields<'_>)]) {
    let position: BTreeMap<&str, usize> = services
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some((s.as_ref()?.name.as_str(), i)))
        .collect();
    let edges: Vec<Vec<usize>> = services
        .iter()
        .map(|s| {
            s.iter()
                .flat_map(|s| &s.dependencies)
                .filter_map(|d| position.get(d.as_str()).copied())
                .collect()
        })
        .collect();
    for mut cycle in find_cycles(&edges) {
        let first = cycle.iter().copied().min().unwrap_or_default();
        let at = cycle.iter().position(|i| *i == first).unwrap_or_default();
        cycle.rotate_left(at);
        cycle.push(first);
        let names: Vec<&str> = cycle
            .iter()
            .filter_map(|i| services.get(*i)?.as_ref())
            .map(|s| s.name.as_str())
            .collect();
        if let Some((path, fields)) = all.get(first) {
            let message = format!(
                "form a cycle: {}: remove one of these dependencies",
                shown(&names)
            );
            cx.error(
                &join(path, "dependencies"),
                fields.get("dependencies"),
                message,
            );
        }
    }
}

/// `a -> b -> a`, with the middle of a very long cycle elided.
fn shown(names: &[&str]) -> String {
    const KEPT: usize = 8;
    if names.len() <= 2 * KEPT {
        return names.join(" -> ");
    }
    let (head, tail) = (&names[..KEPT], &names[names.len() - KEPT..]);
    let elided = names.len() - 2 * KEPT;
    format!(
        "{} -> … {elided} more … -> {}",
        head.join(" -> "),
        tail.join(" -> ")
    )
}

/// The cycles closed by the back edges of an iterative depth-first search (each node is
/// explored once, so this is linear in the size of the graph).
fn find_cycles(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Color {
        New,
        OnPath,
        Done,
    }
    let mut color = vec![Color::New; edges.len()];
    let mut cycles = Vec::new();
    for root in 0..edges.len() {
        if color[root] != Color::New {
            continue;
        }
        color[root] = Color::OnPath;
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&(node, edge)) = path.last() {
            let Some(&next) = edges[node].get(edge) else {
                color[node] = Color::Done;
                path.pop();
                continue;
            };
            if let Some(top) = path.last_mut() {
                top.1 += 1;
            }
            match color[next] {
                Color::New => {
                    color[next] = Color::OnPath;
                    path.push((next, 0));
                }
                Color::OnPath => {
                    let at = path
                        .iter()
                        .position(|(n, _)| *n == next)
                        .unwrap_or_default();
                    cycles.push(path[at..].iter().map(|(n, _)| *n).collect());
                }
                Color::Done => {}
            }
        }
    }
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cycle_is_found_once_in_linear_time() {
        let ring: Vec<Vec<usize>> = (0..10_000).map(|i| vec![(i + 1) % 10_000]).collect();
        assert_eq!(
            find_cycles(&ring).iter().map(Vec::len).collect::<Vec<_>>(),
            [10_000]
        );
        let two = vec![vec![1], vec![0], vec![3], vec![2, 0]];
        assert_eq!(find_cycles(&two), [vec![0, 1], vec![2, 3]]);
        assert!(find_cycles(&[vec![1, 2], vec![2], vec![]]).is_empty());
    }

    #[test]
    fn long_cycles_are_shown_with_their_middle_elided() {
        let names: Vec<String> = (0..30).map(|i| format!("s{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let text = shown(&names);
        assert!(
            text.starts_with("s0 -> s1") && text.ends_with("s28 -> s29"),
            "{text}"
        );
        assert!(text.contains("… 14 more …"), "{text}");
        assert_eq!(shown(&["a", "b", "a"]), "a -> b -> a");
    }
}
