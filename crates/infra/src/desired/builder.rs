//! Collects the desired resources, tagging each as its kind wants.

use crate::contract::Tagging;
use crate::id::ResourceId;
use crate::resources::{Desired, Spec};
use crate::stack_file::{Names, StackSpec};
use crate::tags;

/// Collects the desired resources, tagging each as its kind wants.
pub(super) struct Builder<'a> {
    pub(super) spec: &'a StackSpec,
    /// The stack's AWS names, derived once from its name.
    pub(super) names: Names,
    pub(super) out: Vec<Desired>,
}

impl Builder<'_> {
    /// Adds a resource created after what it refers to and after `after`.
    pub(super) fn add(&mut self, id: ResourceId, spec: Spec, after: &[ResourceId]) -> &mut Desired {
        let tags = match spec.tagging() {
            Tagging::None => tags::Tags::new(),
            tagging => {
                let name = format!("{}-{id}", self.spec.name);
                let name = (tagging == Tagging::StackAndName).then_some(name.as_str());
                let mut tags = self.spec.tags.clone();
                tags.extend(tags::managed(&self.spec.name, &id, name));
                tags
            }
        };
        self.out.push(Desired::new(id, spec, tags, after));
        let last = self.out.len() - 1;
        &mut self.out[last]
    }
}

impl<'a> Builder<'a> {
    pub(super) fn new(spec: &'a StackSpec) -> Self {
        Self {
            spec,
            names: spec.names(),
            out: Vec::new(),
        }
    }
}
