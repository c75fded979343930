//! A path tree stored as a sorted map from leaf path to leaf value.
//!
//! It keeps the rules of wandb's `pathtree.PathTree`
//! (`core/internal/pathtree/pathtree.go`): setting a leaf replaces any leaf
//! on the way to it (a prefix) and any subtree under it; removing a path
//! removes the leaf there or the whole subtree. Empty interior nodes cannot
//! exist in this representation, which matches wandb's pruning of empty maps.
//! Iteration is in path order, so everything derived from it is deterministic.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PathMap<V>(BTreeMap<Vec<String>, V>);

impl<V> Default for PathMap<V> {
    fn default() -> Self {
        PathMap(BTreeMap::new())
    }
}

impl<V> PathMap<V> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn get(&self, path: &[String]) -> Option<&V> {
        self.0.get(path)
    }

    pub fn get_mut(&mut self, path: &[String]) -> Option<&mut V> {
        self.0.get_mut(path)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Vec<String>, &V)> {
        self.0.iter()
    }

    pub fn take(&mut self) -> BTreeMap<Vec<String>, V> {
        std::mem::take(&mut self.0)
    }

    /// Paths of leaves strictly under `path`.
    fn descendants(&self, path: &[String]) -> Vec<Vec<String>> {
        self.0
            .range::<[String], _>((Bound::Excluded(path), Bound::Unbounded))
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(path))
            .cloned()
            .collect()
    }

    /// Drops leaves that would conflict with a leaf at `path`: leaves at a
    /// proper prefix of it and leaves under it.
    fn clear_conflicts(&mut self, path: &[String]) {
        for i in 1..path.len() {
            self.0.remove(&path[..i]);
        }
        for key in self.descendants(path) {
            self.0.remove(&key);
        }
    }

    /// Sets the leaf at `path` (wandb `PathTree.Set`). An empty path is ignored.
    pub fn insert(&mut self, path: Vec<String>, value: V) {
        if path.is_empty() {
            return;
        }
        if !self.0.contains_key(&path) {
            self.clear_conflicts(&path);
        }
        self.0.insert(path, value);
    }

    /// The leaf at `path`, created with `make` if there is none (wandb
    /// `PathTree.GetOrMakeLeaf`). `None` only for the empty path.
    pub fn get_or_insert_with(
        &mut self,
        path: &[String],
        make: impl FnOnce() -> V,
    ) -> Option<&mut V> {
        if path.is_empty() {
            return None;
        }
        if !self.0.contains_key(path) {
            self.clear_conflicts(path);
            self.0.insert(path.to_vec(), make());
        }
        self.0.get_mut(path)
    }

    /// Removes the leaf at `path`, or every leaf under it (wandb
    /// `PathTree.Remove`).
    pub fn remove(&mut self, path: &[String]) {
        if path.is_empty() {
            return;
        }
        if self.0.remove(path).is_none() {
            for key in self.descendants(path) {
                self.0.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn setting_a_leaf_replaces_prefix_leaves_and_subtrees() {
        let mut m = PathMap::default();
        m.insert(p(&["a"]), 1);
        m.insert(p(&["a", "b"]), 2);
        assert_eq!(m.get(&p(&["a"])), None);
        m.insert(p(&["a", "c"]), 3);
        m.insert(p(&["ab"]), 4);
        m.insert(p(&["a"]), 5);
        let keys: Vec<_> = m.iter().map(|(k, v)| (k.clone(), *v)).collect();
        assert_eq!(keys, vec![(p(&["a"]), 5), (p(&["ab"]), 4)]);
    }

    #[test]
    fn removing_a_prefix_removes_the_subtree_only() {
        let mut m = PathMap::default();
        m.insert(p(&["a", "b"]), 1);
        m.insert(p(&["a", "c", "d"]), 2);
        m.insert(p(&["a\u{0}"]), 3);
        m.insert(p(&["b"]), 4);
        m.remove(&p(&["a"]));
        assert_eq!(m.len(), 2);
        m.remove(&p(&["b", "x"]));
        assert_eq!(m.len(), 2);
    }
}
