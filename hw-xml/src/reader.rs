//! The one parse loop: quick-xml's events, checked against the [`Limits`], with
//! namespaces resolved and everything borrowed from the document.

use std::borrow::Cow;

use quick_xml::events::attributes::Attributes;
use quick_xml::events::{BytesStart, Event as XmlEvent};

use hwctl_core::{Error, Result};

use crate::Limits;
use crate::scope::{Scope, split};

/// One step through a document, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    /// An element starts (an empty element `<x/>` is an `Open` then a `Close`).
    /// Its attributes are [`Reader::attributes`] until the next call.
    Open {
        /// The namespace name (URI); empty when the element is in no namespace.
        ns: &'a str,
        /// The local name (no prefix).
        name: &'a str,
    },
    /// Text or CDATA directly inside the innermost open element, entity
    /// references replaced (a copy only when the text has one). Never empty;
    /// text split by a comment or a child element comes as several events.
    Text(Cow<'a, str>),
    /// The innermost open element ends.
    Close,
}

/// One attribute of the element just opened (namespace declarations are not
/// attributes and are not listed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// The name as written (`i:nil`).
    pub qname: &'a str,
    /// The namespace name: `Some("")` for an unprefixed attribute (attributes do
    /// not take the default namespace), `None` when the prefix is not declared.
    pub ns: Option<&'a str>,
    /// The local name (no prefix).
    pub name: &'a str,
    /// The value as written, entity references not replaced (see [`Attribute::value`]).
    pub raw_value: &'a str,
}

impl<'a> Attribute<'a> {
    /// The value with entity references replaced (a copy only when it has one).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) for an unknown or
    /// malformed entity reference.
    pub fn value(&self) -> Result<Cow<'a, str>> {
        if !self.raw_value.contains('&') {
            return Ok(Cow::Borrowed(self.raw_value));
        }
        quick_xml::escape::unescape(self.raw_value)
            .map_err(|e| Error::protocol(format!("malformed attribute value: {e}")))
    }
}

/// A streaming reader over one document held in memory.
///
/// Every event borrows from the document. The reader fails with
/// [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) on anything that is
/// not one well-formed, namespace-well-formed UTF-8 XML document within its
/// [`Limits`]: malformed or truncated markup, mismatched end tags, an undeclared
/// element prefix, a reserved prefix misused, a duplicate attribute, a DOCTYPE
/// (so no entity can be declared or expanded), text or elements outside the
/// root, too deep or too many elements. After an error the reader is done.
///
/// ```
/// use hwctl_xml::{Event, Limits, Reader};
/// let mut r = Reader::new(br#"<a:R xmlns:a="urn:x"><v>1 &amp; 2</v></a:R>"#, Limits::default())?;
/// assert_eq!(r.next()?, Some(Event::Open { ns: "urn:x", name: "R" }));
/// assert_eq!(r.next()?, Some(Event::Open { ns: "", name: "v" }));
/// assert_eq!(r.next()?, Some(Event::Text("1 & 2".into())));
/// assert_eq!(r.next()?, Some(Event::Close));
/// assert_eq!(r.next()?, Some(Event::Close));
/// assert_eq!(r.next()?, None);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Reader<'a> {
    body: &'a str,
    xml: quick_xml::Reader<&'a [u8]>,
    scope: Scope<'a>,
    limits: Limits,
    attributes: Vec<Attribute<'a>>,
    depth: usize,
    elements: usize,
    closed_root: bool,
    pending_close: bool,
    failed: bool,
}

/// `part` as a slice of `outer` when it lies inside it (what quick-xml's slice
/// reader hands out always does).
fn inside<'a>(outer: &'a str, part: &[u8]) -> Result<&'a str> {
    (part.as_ptr() as usize)
        .checked_sub(outer.as_ptr() as usize)
        .and_then(|start| outer.get(start..start.checked_add(part.len())?))
        .ok_or_else(|| Error::protocol("XML reader returned text outside the document"))
}

impl<'a> Reader<'a> {
    /// A reader over `body`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) when `body` is not UTF-8.
    pub fn new(body: &'a [u8], limits: Limits) -> Result<Self> {
        let body = std::str::from_utf8(body)
            .map_err(|e| Error::protocol(format!("reply is not UTF-8: {e}")))?;
        let mut xml = quick_xml::Reader::from_str(body);
        xml.config_mut().check_end_names = true;
        Ok(Reader {
            body,
            xml,
            scope: Scope::new(),
            limits,
            attributes: Vec::new(),
            depth: 0,
            elements: 0,
            closed_root: false,
            pending_close: false,
            failed: false,
        })
    }

    /// The attributes of the element of the last [`Event::Open`], in document
    /// order (empty after any other event).
    pub fn attributes(&self) -> &[Attribute<'a>] {
        &self.attributes
    }

