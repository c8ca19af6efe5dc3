//! Domain XML: the only place that reads or edits libvirt's XML.
//!
//! The XML is scanned once into a flat list of elements with their byte spans, so
//! edits are splices: everything outside the changed `<boot>` elements stays
//! byte-for-byte as libvirt wrote it.

use hwctl_core::{BootDevice, BootMode, Error, MacAddress, Result};
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

#[derive(Debug, Clone)]
struct Elem {
    name: String,
    attrs: Vec<(String, String)>,
    /// Byte offset of `<`.
    start: usize,
    /// Byte offset just past the end tag (or `/>`).
    end: usize,
    parent: Option<usize>,
    text: String,
}

impl Elem {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed domain description.
#[derive(Debug, Clone)]
pub(crate) struct DomainXml {
    src: String,
    elems: Vec<Elem>,
}

fn start_elem(e: &BytesStart<'_>, start: usize, parent: Option<usize>) -> Result<Elem> {
    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| Error::protocol(format!("domain XML: bad attribute: {err}")))?;
        let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
        let value = a
            .unescape_value()
            .map_err(|err| Error::protocol(format!("domain XML: bad attribute value: {err}")))?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Elem {
        name,
        attrs,
        start,
        end: start,
        parent,
        text: String::new(),
    })
}

fn pos(reader: &Reader<&[u8]>) -> usize {
    usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX)
}

/// The libvirt `<boot dev>` name of one of our boot devices.
pub(crate) fn libvirt_dev(device: BootDevice) -> Option<&'static str> {
    match device {
        BootDevice::Pxe => Some("network"),
        BootDevice::Disk => Some("hd"),
        BootDevice::Cdrom => Some("cdrom"),
        _ => None,
    }
}

/// Our boot device for a libvirt `<boot dev>` name.
pub(crate) fn from_libvirt_dev(dev: &str) -> Option<BootDevice> {
    match dev {
        "network" => Some(BootDevice::Pxe),
        "hd" => Some(BootDevice::Disk),
        "cdrom" => Some(BootDevice::Cdrom),
        "fd" => Some(BootDevice::Floppy),
        _ => None,
    }
}

