//! One streaming pass over a flat reply (a root whose fields are its children),
//! keeping only the children a decoder asks for.
//!
//! Every reply but `ChassisInfoResponse` is flat: `<BladeStateResponse>` holds
//! `<completionCode>`, `<apiVersion>`, …, `<bladeState>` and nothing deeper. For
//! those, building a [`Doc`](hwctl_xml::Doc) (a node per element, whitespace
//! between children joined into the root's text) is work nobody reads. This
//! module reads the [`Reader`]'s events once and keeps, for each wanted name, the
//! first contract child so called: its `i:nil` flag and its own text, borrowed
//! from the body (copied only when it comes in several pieces or has an entity
//! reference). The whole document is still read and checked (well-formedness,
//! namespaces, the depth and element limits), so a reply is accepted or refused
//! exactly as the tree would accept or refuse it, and a field reads the same as
//! [`Element::child_text`](super::xml::Element::child_text) reads it; the
//! differential tests in `response.rs` check both on every fixture, generated
//! and mutated ones.

use std::borrow::Cow;

use hwctl_core::{Error, ErrorKind, Result};
use hwctl_xml::{Attribute, Event, Reader};

use super::xml::{LIMITS, XSI_NAMESPACE, is_contract};

/// The most fields one flat reply is read for (`PowerStateResponse`: the three
/// of the status head, `bladeNumber`, `Decompression`, `powerState`).
pub(crate) const MAX_FIELDS: usize = 6;

/// The first contract child of the root with a wanted name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Field<'a> {
    pub(super) nil: bool,
    pub(super) text: Cow<'a, str>,
}

/// A flat reply's root and the wanted children found under it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Flat<'a> {
    pub(super) name: &'a str,
    pub(super) contract: bool,
    pub(super) wanted: &'static [&'static str],
    pub(super) fields: [Option<Field<'a>>; MAX_FIELDS],
}

/// `i:nil="true"` (or `"1"`) among `attributes`; the last `nil` attribute in the
/// XSI namespace wins, as on the tree.
pub(crate) fn nil(attributes: &[Attribute<'_>]) -> bool {
    attributes.iter().fold(false, |nil, a| {
        if a.ns == Some(XSI_NAMESPACE) && a.name == "nil" {
            a.raw_value.eq_ignore_ascii_case("true") || a.raw_value == "1"
        } else {
            nil
        }
    })
}

impl<'a> Flat<'a> {
    /// Reads the whole of `body`, keeping the children of the root named in
    /// `wanted` (at most [`MAX_FIELDS`] names; more is a bug, reported as an
    /// `Other` error rather than a panic).
    ///
    /// Fails with [`ErrorKind::Protocol`](hwctl_core::ErrorKind::Protocol) as
    /// [`Reader`] does: the same documents are refused as by the tree.
    pub(crate) fn read(body: &'a [u8], wanted: &'static [&'static str]) -> Result<Self> {
        if wanted.len() > MAX_FIELDS {
            return Err(Error::new(
                ErrorKind::Other,
                format!("a flat OCS reply is read for at most {MAX_FIELDS} fields"),
            ));
        }
        let mut reader = Reader::new(body, LIMITS)?;
        let mut flat = Flat {
            name: "",
            contract: false,
            wanted,
            fields: Default::default(),
        };
        // The field whose text is being read: the innermost open element is a
        // wanted child of the root.
        let mut current: Option<usize> = None;
        let mut rooted = false;
        while let Some(event) = reader.next()? {
            match event {
                Event::Open { ns, name } => match reader.depth() {
                    1 => {
                        // The reader allows one root only.
                        flat.name = name;
                        flat.contract = is_contract(ns);
                        rooted = true;
                    }
                    2 => {
                        current = None;
                        if is_contract(ns)
                            && let Some(i) = wanted.iter().position(|w| *w == name)
                            && flat.fields[i].is_none()
                        {
                            flat.fields[i] = Some(Field {
                                nil: nil(reader.attributes()),
                                text: Cow::Borrowed(""),
                            });
                            current = Some(i);
                        }
                    }
                    _ => {}
                },
                Event::Text(piece) if reader.depth() == 2 => {
                    if let Some(field) = current.and_then(|i| flat.fields[i].as_mut()) {
                        if field.text.is_empty() {
                            field.text = piece;
                        } else {
                            field.text.to_mut().push_str(&piece);
                        }
                    }
                }
                Event::Text(_) => {}
                Event::Close => {
                    if reader.depth() <= 1 {
                        current = None;
                    }
                }
            }
        }
        if !rooted {
            // The reader refuses a document without an element; kept as a check.
            return Err(Error::protocol("reply has no XML element"));
        }
        Ok(flat)
    }

    fn field(&self, name: &str) -> Option<&Field<'a>> {
        let i = self.wanted.iter().position(|w| *w == name)?;
        self.fields[i].as_ref()
    }
}

/// What a decoder reads from a reply element, whether it comes from the tree
/// ([`Element`](super::xml::Element)) or from one streaming pass ([`Flat`]).
pub(crate) trait Fields {
    /// The local name (for messages).
    fn name(&self) -> &str;
    /// Whether the element is in the contract namespace (or none).
    fn contract(&self) -> bool;
    /// Whether a contract child called `name` is present (nil or not).
    fn has(&self, name: &str) -> bool;
    /// The trimmed text of the first contract child called `name`; `None` if
    /// absent or nil.
    fn child_text(&self, name: &str) -> Option<&str>;
}

impl Fields for Flat<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn contract(&self) -> bool {
        self.contract
    }

    fn has(&self, name: &str) -> bool {
        self.field(name).is_some()
    }

    fn child_text(&self, name: &str) -> Option<&str> {
        self.field(name).filter(|f| !f.nil).map(|f| f.text.trim())
    }
}

impl Fields for super::xml::Element<'_, '_> {
    fn name(&self) -> &str {
        super::xml::Element::name(self)
    }

    fn contract(&self) -> bool {
        super::xml::Element::contract(self)
    }

    fn has(&self, name: &str) -> bool {
        self.child(name).is_some()
    }

    fn child_text(&self, name: &str) -> Option<&str> {
        super::xml::Element::child_text(self, name)
    }
}
