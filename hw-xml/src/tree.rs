//! A flat element tree built from the [`Reader`]'s events, for replies whose
//! fields are read in any order or found by walking.

use std::borrow::Cow;

use hwctl_core::{Error, Result};

use crate::Limits;
use crate::reader::{Attribute, Event, Reader};

/// No node (end of a child or sibling chain).
const NONE: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Node<'a> {
    ns: &'a str,
    name: &'a str,
    text: Cow<'a, str>,
    attributes: (u32, u32),
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
}

/// A parsed document: its elements in document order (the root first), names,
/// namespaces and text borrowed from the body (text is copied only when it has
/// an entity reference or comes in several pieces).
///
/// ```
/// use hwctl_xml::{Doc, Limits};
/// let doc = Doc::parse(br#"<R xmlns="urn:a"><x k="1">one</x><x>two</x></R>"#, Limits::default())?;
/// let root = doc.root();
/// assert!(root.is("urn:a", "R"));
/// assert_eq!(root.child_text("urn:a", "x"), Some("one"));
/// assert_eq!(root.children_named("urn:a", "x").count(), 2);
/// assert_eq!(root.child("urn:a", "x").and_then(|x| x.attribute("k")), Some("1"));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Doc<'a> {
    nodes: Vec<Node<'a>>,
    attributes: Vec<Attribute<'a>>,
}

impl<'a> Doc<'a> {
    /// Parses a whole document.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) as [`Reader`]
    /// describes.
    pub fn parse(body: &'a [u8], limits: Limits) -> Result<Self> {
        let mut reader = Reader::new(body, limits)?;
        // A reply has roughly one element per 40 bytes; a guess avoids regrowing.
        let mut nodes: Vec<Node<'a>> = Vec::with_capacity((body.len() / 40).clamp(4, 1024));
        let mut attributes = Vec::new();
        // The open elements, innermost last.
        let mut open: Vec<u32> = Vec::with_capacity(limits.max_depth.min(16));
        while let Some(event) = reader.next()? {
            match event {
                Event::Open { ns, name } => {
                    // Limits::max_elements bounds the count; past u32 it would be
                    // a bug, reported rather than wrapped.
                    let index = u32::try_from(nodes.len())
                        .ok()
                        .filter(|&i| i != NONE)
                        .ok_or_else(|| Error::protocol("reply has too many elements"))?;
                    let first = attributes.len() as u32;
                    attributes.extend_from_slice(reader.attributes());
                    nodes.push(Node {
                        ns,
                        name,
                        text: Cow::Borrowed(""),
                        attributes: (first, attributes.len() as u32),
                        first_child: NONE,
                        last_child: NONE,
                        next_sibling: NONE,
                    });
                    if let Some(&parent) = open.last() {
                        let p = parent as usize;
                        match nodes[p].last_child {
                            NONE => nodes[p].first_child = index,
                            last => nodes[last as usize].next_sibling = index,
                        }
                        nodes[p].last_child = index;
                    }
                    open.push(index);
                }
                Event::Close => {
                    open.pop();
                }
                Event::Text(piece) => {
                    if let Some(&top) = open.last() {
                        let text = &mut nodes[top as usize].text;
                        if text.is_empty() {
                            *text = piece;
                        } else {
                            text.to_mut().push_str(&piece);
                        }
                    }
                }
            }
        }
        Ok(Doc { nodes, attributes })
    }

    /// The root element.
    pub fn root(&self) -> Element<'_, 'a> {
        Element {
            doc: self,
            index: 0,
        }
    }

    /// Every attribute of every element, in document order.
    pub fn all_attributes(&self) -> &[Attribute<'a>] {
        &self.attributes
    }
}

/// One element of a [`Doc`] (a cheap handle; copy it freely).
#[derive(Debug, Clone, Copy)]
pub struct Element<'d, 'a> {
    doc: &'d Doc<'a>,
    index: u32,
}

impl<'d, 'a> Element<'d, 'a> {
    fn node(&self) -> &'d Node<'a> {
        // Indices come from the document itself, whose root always exists; a
        // miss would be a bug and falls back to the root rather than panicking.
        let nodes = &self.doc.nodes;
        nodes.get(self.index as usize).unwrap_or(&nodes[0])
    }

    /// The namespace name (URI); empty when the element is in no namespace.
    pub fn ns(&self) -> &'a str {
        self.node().ns
    }

    /// The local name (no prefix).
    pub fn name(&self) -> &'a str {
        self.node().name
    }

    /// Whether the element is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        let n = self.node();
        n.name == name && n.ns == ns
    }

    /// The text and CDATA directly inside the element, joined, untrimmed.
    pub fn text(&self) -> &'d str {
        &self.node().text
    }

    /// The attributes (namespace declarations excluded), in document order.
    pub fn attributes(&self) -> &'d [Attribute<'a>] {
        let (first, end) = self.node().attributes;
        self.doc
            .attributes
            .get(first as usize..end as usize)
            .unwrap_or_default()
    }

    /// The raw value of the first attribute with local name `name`, in any namespace.
    pub fn attribute(&self, name: &str) -> Option<&'a str> {
        self.attributes()
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.raw_value)
    }

    /// The child elements, in document order.
    pub fn children(&self) -> impl Iterator<Item = Element<'d, 'a>> + use<'d, 'a> {
        let doc = self.doc;
        let mut next = self.node().first_child;
        std::iter::from_fn(move || {
            if next == NONE {
                return None;
            }
            let e = Element { doc, index: next };
            next = e.node().next_sibling;
            Some(e)
        })
    }

    /// The first child `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<Element<'d, 'a>> {
        self.children().find(|c| c.is(ns, name))
    }

    /// Every child `{ns}name`.
    pub fn children_named<'n>(
        &self,
        ns: &'n str,
        name: &'n str,
    ) -> impl Iterator<Item = Element<'d, 'a>> + use<'d, 'a, 'n> {
        self.children().filter(move |c| c.is(ns, name))
    }

    /// The trimmed text of the first child `{ns}name`.
    pub fn child_text(&self, ns: &str, name: &str) -> Option<&'d str> {
        self.child(ns, name).map(|c| c.text().trim())
    }

    /// The first descendant `{ns}name` in document order (the element itself excluded).
    pub fn find(&self, ns: &str, name: &str) -> Option<Element<'d, 'a>> {
        // Descendants are the nodes after this one up to its next sibling (or,
        // for the last child, up to the end of its ancestors' subtrees): in
        // document order, a node's subtree is contiguous.
        let start = self.index as usize + 1;
        let end = self.subtree_end();
        (start..end)
            .map(|i| Element {
                doc: self.doc,
                index: i as u32,
            })
            .find(|e| e.is(ns, name))
    }

    /// One past the last node of this element's subtree.
    fn subtree_end(&self) -> usize {
        let mut e = *self;
        loop {
            let n = e.node();
            if n.last_child == NONE {
                return e.index as usize + 1;
            }
            e = Element {
                doc: self.doc,
                index: n.last_child,
            };
        }
    }
}