impl DomainXml {
    /// Scans `xml`; a document that is not well-formed, or whose root is not
    /// `<domain>`, is a protocol error.
    pub(crate) fn parse(xml: &str) -> Result<Self> {
        // A leading byte-order mark is dropped before scanning: the reader skips it
        // too, and its element offsets must index the text kept in `src` (with the
        // mark kept, they were 3 bytes off and an edit could cut a character: a
        // panic found by fuzzing).
        // Every leading mark: with two, the reader skipped the second after ours
        // and the offsets were 3 bytes off again (found by CI's fuzz smoke).
        let xml = xml.trim_start_matches('\u{feff}');
        let mut reader = Reader::from_str(xml);
        let mut elems: Vec<Elem> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        loop {
            let before = pos(&reader);
            let event = reader.read_event().map_err(|e| {
                Error::protocol(format!(
                    "domain XML is not well-formed at byte {}: {e}",
                    reader.error_position()
                ))
            })?;
            match event {
                Event::Start(e) => {
                    let el = start_elem(&e, before, stack.last().copied())?;
                    elems.push(el);
                    stack.push(elems.len() - 1);
                }
                Event::Empty(e) => {
                    let mut el = start_elem(&e, before, stack.last().copied())?;
                    el.end = pos(&reader);
                    elems.push(el);
                }
                Event::End(_) => {
                    let i = stack
                        .pop()
                        .ok_or_else(|| Error::protocol("domain XML: unbalanced end tag"))?;
                    if let Some(el) = elems.get_mut(i) {
                        el.end = pos(&reader);
                    }
                }
                Event::Text(t) => {
                    if let Some(&i) = stack.last() {
                        let text = t
                            .unescape()
                            .map_err(|e| Error::protocol(format!("domain XML: bad text: {e}")))?;
                        if let Some(el) = elems.get_mut(i) {
                            el.text.push_str(&text);
                        }
                    }
                }
                Event::CData(t) => {
                    if let Some(&i) = stack.last()
                        && let Some(el) = elems.get_mut(i)
                    {
                        el.text.push_str(&String::from_utf8_lossy(&t));
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !stack.is_empty() {
            return Err(Error::protocol("domain XML ends inside an element"));
        }
        match elems.first() {
            Some(root) if root.name == "domain" => {}
            Some(root) => {
                return Err(Error::protocol(format!(
                    "expected a <domain> document, found <{}>",
                    root.name
                )));
            }
            None => return Err(Error::protocol("domain XML is empty")),
        }
        // Edits slice `src` at element offsets: each must fall between characters
        // of the text kept, or the document is refused (never a panic later).
        if let Some(e) = elems.iter().find(|e| {
            !xml.is_char_boundary(e.start) || !xml.is_char_boundary(e.end) || e.end < e.start
        }) {
            return Err(Error::protocol(format!(
                "domain XML: the reader's offsets for <{}> ({}..{}) do not index the text",
                e.name, e.start, e.end
            )));
        }
        Ok(DomainXml {
            src: xml.to_owned(),
            elems,
        })
    }

    fn children(&self, parent: usize) -> impl Iterator<Item = (usize, &Elem)> {
        self.elems
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.parent == Some(parent))
    }

    fn child(&self, parent: usize, name: &str) -> Option<(usize, &Elem)> {
        self.children(parent).find(|(_, e)| e.name == name)
    }

    fn parent_of(&self, e: &Elem) -> Option<&Elem> {
        e.parent.and_then(|p| self.elems.get(p))
    }

    /// The domain's name.
    pub(crate) fn name(&self) -> Option<&str> {
        self.child(0, "name").map(|(_, e)| e.text.trim())
    }

    /// The domain's UUID.
    pub(crate) fn uuid(&self) -> Option<&str> {
        self.child(0, "uuid").map(|(_, e)| e.text.trim())
    }

    /// Every MAC of the domain (`//mac/@address`), parsed; unparseable ones skipped.
    pub(crate) fn macs(&self) -> Vec<MacAddress> {
        self.elems
            .iter()
            .filter(|e| e.name == "mac")
            .filter_map(|e| e.attr("address"))
            .filter_map(|a| a.parse().ok())
            .collect()
    }

    fn os(&self) -> Option<usize> {
        self.child(0, "os").map(|(i, _)| i)
    }

    /// `<os><boot dev>` elements, in document order.
    fn os_boots(&self) -> Vec<usize> {
        match self.os() {
            Some(os) => self
                .children(os)
                .filter(|(_, e)| e.name == "boot")
                .map(|(i, _)| i)
                .collect(),
            None => Vec::new(),
        }
    }

    /// Per-device `<boot order=…/>` elements (inside `<devices>/<disk|interface|…>`).
    fn device_boots(&self) -> Vec<usize> {
        self.elems
            .iter()
            .enumerate()
            .filter(|(_, e)| e.name == "boot" && e.attr("order").is_some())
            .filter(|(_, e)| {
                self.parent_of(e)
                    .and_then(|p| self.parent_of(p))
                    .is_some_and(|gp| gp.name == "devices")
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The first boot device: `<os><boot dev>` first; otherwise the device with the
    /// lowest per-device `<boot order>`. `None` when neither says.
    pub(crate) fn boot_device(&self) -> Option<BootDevice> {
        if let Some(first) = self.os_boots().first() {
            return self
                .elems
                .get(*first)
                .and_then(|e| e.attr("dev"))
                .and_then(from_libvirt_dev);
        }
        let best = self
            .device_boots()
            .into_iter()
            .filter_map(|i| self.elems.get(i))
            .filter_map(|e| {
                let order: u32 = e.attr("order")?.trim().parse().ok()?;
                Some((order, self.parent_of(e)?))
            })
            .min_by_key(|(order, _)| *order)?;
        let device = best.1;
        match device.name.as_str() {
            "interface" => Some(BootDevice::Pxe),
            "disk" => match device.attr("device").unwrap_or("disk") {
                "cdrom" => Some(BootDevice::Cdrom),
                "floppy" => Some(BootDevice::Floppy),
                "disk" | "lun" => Some(BootDevice::Disk),
                _ => None,
            },
            _ => None,
        }
    }

    /// The firmware: UEFI when `<os firmware='efi'>`, a pflash `<loader>` or an
    /// OVMF/AAVMF/edk2 loader path; BIOS for other `hvm` guests; `None` otherwise
    /// (para-virtualised guests with a boot loader have no firmware mode).
    pub(crate) fn boot_mode(&self) -> Option<BootMode> {
        let os = self.os()?;
        let os_el = self.elems.get(os)?;
        match os_el.attr("firmware") {
            Some("efi") => return Some(BootMode::Uefi),
            Some("bios") => return Some(BootMode::Bios),
            _ => {}
        }
        if let Some((_, loader)) = self.child(os, "loader") {
            let path = loader.text.to_ascii_lowercase();
            if loader.attr("type") == Some("pflash")
                || ["ovmf", "aavmf", "edk2", "uefi", ".fd"]
                    .iter()
                    .any(|k| path.contains(k))
            {
                return Some(BootMode::Uefi);
            }
            return Some(BootMode::Bios);
        }
        let hvm = self
            .child(os, "type")
            .is_some_and(|(_, t)| t.text.trim() == "hvm");
        hvm.then_some(BootMode::Bios)
    }

    /// The span to cut for element `i`: its whole line when the element stands alone
    /// on it, else just the element.
    fn line_span(&self, i: usize) -> Option<(usize, usize)> {
        let e = self.elems.get(i)?;
        let bytes = self.src.as_bytes();
        let line_start = self.src[..e.start].rfind('\n');
        let after = &self.src[e.end..];
        let line_end = after.find('\n').map(|n| e.end + n);
        let before_blank = match line_start {
            Some(ls) => bytes[ls + 1..e.start]
                .iter()
                .all(|b| *b == b' ' || *b == b'\t'),
            None => false,
        };
        let after_blank = match line_end {
            Some(le) => bytes[e.end..le].iter().all(|b| b.is_ascii_whitespace()),
            None => false,
        };
        match (line_start, before_blank && after_blank) {
            (Some(ls), true) => Some((ls, line_end.unwrap_or(e.end))),
            _ => Some((e.start, e.end)),
        }
    }

    /// The XML with `<os><boot dev=…/>` set to `device` alone, everything else kept
    /// byte for byte.
    ///
    /// Every existing `<os><boot>` is removed and one `<boot dev='X'/>` written in
    /// the place of the first (or after `<os><type>` when there was none). libvirt
    /// refuses per-device `<boot order>` next to `<os><boot>`, so those are removed
    /// too: the result names exactly one boot device.
    pub(crate) fn with_boot_device(&self, device: BootDevice) -> Result<String> {
        let dev = libvirt_dev(device)
            .ok_or_else(|| Error::unsupported(format_args!("boot device {device}")))?;
        let os = self
            .os()
            .ok_or_else(|| Error::protocol("domain XML has no <os> element"))?;
        let os_el = &self.elems[os];
        let new_boot = format!("<boot dev='{dev}'/>");

        // (start, end, replacement)
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        let os_boots = self.os_boots();
        if let Some((&first, rest)) = os_boots.split_first() {
            let e = &self.elems[first];
            edits.push((e.start, e.end, new_boot));
            for &i in rest {
                if let Some((s, t)) = self.line_span(i) {
                    edits.push((s, t, String::new()));
                }
            }
        } else if let Some((_, ty)) = self.child(os, "type") {
            let line_start = self.src[..ty.start].rfind('\n').map_or(0, |n| n + 1);
            let indent: String = self.src[line_start..ty.start]
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            edits.push((ty.end, ty.end, format!("\n{indent}{new_boot}")));
        } else if os_el.end > os_el.start && self.src[os_el.start..os_el.end].ends_with("/>") {
            return Err(Error::protocol("domain XML has an empty <os/> element"));
        } else {
            // <os> without <type>: insert right after the start tag.
            let open_end = self.src[os_el.start..]
                .find('>')
                .map(|n| os_el.start + n + 1)
                .ok_or_else(|| Error::protocol("domain XML: unterminated <os> tag"))?;
            edits.push((open_end, open_end, new_boot));
        }
        for i in self.device_boots() {
            if let Some((s, t)) = self.line_span(i) {
                edits.push((s, t, String::new()));
            }
        }
        edits.sort_by_key(|(s, _, _)| *s);
        let mut out = String::with_capacity(self.src.len() + 32);
        let mut at = 0;
        for (s, t, rep) in edits {
            if s < at {
                continue; // overlapping spans cannot happen for distinct elements; be safe
            }
            out.push_str(&self.src[at..s]);
            out.push_str(&rep);
            at = t;
        }
        out.push_str(&self.src[at..]);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fixture() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/libvirt/staging_FakeLibvirtDomain_XMLDesc_boot_network.xml"
        ))
        .unwrap()
    }

    #[test]
    fn fixture_facts() {
        let d = DomainXml::parse(&fixture()).unwrap();
        assert_eq!(d.name(), Some("test_libvirt_domain"));
        assert_eq!(d.uuid(), Some("1be26c0b-03f2-4d2e-ae87-c02d7f33c123"));
        let macs: Vec<String> = d.macs().iter().map(ToString::to_string).collect();
        assert_eq!(macs, ["00:16:3e:49:1d:11", "52:54:00:5c:b7:df"]);
        assert_eq!(d.boot_device(), Some(BootDevice::Pxe));
        assert_eq!(d.boot_mode(), Some(BootMode::Bios));
    }

    #[test]
    fn rewrite_fixture_changes_only_the_boot_line() {
        let src = fixture();
        let d = DomainXml::parse(&src).unwrap();
        let out = d.with_boot_device(BootDevice::Cdrom).unwrap();
        assert_eq!(
            out,
            src.replace("<boot dev='network'/>", "<boot dev='cdrom'/>")
        );
        let back = DomainXml::parse(&out).unwrap();
        assert_eq!(back.boot_device(), Some(BootDevice::Cdrom));
        // Idempotent: setting the same device again changes nothing.
        assert_eq!(back.with_boot_device(BootDevice::Cdrom).unwrap(), out);
    }

    /// Found by the libvirt_domain_xml fuzz target: a document starting with a
    /// byte-order mark put every element offset 3 bytes off, and rewriting the
    /// boot device sliced inside a later multi-byte character (a panic).
    #[test]
    fn a_leading_byte_order_mark_keeps_offsets_right() {
        let src = "\u{feff}<domain>\n  <os>\n    <type>hvm</type>\n    <boot dev='hd'/>\n  </os>\n  <description>\u{feff}é</description>\n</domain>\n";
        let d = DomainXml::parse(src).unwrap();
        assert_eq!(d.boot_device(), Some(BootDevice::Disk));
        let out = d.with_boot_device(BootDevice::Pxe).unwrap();
        assert_eq!(
            out,
            src.trim_start_matches('\u{feff}')
                .replace("<boot dev='hd'/>", "<boot dev='network'/>")
        );
        // The fuzzer's input itself: no panic, whatever the outcome.
        let crash = "\u{feff}<domain e='1k'>main type=' typoad   \u{feff} <os>\n        <tyle arch='x4ev\0\0\0\0\0\0\0\0\0\0\0\0\0\0k'/>\n        <bi\u{7f}s useserial='yes'/>\n    </os>\n virtu'netwle a \0\0\0\0\0\u{2}0'\0\0\0\u{2}1'/><='1'/></domain>";
        if let Ok(d) = DomainXml::parse(crash) {
            for device in [BootDevice::Pxe, BootDevice::Disk, BootDevice::Cdrom] {
                let _ = d.with_boot_device(device);
            }
        }
    }

    /// Found by CI's fuzz smoke after the fix above: two leading marks (the reader
    /// skipped the second after ours was dropped) put the offsets 3 bytes off again.
    #[test]
    fn several_leading_byte_order_marks_keep_offsets_right() {
        let src = "\u{feff}\u{feff}<domain>\n  <os>\n    <type>hvm</type>\n    <boot dev='hd'/>\n  </os>\n  <description>\u{feff}é</description>\n</domain>\n";
        let d = DomainXml::parse(src).unwrap();
        let out = d.with_boot_device(BootDevice::Pxe).unwrap();
        assert_eq!(
            out,
            src.trim_start_matches('\u{feff}')
                .replace("<boot dev='hd'/>", "<boot dev='network'/>")
        );
        let crash = "\u{feff}\u{feff}<domain e='1k'>main type=' typoad   \u{feff} <os>\n     \u{7f}\0\0\0\0 arch='x4ev\0\0\0\u{f}\u{f}\u{f}\u{f}\u{f}\u{f}\u{f}\u{f}#\u{f}\0\0\0\0\0\0\0\0\0\0\0k'/>\n        <bi\u{7f}s useserial='yes'/>\n    </os>\n virtu'netwle a \0\0\0\0\0\u{2}0'\0\0\0\u{2}6'/><='1L'/></domain>";
        if let Ok(d) = DomainXml::parse(crash) {
            for device in [BootDevice::Pxe, BootDevice::Disk, BootDevice::Cdrom] {
                let _ = d.with_boot_device(device);
            }
        }
    }

    #[test]
    fn several_os_boots_collapse_to_one() {
        let src = "<domain>\n  <os>\n    <type>hvm</type>\n    <boot dev='hd'/>\n    <boot dev='network'/>\n    <bootmenu enable='yes'/>\n  </os>\n</domain>\n";
        let out = DomainXml::parse(src)
            .unwrap()
            .with_boot_device(BootDevice::Pxe)
            .unwrap();
        assert_eq!(
            out,
            "<domain>\n  <os>\n    <type>hvm</type>\n    <boot dev='network'/>\n    <bootmenu enable='yes'/>\n  </os>\n</domain>\n"
        );
    }

    #[test]
    fn boot_inserted_after_type_when_absent() {
        let src = "<domain type='kvm'>\n  <os>\n    <type arch='x86_64'>hvm</type>\n    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>\n  </os>\n</domain>";
        let d = DomainXml::parse(src).unwrap();
        assert_eq!(d.boot_device(), None);
        assert_eq!(d.boot_mode(), Some(BootMode::Uefi));
        let out = d.with_boot_device(BootDevice::Disk).unwrap();
        assert_eq!(
            out,
            src.replace("hvm</type>\n", "hvm</type>\n    <boot dev='hd'/>\n")
        );
    }

    #[test]
    fn per_device_boot_orders_are_read_and_replaced_not_duplicated() {
        let src = "<domain>\n  <os>\n    <type>hvm</type>\n  </os>\n  <devices>\n    <disk type='file' device='disk'>\n      <source file='/a.img'/>\n      <boot order='2'/>\n    </disk>\n    <disk type='file' device='cdrom'>\n      <boot order='3'/>\n    </disk>\n    <interface type='network'>\n      <mac address='52:54:00:00:00:01'/>\n      <boot order='1'/>\n    </interface>\n  </devices>\n</domain>\n";
        let d = DomainXml::parse(src).unwrap();
        assert_eq!(d.boot_device(), Some(BootDevice::Pxe));
        let out = d.with_boot_device(BootDevice::Cdrom).unwrap();
        assert_eq!(out.matches("<boot ").count(), 1, "{out}");
        assert!(!out.contains("order="));
        let expected = src
            .replace("      <boot order='2'/>\n", "")
            .replace("      <boot order='3'/>\n", "")
            .replace("      <boot order='1'/>\n", "")
            .replace("hvm</type>\n", "hvm</type>\n    <boot dev='cdrom'/>\n");
        assert_eq!(out, expected);
        assert_eq!(
            DomainXml::parse(&out).unwrap().boot_device(),
            Some(BootDevice::Cdrom)
        );
    }

    #[test]
    fn firmware_attribute_and_pv_guests() {
        let efi = "<domain><os firmware='efi'><type>hvm</type></os></domain>";
        assert_eq!(
            DomainXml::parse(efi).unwrap().boot_mode(),
            Some(BootMode::Uefi)
        );
        let pv = "<domain><os><type>linux</type></os></domain>";
        assert_eq!(DomainXml::parse(pv).unwrap().boot_mode(), None);
        let seabios = "<domain><os><type>hvm</type><loader>/usr/share/seabios/bios.bin</loader></os></domain>";
        assert_eq!(
            DomainXml::parse(seabios).unwrap().boot_mode(),
            Some(BootMode::Bios)
        );
    }

    #[test]
    fn entities_and_comments_survive() {
        let src = "<domain>\n  <!-- keep me -->\n  <description>a &amp; b</description>\n  <os>\n    <type>hvm</type>\n    <boot dev='hd'/>\n  </os>\n</domain>";
        let out = DomainXml::parse(src)
            .unwrap()
            .with_boot_device(BootDevice::Pxe)
            .unwrap();
        assert_eq!(out, src.replace("'hd'", "'network'"));
    }

    #[test]
    fn broken_documents_are_protocol_errors() {
        for bad in [
            "",
            "<domain>",
            "<network/>",
            "<domain><os></domain>",
            "not xml <",
        ] {
            let e = DomainXml::parse(bad).unwrap_err();
            assert_eq!(e.kind(), hwctl_core::ErrorKind::Protocol, "{bad:?}");
        }
        let no_os = DomainXml::parse("<domain/>").unwrap();
        assert_eq!(
            no_os.with_boot_device(BootDevice::Pxe).unwrap_err().kind(),
            hwctl_core::ErrorKind::Protocol
        );
        assert_eq!(
            no_os.with_boot_device(BootDevice::Bios).unwrap_err().kind(),
            hwctl_core::ErrorKind::Unsupported
        );
    }
}
