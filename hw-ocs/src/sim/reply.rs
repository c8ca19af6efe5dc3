//! The simulator's own XML writer (written from the fixtures; shares nothing with
//! the client's decoder).

use std::fmt::Write as _;

const XMLNS: &str = r#" xmlns="http://schemas.datacontract.org/2004/07/Microsoft.GFS.WCS.Contracts" xmlns:i="http://www.w3.org/2001/XMLSchema-instance""#;

/// XML-escapes text content.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `<name>text</name>`, or `<name/>` when empty.
pub(crate) fn leaf(out: &mut String, name: &str, text: &str) {
    if text.is_empty() {
        let _ = write!(out, "<{name}/>");
    } else {
        let _ = write!(out, "<{name}>{}</{name}>", esc(text));
    }
}

/// One reply: root class, status head, then fields in order.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub root: &'static str,
    pub code: String,
    pub description: String,
    pub blade: Option<u32>,
    pub fields: Vec<(&'static str, String)>,
}

impl Reply {
    pub(super) fn new(
        root: &'static str,
        code: &str,
        description: &str,
        blade: Option<u32>,
    ) -> Self {
        Reply {
            root,
            code: code.to_owned(),
            description: description.to_owned(),
            blade,
            fields: Vec::new(),
        }
    }

    pub(super) fn field(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// The document, in the byte layout of the captured replies: no declaration, no
    /// whitespace, `<x/>` for empty elements.
    pub(super) fn render(&self) -> String {
        let mut out = String::with_capacity(256);
        let _ = write!(out, "<{}{XMLNS}>", self.root);
        leaf(&mut out, "completionCode", &self.code);
        leaf(&mut out, "apiVersion", "1");
        leaf(&mut out, "statusDescription", &self.description);
        if let Some(b) = self.blade {
            leaf(&mut out, "bladeNumber", &b.to_string());
        }
        for (name, value) in &self.fields {
            leaf(&mut out, name, value);
        }
        let _ = write!(out, "</{}>", self.root);
        out
    }
}

/// One blade of a `ChassisInfoResponse`.
#[derive(Debug, Clone)]
pub(crate) struct BladeEntry {
    pub number: u32,
    pub on: bool,
    pub macs: Vec<String>,
}

/// `ChassisInfoResponse` in the shape of MAAS's captured reply (blade collection,
/// each blade with its status head, name, power state and NICs).
pub(crate) fn chassis_info(blades: &[BladeEntry]) -> String {
    let mut out = String::with_capacity(512 + blades.len() * 700);
    let _ = write!(out, "<ChassisInfoResponse{XMLNS}><bladeCollections>");
    for b in blades {
        out.push_str("<BladeInfo>");
        leaf(&mut out, "completionCode", "Success");
        leaf(&mut out, "apiVersion", "1");
        leaf(&mut out, "statusDescription", "");
        leaf(&mut out, "bladeNumber", &b.number.to_string());
        leaf(&mut out, "bladeGuid", "");
        leaf(&mut out, "bladeName", &format!("BLADE{}", b.number));
        leaf(&mut out, "powerState", if b.on { "ON" } else { "OFF" });
        out.push_str("<bladeMacAddress>");
        for (i, mac) in b.macs.iter().enumerate() {
            out.push_str("<NicInfo>");
            leaf(&mut out, "completionCode", "Success");
            leaf(&mut out, "apiVersion", "1");
            leaf(&mut out, "statusDescription", "");
            leaf(&mut out, "deviceId", &(i + 1).to_string());
            leaf(&mut out, "macAddress", mac);
            out.push_str("</NicInfo>");
        }
        out.push_str("</bladeMacAddress></BladeInfo>");
    }
    out.push_str("</bladeCollections></ChassisInfoResponse>");
    out
}
