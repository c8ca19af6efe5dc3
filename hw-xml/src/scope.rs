//! Namespace bindings in scope (`xmlns` and `xmlns:p` declarations), borrowed
//! from the document.
//!
//! The rules are those of Namespaces in XML 1.0 as quick-xml's own resolver
//! applies them (so a document resolves the same whichever of the two reads it):
//! `xml` and `xmlns` are bound from the start; `xmlns:xml` may only repeat the
//! XML namespace; `xmlns:xmlns` and binding another prefix to either reserved
//! namespace are errors; `xmlns=""` (or `xmlns:p=""`) takes a binding back;
//! unprefixed attributes are in no namespace. Namespace names are compared as
//! written (not unescaped), as quick-xml does.

use hwctl_core::{Error, Result};

/// The namespace bound to the `xml` prefix.
pub const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";

/// The namespace bound to the `xmlns` prefix.
pub const XMLNS_NAMESPACE: &str = "http://www.w3.org/2000/xmlns/";

/// One declaration: `prefix` empty for the default namespace; `uri` empty for a
/// binding taken back; `level` is the depth of the element that declared it.
#[derive(Debug, Clone, Copy)]
struct Binding<'a> {
    prefix: &'a [u8],
    uri: &'a str,
    level: usize,
}

/// The bindings of the open elements, innermost last.
#[derive(Debug)]
pub(crate) struct Scope<'a> {
    bindings: Vec<Binding<'a>>,
}

impl<'a> Scope<'a> {
    pub(crate) fn new() -> Self {
        let mut bindings = Vec::with_capacity(8);
        bindings.push(Binding {
            prefix: b"xml",
            uri: XML_NAMESPACE,
            level: 0,
        });
        bindings.push(Binding {
            prefix: b"xmlns",
            uri: XMLNS_NAMESPACE,
            level: 0,
        });
        Scope { bindings }
    }

    /// Records `xmlns[:prefix]="uri"` found on the element at `level`
    /// (`prefix` is `None` for `xmlns` itself).
    pub(crate) fn declare(
        &mut self,
        prefix: Option<&'a [u8]>,
        uri: &'a str,
        level: usize,
    ) -> Result<()> {
        let bad = |what: &str| Err(Error::protocol(format!("malformed XML: {what}")));
        match prefix {
            Some(b"xml") if uri != XML_NAMESPACE => {
                return bad("the xml prefix is bound to another namespace");
            }
            // Repeating the fixed binding of `xml` adds nothing.
            Some(b"xml") => return Ok(()),
            Some(b"xmlns") => return bad("the xmlns prefix is declared"),
            Some(_) if uri == XML_NAMESPACE => {
                return bad("a prefix other than xml is bound to the XML namespace");
            }
            Some(_) if uri == XMLNS_NAMESPACE => {
                return bad("a prefix is bound to the xmlns namespace");
            }
            _ => {}
        }
        self.bindings.push(Binding {
            prefix: prefix.unwrap_or_default(),
            uri,
            level,
        });
        Ok(())
    }

    /// Drops the bindings declared at `level` or deeper (the element closed).
    pub(crate) fn close(&mut self, level: usize) {
        while self.bindings.last().is_some_and(|b| b.level >= level) {
            self.bindings.pop();
        }
    }

    /// The namespace of a name with `prefix` (`None`: unprefixed). `Some("")` is
    /// no namespace; `None` is a prefix that is not declared (or taken back).
    /// `default` says whether an unprefixed name takes the default namespace
    /// (elements do, attributes do not).
    pub(crate) fn resolve(&self, prefix: Option<&[u8]>, default: bool) -> Option<&'a str> {
        match prefix {
            None if !default => Some(""),
            None => Some(
                self.bindings
                    .iter()
                    .rev()
                    .find(|b| b.prefix.is_empty())
                    .map_or("", |b| b.uri),
            ),
            Some(p) => self
                .bindings
                .iter()
                .rev()
                .find(|b| !b.prefix.is_empty() && b.prefix == p)
                .map(|b| b.uri)
                .filter(|uri| !uri.is_empty()),
        }
    }
}

/// Splits a qualified name at its first `:` into (prefix, local name).
pub(crate) fn split(qname: &str) -> (Option<&[u8]>, &str) {
    match qname.find(':') {
        Some(i) => (Some(&qname.as_bytes()[..i]), &qname[i + 1..]),
        None => (None, qname),
    }
}