    /// How many elements are open.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The next event; `None` once the document ended well.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) as described on
    /// [`Reader`]; every later call fails too.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Event<'a>>> {
        if self.failed {
            return Err(Error::protocol("XML reader used after an error"));
        }
        let next = self.step();
        self.failed = next.is_err();
        next
    }

    /// Reads on to the end of the element of the last [`Event::Open`] (its
    /// [`Event::Close`] included), checking everything in between.
    ///
    /// # Errors
    ///
    /// As [`Reader::next`], and `Protocol` when the document ends first.
    pub fn skip_element(&mut self) -> Result<()> {
        let level = self.depth;
        while self.depth >= level {
            if self.next()?.is_none() {
                return Err(Error::protocol("reply ends inside an element (truncated)"));
            }
        }
        Ok(())
    }

    fn step(&mut self) -> Result<Option<Event<'a>>> {
        self.attributes.clear();
        if self.pending_close {
            self.pending_close = false;
            return Ok(Some(self.close()));
        }
        loop {
            let event = self
                .xml
                .read_event()
                .map_err(|e| Error::protocol(format!("malformed XML: {e}")))?;
            match event {
                XmlEvent::Start(ref start) | XmlEvent::Empty(ref start) => {
                    let open = self.open(start)?;
                    self.pending_close = matches!(event, XmlEvent::Empty(_));
                    return Ok(Some(open));
                }
                XmlEvent::End(_) => {
                    if self.depth == 0 {
                        return Err(Error::protocol("unbalanced end tag"));
                    }
                    return Ok(Some(self.close()));
                }
                XmlEvent::Text(t) => {
                    let s = t
                        .unescape()
                        .map_err(|e| Error::protocol(format!("malformed text: {e}")))?;
                    if self.depth == 0 {
                        if s.trim().is_empty() {
                            continue;
                        }
                        return Err(Error::protocol("text outside the root element"));
                    }
                    if !s.is_empty() {
                        return Ok(Some(Event::Text(s)));
                    }
                }
                XmlEvent::CData(c) => {
                    if self.depth == 0 {
                        return Err(Error::protocol("CDATA outside the root element"));
                    }
                    let s = match c.into_inner() {
                        Cow::Borrowed(b) => inside(self.body, b)?,
                        Cow::Owned(_) => {
                            return Err(Error::protocol("XML reader copied CDATA"));
                        }
                    };
                    if !s.is_empty() {
                        return Ok(Some(Event::Text(Cow::Borrowed(s))));
                    }
                }
                XmlEvent::DocType(_) => {
                    return Err(Error::protocol("DOCTYPE is not accepted in a reply"));
                }
                XmlEvent::Comment(_) | XmlEvent::Decl(_) | XmlEvent::PI(_) => {}
                XmlEvent::Eof => {
                    if self.depth != 0 {
                        return Err(Error::protocol("reply ends inside an element (truncated)"));
                    }
                    if self.elements == 0 {
                        return Err(Error::protocol("reply has no XML element"));
                    }
                    return Ok(None);
                }
            }
        }
    }

    fn close(&mut self) -> Event<'a> {
        self.scope.close(self.depth);
        self.depth -= 1;
        self.closed_root |= self.depth == 0;
        Event::Close
    }

    fn open(&mut self, start: &BytesStart<'a>) -> Result<Event<'a>> {
        if self.closed_root {
            return Err(Error::protocol("content after the root element"));
        }
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(Error::protocol(format!(
                "reply has more than {} elements",
                self.limits.max_elements
            )));
        }
        if self.depth >= self.limits.max_depth {
            return Err(Error::protocol(format!(
                "reply nests deeper than {} elements",
                self.limits.max_depth
            )));
        }
        let level = self.depth + 1;
        let raw = start.attributes_raw();
        if !raw.iter().all(u8::is_ascii_whitespace) {
            self.read_attributes(inside(self.body, raw)?, level)?;
        }
        let (prefix, name) = split(inside(self.body, start.name().as_ref())?);
        let ns = self.scope.resolve(prefix, true).ok_or_else(|| {
            Error::protocol(format!(
                "undeclared namespace prefix {:?}",
                String::from_utf8_lossy(prefix.unwrap_or_default())
            ))
        })?;
        self.depth = level;
        Ok(Event::Open { ns, name })
    }

    /// Declares the element's namespace bindings, then resolves its other
    /// attributes (a prefix declared on the element applies to its attributes).
    fn read_attributes(&mut self, raw: &'a str, level: usize) -> Result<()> {
        for attr in Attributes::new(raw, 0) {
            let attr = attr.map_err(|e| Error::protocol(format!("malformed attribute: {e}")))?;
            let qname = inside(raw, attr.key.as_ref())?;
            let value = match attr.value {
                Cow::Borrowed(v) => inside(raw, v)?,
                Cow::Owned(_) => return Err(Error::protocol("XML reader copied an attribute")),
            };
            if let Some(prefix) = qname.strip_prefix("xmlns") {
                match prefix.strip_prefix(':') {
                    _ if prefix.is_empty() => {
                        self.scope.declare(None, value, level)?;
                        continue;
                    }
                    Some(p) => {
                        self.scope.declare(Some(p.as_bytes()), value, level)?;
                        continue;
                    }
                    None => {}
                }
            }
            let (_, name) = split(qname);
            self.attributes.push(Attribute {
                qname,
                ns: None,
                name,
                raw_value: value,
            });
        }
        for attr in &mut self.attributes {
            attr.ns = self.scope.resolve(split(attr.qname).0, false);
        }
        Ok(())
    }
}
