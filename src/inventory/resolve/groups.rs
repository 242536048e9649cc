//! Groups: every reference checked (a host or group that exists, no cycle), and the members of
//! a group, in inventory order.

use std::collections::{BTreeSet, HashMap};

use toml::Spanned;

use super::Resolver;
use crate::inventory::{DidYouMean, InventoryError};

impl Resolver<'_> {
    /// Every name a group or a host refers to exists, and no name is both a host and a group.
    pub(super) fn check_references(&self) -> Result<(), InventoryError> {
        for (host, _) in &self.raw.hosts {
            if let Some(problem) = crate::inventory::host_name_problem(host.get_ref()) {
                return Err(InventoryError::BadHostName {
                    location: self.at(host.span()),
                    name: host.get_ref().escape_debug().to_string(),
                    problem,
                });
            }
            if self
                .raw
                .groups
                .keys()
                .any(|g| g.get_ref() == host.get_ref())
            {
                return Err(InventoryError::HostIsGroup {
                    location: self.at(host.span()),
                    name: host.get_ref().clone(),
                });
            }
        }
        for (group, raw_group) in &self.raw.groups {
            for host in &raw_group.hosts {
                if !self.raw.hosts.keys().any(|h| h.get_ref() == host.get_ref()) {
                    return Err(InventoryError::UndefinedHost {
                        did_you_mean: DidYouMean::new(
                            host.get_ref(),
                            self.raw.hosts.keys().map(|h| h.get_ref().as_str()),
                        ),
                        location: self.at(host.span()),
                        group: group.get_ref().clone(),
                        host: host.get_ref().clone(),
                    });
                }
            }
            for child in &raw_group.children {
                if !self
                    .raw
                    .groups
                    .keys()
                    .any(|g| g.get_ref() == child.get_ref())
                {
                    return Err(InventoryError::UndefinedGroup {
                        did_you_mean: DidYouMean::new(
                            child.get_ref(),
                            self.raw.groups.keys().map(|g| g.get_ref().as_str()),
                        ),
                        location: self.at(child.span()),
                        group: group.get_ref().clone(),
                        child: child.get_ref().clone(),
                    });
                }
            }
        }
        Ok(())
    }

    pub(super) fn children(&self, group: &str) -> impl Iterator<Item = &Spanned<String>> {
        self.raw
            .groups
            .iter()
            .filter(move |(g, _)| g.get_ref() == group)
            .flat_map(|(_, raw_group)| raw_group.children.iter())
    }

    /// Each group's depth: 0 for a group no other group lists as a child, else one more than its
    /// deepest parent. Fails on a cycle.
    pub(super) fn group_depths(&self) -> Result<HashMap<&str, usize>, InventoryError> {
        // A cycle check first, so the depth recursion below terminates.
        for (group, _) in &self.raw.groups {
            let mut stack = vec![group.get_ref().as_str()];
            self.find_cycle(group, &mut stack)?;
        }
        let mut depth: HashMap<&str, usize> = HashMap::new();
        fn depth_of<'r>(
            r: &'r Resolver<'_>,
            g: &'r str,
            memo: &mut HashMap<&'r str, usize>,
        ) -> usize {
            if let Some(d) = memo.get(g) {
                return *d;
            }
            let d = r
                .raw
                .groups
                .iter()
                .filter(|(_, raw)| raw.children.iter().any(|c| c.get_ref() == g))
                .map(|(parent, _)| depth_of(r, parent.get_ref(), memo) + 1)
                .max()
                .unwrap_or(0);
            memo.insert(g, d);
            d
        }
        for group in self.raw.groups.keys() {
            depth_of(self, group.get_ref(), &mut depth);
        }
        Ok(depth)
    }

    fn find_cycle<'r>(
        &'r self,
        origin: &Spanned<String>,
        stack: &mut Vec<&'r str>,
    ) -> Result<(), InventoryError> {
        let current = *stack.last().unwrap_or(&"");
        for child in self.children(current) {
            if child.get_ref() == origin.get_ref() {
                stack.push(child.get_ref());
                return Err(InventoryError::GroupCycle {
                    location: self.at(origin.span()),
                    group: origin.get_ref().clone(),
                    path: stack.join(" -> "),
                });
            }
            if !stack.contains(&child.get_ref().as_str()) {
                stack.push(child.get_ref());
                self.find_cycle(origin, stack)?;
                stack.pop();
            }
        }
        Ok(())
    }

    /// A group's hosts: its own and its children's, in file order of the hosts.
    pub(super) fn members(&self, group: &str) -> Vec<String> {
        let mut names = BTreeSet::new();
        let mut todo = vec![group.to_owned()];
        let mut seen = BTreeSet::new();
        while let Some(g) = todo.pop() {
            if !seen.insert(g.clone()) {
                continue;
            }
            if let Some((_, raw_group)) = self.raw.groups.iter().find(|(k, _)| *k.get_ref() == g) {
                names.extend(raw_group.hosts.iter().map(|h| h.get_ref().clone()));
                todo.extend(raw_group.children.iter().map(|c| c.get_ref().clone()));
            }
        }
        self.raw
            .hosts
            .keys()
            .map(|h| h.get_ref())
            .filter(|h| names.contains(*h))
            .cloned()
            .collect()
    }
}
