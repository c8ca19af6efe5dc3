//! The reference the reader is checked against: an owned tree built with
//! quick-xml's own namespace resolver (`NsReader`). This is the parse loop hw-ocs
//! and hw-amt each had before issue 16, kept once, for differential tests only
//! (feature `oracle`; never used to decode a reply).
#![allow(clippy::unwrap_used, missing_docs)]

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use hwctl_core::{Error, Result};

use crate::{Attribute, Doc, Element, Limits};

/// An element as the reference reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedElement {
    /// Namespace name; `None` for an undeclared prefix is an error, so always set.
    pub ns: String,
    pub name: String,
    /// (qualified name, namespace or `None` for an undeclared prefix, local name,
    /// raw value); namespace declarations excluded.
    pub attributes: Vec<(String, Option<String>, String, String)>,
    pub text: String,
    pub children: Vec<OwnedElement>,
}

fn ns_of(r: &ResolveResult<'_>) -> Option<String> {
    match r {
        ResolveResult::Unbound => Some(String::new()),
        ResolveResult::Bound(n) => Some(String::from_utf8_lossy(n.as_ref()).into_owned()),
        ResolveResult::Unknown(_) => None,
    }
}

/// Parses `body` the old way.
///
/// # Errors
///
/// `Protocol`, as [`crate::Reader`].
pub fn parse(body: &[u8], limits: Limits) -> Result<OwnedElement> {
    let text = std::str::from_utf8(body).map_err(|e| Error::protocol(format!("not UTF-8: {e}")))?;
    let mut reader = NsReader::from_reader(text.as_bytes());
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<OwnedElement> = Vec::new();
    let mut root: Option<OwnedElement> = None;
    let mut count = 0usize;
    loop {
        let (ns, event) = match reader.read_resolved_event() {
            Ok((resolved, event)) => (ns_of(&resolved), event),
            Err(e) => return Err(Error::protocol(format!("malformed XML: {e}"))),
        };
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                if root.is_some() {
                    return Err(Error::protocol("content after the root element"));
                }
                count += 1;
                if count > limits.max_elements {
                    return Err(Error::protocol("too many elements"));
                }
                if stack.len() >= limits.max_depth {
                    return Err(Error::protocol("too deep"));
                }
                let ns = ns.ok_or_else(|| Error::protocol("undeclared prefix"))?;
                let mut attributes = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| Error::protocol(format!("attribute: {e}")))?;
                    if attr.key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (ans, local) = reader.resolve_attribute(attr.key);
                    attributes.push((
                        String::from_utf8_lossy(attr.key.as_ref()).into_owned(),
                        ns_of(&ans),
                        String::from_utf8_lossy(local.as_ref()).into_owned(),
                        String::from_utf8_lossy(&attr.value).into_owned(),
                    ));
                }
                let element = OwnedElement {
                    ns,
                    name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                    attributes,
                    text: String::new(),
                    children: Vec::new(),
                };
                if matches!(event, Event::Empty(_)) {
                    close(&mut stack, &mut root, element);
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| Error::protocol("unbalanced end tag"))?;
                close(&mut stack, &mut root, element);
            }
            Event::Text(t) => {
                let s = t
                    .unescape()
                    .map_err(|e| Error::protocol(format!("malformed text: {e}")))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(Error::protocol("text outside the root element")),
                }
            }
            Event::CData(c) => {
                let s = std::str::from_utf8(c.as_ref())
                    .map_err(|e| Error::protocol(format!("CDATA is not UTF-8: {e}")))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(s),
                    None => return Err(Error::protocol("CDATA outside the root element")),
                }
            }
            Event::DocType(_) => return Err(Error::protocol("DOCTYPE")),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(Error::protocol("truncated"));
    }
    root.ok_or_else(|| Error::protocol("no element"))
}

fn close(stack: &mut [OwnedElement], root: &mut Option<OwnedElement>, element: OwnedElement) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

/// The reference's view of one element of a [`Doc`] (for comparing).
pub fn owned(e: Element<'_, '_>) -> OwnedElement {
    OwnedElement {
        ns: e.ns().to_owned(),
        name: e.name().to_owned(),
        attributes: e
            .attributes()
            .iter()
            .map(|a: &Attribute<'_>| {
                (
                    a.qname.to_owned(),
                    a.ns.map(str::to_owned),
                    a.name.to_owned(),
                    a.raw_value.to_owned(),
                )
            })
            .collect(),
        text: e.text().to_owned(),
        children: e.children().map(owned).collect(),
    }
}

/// Whether [`Doc::parse`] and the reference agree on `body`: both fail, or both
/// succeed with equal trees.
pub fn agrees(body: &[u8], limits: Limits) -> bool {
    match (Doc::parse(body, limits), parse(body, limits)) {
        (Ok(doc), Ok(root)) => owned(doc.root()) == root,
        (Err(a), Err(b)) => a.kind() == b.kind(),
        _ => false,
    }
}
