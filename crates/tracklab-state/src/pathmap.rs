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
pub(crate) struct PathMap<V> {
    leaves: BTreeMap<Vec<String>, V>,
    /// Leaves whose path has more than one segment. While there are none, a
    /// one-segment path can conflict with nothing, so setting it needs no
    /// search (the common case: flat metric names).
    nested: usize,
}

impl<V> Default for PathMap<V> {
    fn default() -> Self {
        PathMap {
            leaves: BTreeMap::new(),
            nested: 0,
        }
    }
}

impl<V> PathMap<V> {
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    pub fn get(&self, path: &[String]) -> Option<&V> {
        self.leaves.get(path)
    }

    pub fn get_mut(&mut self, path: &[String]) -> Option<&mut V> {
        self.leaves.get_mut(path)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Vec<String>, &V)> {
        self.leaves.iter()
    }

    pub fn take(&mut self) -> BTreeMap<Vec<String>, V> {
        self.nested = 0;
        std::mem::take(&mut self.leaves)
    }

    /// Paths of leaves strictly under `path`.
    fn descendants(&self, path: &[String]) -> Vec<Vec<String>> {
        if self.nested == 0 {
            return Vec::new();
        }
        self.leaves
            .range::<[String], _>((Bound::Excluded(path), Bound::Unbounded))
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(path))
            .cloned()
            .collect()
    }

    fn remove_leaf(&mut self, path: &[String]) -> Option<V> {
        let v = self.leaves.remove(path);
        if v.is_some() && path.len() > 1 {
            self.nested -= 1;
        }
        v
    }

    fn add_leaf(&mut self, path: Vec<String>, value: V) {
        if path.len() > 1 {
            self.nested += 1;
        }
        self.leaves.insert(path, value);
    }

    /// Drops leaves that would conflict with a new leaf at `path`: leaves at
    /// a proper prefix of it and leaves under it.
    fn clear_conflicts(&mut self, path: &[String]) {
        if self.nested == 0 && path.len() == 1 {
            return;
        }
        for i in 1..path.len() {
            self.remove_leaf(&path[..i]);
        }
        for key in self.descendants(path) {
            self.remove_leaf(&key);
        }
    }

    /// Sets the leaf at `path` (wandb `PathTree.Set`). An empty path is ignored.
    pub fn insert(&mut self, path: Vec<String>, value: V) {
        if path.is_empty() {
            return;
        }
        if let Some(slot) = self.leaves.get_mut(&path) {
            *slot = value;
            return;
        }
        self.clear_conflicts(&path);
        self.add_leaf(path, value);
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
        if !self.leaves.contains_key(path) {
            self.clear_conflicts(path);
            self.add_leaf(path.to_vec(), make());
        }
        self.leaves.get_mut(path)
    }

    /// Removes the leaf at `path`, or every leaf under it (wandb
    /// `PathTree.Remove`).
    pub fn remove(&mut self, path: &[String]) {
        if path.is_empty() {
            return;
        }
        if self.remove_leaf(path).is_none() {
            for key in self.descendants(path) {
                self.remove_leaf(&key);
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

    #[test]
    fn the_nested_count_follows_sets_replacements_and_removals() {
        let mut m = PathMap::default();
        m.insert(p(&["x"]), 0);
        m.insert(p(&["a", "b"]), 1);
        m.insert(p(&["a", "c"]), 2);
        assert_eq!(m.nested, 2);
        // A flat leaf over the subtree replaces both nested leaves.
        m.insert(p(&["a"]), 3);
        assert_eq!((m.nested, m.len()), (0, 2));
        // Now flat leaves need no search, and still replace nothing else.
        m.insert(p(&["y"]), 4);
        assert_eq!(m.len(), 3);
        m.insert(p(&["a", "d", "e"]), 5);
        assert_eq!((m.nested, m.get(&p(&["a"]))), (1, None));
        m.remove(&p(&["a"]));
        assert_eq!((m.nested, m.len()), (0, 2));
        m.insert(p(&["q", "r"]), 6);
        m.take();
        assert_eq!((m.nested, m.len()), (0, 0));
    }
}
