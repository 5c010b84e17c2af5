//! Paths to a position inside a value, for error messages and diagnostics.

use std::fmt;

/// One step from a value to a nested value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    /// An object attribute.
    Attribute(String),
    /// A list, set or tuple element, by position on the wire.
    Index(usize),
    /// A map element.
    Key(String),
}

/// A position inside a value, starting from its root.
///
/// Displays in Terraform's style, such as `.rules[0].max_age_days` or
/// `.tags["team"]`. The root displays as `the root`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Path {
    steps: Vec<PathStep>,
}

impl Path {
    /// Creates the path of a root value.
    pub fn root() -> Self {
        Self::default()
    }

    pub fn steps(&self) -> &[PathStep] {
        &self.steps
    }

    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// Returns this path extended by one step.
    pub fn join(&self, step: PathStep) -> Self {
        let mut steps = Vec::with_capacity(self.steps.len() + 1);
        steps.extend_from_slice(&self.steps);
        steps.push(step);
        Self { steps }
    }

    pub fn attribute(&self, name: &str) -> Self {
        self.join(PathStep::Attribute(name.to_owned()))
    }

    pub fn index(&self, index: usize) -> Self {
        self.join(PathStep::Index(index))
    }

    pub fn key(&self, key: &str) -> Self {
        self.join(PathStep::Key(key.to_owned()))
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return f.write_str("the root");
        }
        for step in &self.steps {
            match step {
                PathStep::Attribute(name) => write!(f, ".{name}")?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_display() {
        let cases = [
            ("root", Path::root(), "the root"),
            ("attribute", Path::root().attribute("rules"), ".rules"),
            (
                "nested-attribute",
                Path::root().attribute("rules").attribute("max_age_days"),
                ".rules.max_age_days",
            ),
            (
                "index",
                Path::root().attribute("rules").index(2),
                ".rules[2]",
            ),
            (
                "map-key",
                Path::root().attribute("tags").key("team"),
                ".tags[\"team\"]",
            ),
        ];
        for (name, path, expected) in cases {
            assert_eq!(path.to_string(), expected, "case {name}");
        }
    }
}
