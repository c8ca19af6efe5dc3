#![doc = include_str!("../README.md")]

mod reader;
mod scope;
mod tree;

#[cfg(any(test, feature = "oracle"))]
#[doc(hidden)]
pub mod oracle;

pub use reader::{Attribute, Event, Reader};
pub use scope::{XML_NAMESPACE, XMLNS_NAMESPACE};
pub use tree::{Doc, Element};

/// The bounds a document must stay within; each protocol sets its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The deepest element nesting accepted (the root is depth 1).
    pub max_depth: usize,
    /// The most elements accepted in one document.
    pub max_elements: usize,
}

impl Default for Limits {
    /// 32 levels, 20,000 elements.
    fn default() -> Self {
        Limits {
            max_depth: 32,
            max_elements: 20_000,
        }
    }
}

#[cfg(test)]
mod tests;
