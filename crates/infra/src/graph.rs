//! The dependency graph of a stack's resources: built once, cycles and unknown references
//! rejected, with a stable topological order (declaration order among equals).

use std::collections::{BTreeMap, HashMap};

use crate::error::{Error, Result};
use crate::id::ResourceId;

#[derive(Debug, Clone)]
pub struct Graph {
    order: Vec<ResourceId>,
    deps: HashMap<ResourceId, Vec<ResourceId>>,
    dependents: HashMap<ResourceId, Vec<ResourceId>>,
}

impl Graph {
    /// `nodes`: each id with the ids it depends on, in declaration order.
    pub fn new<'a>(
        nodes: impl IntoIterator<Item = (&'a ResourceId, &'a [ResourceId])>,
    ) -> Result<Self> {
        let nodes: Vec<(&ResourceId, &[ResourceId])> = nodes.into_iter().collect();
        let position: HashMap<&ResourceId, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (*id, i))
            .collect();
        let mut deps = HashMap::new();
        let mut dependents: HashMap<ResourceId, Vec<ResourceId>> = HashMap::new();
        let mut missing = BTreeMap::new();
        for (id, ds) in &nodes {
            for d in *ds {
                if !position.contains_key(d) {
                    missing.insert((*id).clone(), d.clone());
                }
                dependents.entry(d.clone()).or_default().push((*id).clone());
            }
            deps.insert((*id).clone(), ds.to_vec());
        }
        if let Some((id, d)) = missing.into_iter().next() {
            return Err(Error::UnknownDependency {
                resource: id,
                dependency: d,
            });
        }
        // Kahn's algorithm; always take the earliest-declared ready node for a stable order.
        let mut remaining: Vec<usize> = nodes.iter().map(|(_, ds)| ds.len()).collect();
        let mut done = vec![false; nodes.len()];
        let mut order = Vec::with_capacity(nodes.len());
        while order.len() < nodes.len() {
            let Some(next) = (0..nodes.len()).find(|&i| !done[i] && remaining[i] == 0) else {
                let stuck: Vec<&str> = (0..nodes.len())
                    .filter(|&i| !done[i])
                    .map(|i| nodes[i].0.as_str())
                    .collect();
                return Err(Error::Cycle(stuck.join(" -> ")));
            };
            done[next] = true;
            let id = nodes[next].0;
            order.push(id.clone());
            for dependent in dependents.get(id).into_iter().flatten() {
                remaining[position[dependent]] -= 1;
            }
        }
        Ok(Self {
            order,
            deps,
            dependents,
        })
    }

    /// Every id, dependencies before dependents.
    pub fn order(&self) -> &[ResourceId] {
        &self.order
    }

    pub fn deps(&self, id: &str) -> &[ResourceId] {
        self.deps.get(id).map_or(&[], Vec::as_slice)
    }

    pub fn dependents(&self, id: &str) -> &[ResourceId] {
        self.dependents.get(id).map_or(&[], Vec::as_slice)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.deps.contains_key(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(nodes: &[(&str, &[&str])]) -> Result<Graph> {
        let owned: Vec<(ResourceId, Vec<ResourceId>)> = nodes
            .iter()
            .map(|(id, ds)| {
                (
                    ResourceId::from_tag(id),
                    ds.iter().map(|d| ResourceId::from_tag(d)).collect(),
                )
            })
            .collect();
        Graph::new(owned.iter().map(|(id, ds)| (id, ds.as_slice())))
    }

    #[test]
    fn orders_dependencies_first_and_keeps_declaration_order() {
        let g = graph(&[
            ("subnet", &["vpc"]),
            ("queue", &[]),
            ("vpc", &[]),
            ("rt", &["vpc", "subnet"]),
        ])
        .unwrap();
        assert_eq!(g.order(), ["queue", "vpc", "subnet", "rt"]);
        assert_eq!(g.dependents("vpc"), ["subnet", "rt"]);
        assert_eq!(g.deps("rt"), ["vpc", "subnet"]);
    }

    #[test]
    fn rejects_cycles_naming_them() {
        let err = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &[])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "dependency cycle between resources: a -> b -> c"
        );
    }

    #[test]
    fn rejects_unknown_dependencies() {
        let err = graph(&[("a", &["ghost"])]).unwrap_err();
        assert!(err.to_string().contains("unknown resource ghost"));
    }
}
