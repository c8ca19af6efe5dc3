//! The simulated AMT device: classes, power, boot configuration, enumeration
//! contexts and `ReturnValue`s. Written from PROTOCOLS.md §2.4 and the
//! go-wsman-messages fixtures; requests are read with its own flat scan and replies
//! written as text in the fixtures' shape (prefixes `a`…`h`), sharing nothing with
//! the client's codec.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::Event;

const SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
const ADDR: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
const WSMAN: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
const ENUM: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";
const TRANSFER: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer";
const IDENTITY: &str = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd";
const CIM: &str = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
const AMT: &str = "http://intel.com/wbem/wscim/1/amt-schema/1/";
const ANON: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";

/// The sources AMT offers (fixture `gowsman_cim_boot_sourcesetting_pull.xml`).
pub(super) const SOURCES: [(&str, &str); 3] = [
    ("Intel(r) AMT: Force Hard-drive Boot", "CIM:Hard-Disk:1"),
    ("Intel(r) AMT: Force PXE Boot", "CIM:Network:1"),
    ("Intel(r) AMT: Force CD/DVD Boot", "CIM:CD/DVD:1"),
];

/// `AvailableRequestedPowerStates` while on (fixture
/// `gowsman_cim_service_availabletoelement_pull.xml`).
pub(super) const AVAILABLE_ON: [u16; 8] = [10, 8, 5, 11, 4, 7, 14, 12];
/// `AvailableRequestedPowerStates` while off.
pub(super) const AVAILABLE_OFF: [u16; 2] = [2, 5];

/// What one request said, from a flat scan of its elements.
#[derive(Debug, Default, Clone)]
pub(super) struct Parsed {
    pub(super) action: String,
    pub(super) resource_uri: String,
    pub(super) message_id: String,
    /// Header selectors.
    pub(super) selectors: Vec<(String, String)>,
    /// Local name of the body's first element.
    pub(super) body_root: String,
    /// (local name path below Body, Name attribute, text) of every element.
    pub(super) body: Vec<(Vec<String>, Option<String>, String)>,
}

impl Parsed {
    fn body_text(&self, local: &str) -> Option<&str> {
        self.body
            .iter()
            .find(|(p, _, _)| p.last().is_some_and(|l| l == local))
            .map(|(_, _, t)| t.trim())
    }

    fn has(&self, local: &str) -> bool {
        self.body
            .iter()
            .any(|(p, _, _)| p.last().is_some_and(|l| l == local))
    }

    fn selector(&self, name: &str) -> Option<&str> {
        self.selectors
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn body_selector(&self, name: &str) -> Option<&str> {
        self.body
            .iter()
            .find(|(p, n, _)| {
                p.last().is_some_and(|l| l == "Selector") && n.as_deref() == Some(name)
            })
            .map(|(_, _, t)| t.trim())
    }
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    s.rsplit(':').next().unwrap_or("").to_owned()
}

/// Scans a request envelope. `Err` carries what is wrong.
pub(super) fn scan(body: &[u8]) -> Result<Parsed, String> {
    let text = std::str::from_utf8(body).map_err(|_| "not UTF-8".to_owned())?;
    let mut r = Reader::from_str(text);
    r.config_mut().check_end_names = true;
    let mut path: Vec<String> = Vec::new();
    let mut out = Parsed::default();
    let mut saw_envelope = false;
    // (index into out.body or usize::MAX for header fields)
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut header_field: Option<String> = None;
    let mut header_selector: Option<String> = None;
    loop {
        let ev = r.read_event().map_err(|e| format!("malformed XML: {e}"))?;
        match ev {
            Event::Start(ref s) | Event::Empty(ref s) => {
                let name = local(s.name().as_ref());
                let name_attr = s
                    .attributes()
                    .flatten()
                    .find(|a| local(a.key.as_ref()) == "Name")
                    .map(|a| String::from_utf8_lossy(&a.value).into_owned());
                if path.is_empty() {
                    saw_envelope = name == "Envelope";
                }
                path.push(name.clone());
                let in_body = path.len() >= 3 && path[1] == "Body";
                let mut slot = None;
                if in_body {
                    if path.len() == 3 && out.body_root.is_empty() {
                        out.body_root = name.clone();
                    }
                    out.body
                        .push((path[2..].to_vec(), name_attr.clone(), String::new()));
                    slot = Some(out.body.len() - 1);
                } else if path.len() >= 3 && path[1] == "Header" {
                    header_field = Some(name.clone());
                    if name == "Selector" {
                        header_selector = name_attr;
                    }
                }
                if matches!(ev, Event::Empty(_)) {
                    path.pop();
                    if header_field.as_deref() == Some("Selector")
                        && let Some(n) = header_selector.take()
                    {
                        out.selectors.push((n, String::new()));
                    }
                    header_field = None;
                } else {
                    open.push(slot);
                }
            }
            Event::Text(t) => {
                let s = t.unescape().map_err(|e| format!("bad text: {e}"))?;
                if let Some(Some(i)) = open.last() {
                    out.body[*i].2.push_str(&s);
                } else if let Some(f) = &header_field {
                    let s = s.trim().to_owned();
                    match f.as_str() {
                        "Action" => out.action.push_str(&s),
                        "ResourceURI" if path.len() == 3 => out.resource_uri.push_str(&s),
                        "MessageID" => out.message_id.push_str(&s),
                        "Selector" => {
                            if let Some(n) = header_selector.take() {
                                out.selectors.push((n, s));
                            }
                        }
                        _ => {}
                    }
                }
            }
            Event::End(_) => {
                if path.len() >= 3 && path[1] == "Header" {
                    if header_field.as_deref() == Some("Selector")
                        && let Some(n) = header_selector.take()
                    {
                        out.selectors.push((n, String::new()));
                    }
                    header_field = None;
                }
                path.pop();
                open.pop();
            }
            Event::Eof => break,
            Event::DocType(_) => return Err("DOCTYPE not accepted".into()),
            _ => {}
        }
    }
    if !path.is_empty() {
        return Err("truncated request".into());
    }
    if !saw_envelope {
        return Err("not a SOAP envelope".into());
    }
    Ok(out)
}

/// An answer: a reply body (with its response action) or a fault.
#[derive(Debug)]
pub(super) enum Answer {
    /// (response action, body XML with `xmlns` declarations of its own).
    Reply(String, String),
    /// (HTTP status, code, subcode with prefix b/c/g, reason).
    Fault(u16, &'static str, String, String),
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The whole reply envelope, in the fixtures' shape.
pub(super) fn envelope(
    relates_to: &str,
    action: &str,
    resource_uri: &str,
    body: &str,
    seq: u64,
) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><a:Envelope xmlns:a="{SOAP}" xmlns:b="{ADDR}" xmlns:c="{WSMAN}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><a:Header><b:To>{ANON}</b:To><b:RelatesTo>{}</b:RelatesTo><b:Action a:mustUnderstand="true">{}</b:Action><b:MessageID>uuid:00000000-8086-8086-8086-{seq:012X}</b:MessageID><c:ResourceURI>{}</c:ResourceURI></a:Header><a:Body>{body}</a:Body></a:Envelope>"#,
        esc(relates_to),
        esc(action),
        esc(resource_uri)
    )
}

/// A fault envelope.
pub(super) fn fault_envelope(relates_to: &str, code: &str, subcode: &str, reason: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><a:Envelope xmlns:a="{SOAP}" xmlns:b="{ADDR}" xmlns:c="{WSMAN}" xmlns:g="{ENUM}"><a:Header><b:To>{ANON}</b:To><b:RelatesTo>{}</b:RelatesTo><b:Action a:mustUnderstand="true">http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</b:Action></a:Header><a:Body><a:Fault><a:Code><a:Value>a:{code}</a:Value><a:Subcode><a:Value>{}</a:Value></a:Subcode></a:Code><a:Reason><a:Text xml:lang="en-US">{}</a:Text></a:Reason><a:Detail></a:Detail></a:Fault></a:Body></a:Envelope>"#,
        esc(relates_to),
        esc(subcode),
        esc(reason)
    )
}

/// The AMT model.
#[derive(Debug)]
pub(super) struct Device {
    pub(super) power_state: u16,
    /// `ChangeBootOrder`'s source (InstanceID), or none (order cleared).
    pub(super) boot_order: Option<String>,
    /// `SetBootConfigRole(1)` was called: the order applies to the next boot only.
    pub(super) one_shot_armed: bool,
    /// `AMT_BootSettingData` fields in order (BIOSSetup among them).
    pub(super) setting_data: Vec<(String, String)>,
    /// What each boot booted from (`pxe`, `disk`, `cdrom`, `bios`).
    pub(super) boots: Vec<String>,
    /// Enumeration contexts: id → items left.
    contexts: HashMap<String, Vec<String>>,
    next_context: u64,
    /// Items per page (Pull and optimized Enumerate).
    pub(super) page_size: usize,
    /// The next Invoke answers this `ReturnValue`.
    pub(super) forced_return_value: Option<u32>,
    pub(super) seq: u64,
}

fn default_setting_data() -> Vec<(String, String)> {
    // The fixture gowsman_amt_boot_settingdata_get.xml, in its order (BIOSLastStatus
    // is an array; kept as its first value).
    [
        ("BIOSPause", "false"),
        ("BIOSSetup", "false"),
        ("BootMediaIndex", "0"),
        ("ConfigurationDataReset", "false"),
        ("ElementName", "Intel(r) AMT Boot Configuration Settings"),
        ("EnforceSecureBoot", "false"),
        ("FirmwareVerbosity", "0"),
        ("ForcedProgressEvents", "false"),
        ("IDERBootDevice", "0"),
        ("InstanceID", "Intel(r) AMT:BootSettingData 0"),
        ("LockKeyboard", "false"),
        ("LockPowerButton", "false"),
        ("LockResetButton", "false"),
        ("LockSleepButton", "false"),
        ("OwningEntity", "Intel(r) AMT"),
        ("ReflashBIOS", "false"),
        ("SecureErase", "false"),
        ("UseIDER", "false"),
        ("UseSOL", "false"),
        ("UseSafeMode", "false"),
        ("UserPasswordBypass", "false"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

impl Device {
    pub(super) fn new(on: bool) -> Self {
        Device {
            power_state: if on { 2 } else { 8 },
            boot_order: None,
            one_shot_armed: false,
            setting_data: default_setting_data(),
            boots: Vec::new(),
            contexts: HashMap::new(),
            next_context: 0xDD02,
            page_size: 999,
            forced_return_value: None,
            seq: 0xE91,
        }
    }

    pub(super) fn available(&self) -> &'static [u16] {
        if self.power_state == 2 {
            &AVAILABLE_ON
        } else {
            &AVAILABLE_OFF
        }
    }

    fn bios_setup(&self) -> bool {
        self.setting_data
            .iter()
            .any(|(k, v)| k == "BIOSSetup" && v == "true")
    }

    /// The host boots: from the armed one-shot source, else the disk; AMT then
    /// forgets the one-shot configuration (and BIOSSetup).
    fn boot(&mut self) {
        let from = if self.one_shot_armed && self.bios_setup() {
            "bios"
        } else if self.one_shot_armed {
            match self.boot_order.as_deref() {
                Some("Intel(r) AMT: Force PXE Boot") => "pxe",
                Some("Intel(r) AMT: Force CD/DVD Boot") => "cdrom",
                _ => "disk",
            }
        } else {
            "disk"
        };
        self.boots.push(from.to_owned());
        self.one_shot_armed = false;
        self.boot_order = None;
        for (k, v) in &mut self.setting_data {
            if k == "BIOSSetup" {
                *v = "false".into();
            }
        }
    }

    fn item_power(&self) -> String {
        let ns = format!("{CIM}CIM_AssociatedPowerManagementService");
        let mut s = format!(r#"<h:CIM_AssociatedPowerManagementService xmlns:h="{ns}">"#);
        for a in self.available() {
            s.push_str(&format!(
                "<h:AvailableRequestedPowerStates>{a}</h:AvailableRequestedPowerStates>"
            ));
        }
        s.push_str(&format!(
            "<h:PowerState>{}</h:PowerState><h:ServiceProvided><b:Address>{ANON}</b:Address><b:ReferenceParameters><c:ResourceURI>{CIM}CIM_PowerManagementService</c:ResourceURI><c:SelectorSet><c:Selector Name=\"CreationClassName\">CIM_PowerManagementService</c:Selector><c:Selector Name=\"Name\">Intel(r) AMT Power Management Service</c:Selector><c:Selector Name=\"SystemCreationClassName\">CIM_ComputerSystem</c:Selector><c:Selector Name=\"SystemName\">Intel(r) AMT</c:Selector></c:SelectorSet></b:ReferenceParameters></h:ServiceProvided><h:UserOfService><b:Address>{ANON}</b:Address><b:ReferenceParameters><c:ResourceURI>{CIM}CIM_ComputerSystem</c:ResourceURI><c:SelectorSet><c:Selector Name=\"CreationClassName\">CIM_ComputerSystem</c:Selector><c:Selector Name=\"Name\">ManagedSystem</c:Selector></c:SelectorSet></b:ReferenceParameters></h:UserOfService></h:CIM_AssociatedPowerManagementService>",
            self.power_state
        ));
        s
    }

    fn items_of(&self, class: &str) -> Option<Vec<String>> {
        match class {
            // Enumerating the association class returns its subclass instance
            // (fixture gowsman_cim_service_availabletoelement_pull.xml).
            "CIM_AssociatedPowerManagementService" | "CIM_ServiceAvailableToElement" => {
                Some(vec![self.item_power()])
            }
            "CIM_BootSourceSetting" => Some(
                SOURCES
                    .iter()
                    .map(|(id, s)| {
                        format!(
                            r#"<h:CIM_BootSourceSetting xmlns:h="{CIM}CIM_BootSourceSetting"><h:ElementName>Intel(r) AMT: Boot Source</h:ElementName><h:FailThroughSupported>2</h:FailThroughSupported><h:InstanceID>{}</h:InstanceID><h:StructuredBootString>{}</h:StructuredBootString></h:CIM_BootSourceSetting>"#,
                            esc(id),
                            esc(s)
                        )
                    })
                    .collect(),
            ),
            // Singletons: their one instance.
            "CIM_PowerManagementService" | "CIM_BootService" | "CIM_BootConfigSetting" => {
                self.get(class).map(|i| vec![i])
            }
            _ => None,
        }
    }

    /// The endpoint reference of a class's instance (`EnumerationMode` `EnumerateEPR`).
    fn eprs_of(&self, class: &str) -> Option<Vec<String>> {
        let sel = |pairs: &[(&str, &str)]| {
            let mut s = format!(
                "<b:EndpointReference><b:Address>{ANON}</b:Address><b:ReferenceParameters><c:ResourceURI>{CIM}{class}</c:ResourceURI><c:SelectorSet>"
            );
            for (k, v) in pairs {
                s.push_str(&format!("<c:Selector Name=\"{k}\">{}</c:Selector>", esc(v)));
            }
            s.push_str("</c:SelectorSet></b:ReferenceParameters></b:EndpointReference>");
            s
        };
        Some(match class {
            "CIM_PowerManagementService" => vec![sel(&[
                ("CreationClassName", "CIM_PowerManagementService"),
                ("Name", "Intel(r) AMT Power Management Service"),
                ("SystemCreationClassName", "CIM_ComputerSystem"),
                ("SystemName", "Intel(r) AMT"),
            ])],
            "CIM_BootService" => vec![sel(&[
                ("CreationClassName", "CIM_BootService"),
                ("Name", "Intel(r) AMT Boot Service"),
                ("SystemCreationClassName", "CIM_ComputerSystem"),
                ("SystemName", "Intel(r) AMT"),
            ])],
            "CIM_BootConfigSetting" => {
                vec![sel(&[("InstanceID", "Intel(r) AMT: Boot Configuration 0")])]
            }
            "CIM_BootSourceSetting" => SOURCES
                .iter()
                .map(|(id, _)| sel(&[("InstanceID", id)]))
                .collect(),
            _ => return None,
        })
    }

    fn get(&self, class: &str) -> Option<String> {
        let ns = if class.starts_with("AMT_") {
            format!("{AMT}{class}")
        } else {
            format!("{CIM}{class}")
        };
        let fields = |pairs: &[(&str, String)]| {
            let mut s = format!(r#"<g:{class} xmlns:g="{ns}">"#);
            for (k, v) in pairs {
                s.push_str(&format!("<g:{k}>{}</g:{k}>", esc(v)));
            }
            s.push_str(&format!("</g:{class}>"));
            s
        };
        Some(match class {
            "CIM_AssociatedPowerManagementService" => self.item_power(),
            "CIM_PowerManagementService" => fields(&[
                ("CreationClassName", "CIM_PowerManagementService".into()),
                (
                    "ElementName",
                    "Intel(r) AMT Power Management Service".into(),
                ),
                ("EnabledState", "5".into()),
                ("Name", "Intel(r) AMT Power Management Service".into()),
                ("RequestedState", "12".into()),
                ("SystemCreationClassName", "CIM_ComputerSystem".into()),
                ("SystemName", "Intel(r) AMT".into()),
            ]),
            "CIM_BootService" => fields(&[
                ("CreationClassName", "CIM_BootService".into()),
                ("ElementName", "Intel(r) AMT Boot Service".into()),
                ("EnabledState", "2".into()),
                ("Name", "Intel(r) AMT Boot Service".into()),
                ("OperationalStatus", "0".into()),
                ("RequestedState", "12".into()),
                ("SystemCreationClassName", "CIM_ComputerSystem".into()),
                ("SystemName", "Intel(r) AMT".into()),
            ]),
            "CIM_BootConfigSetting" => fields(&[
                ("ElementName", "Intel(r) AMT: Boot Configuration".into()),
                ("InstanceID", "Intel(r) AMT: Boot Configuration 0".into()),
            ]),
            "AMT_BootSettingData" => {
                let pairs: Vec<(&str, String)> = self
                    .setting_data
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.clone()))
                    .collect();
                fields(&pairs)
            }
            "AMT_BootCapabilities" => fields(&[
                ("BIOSSetup", "true".into()),
                ("ElementName", "Intel(r) AMT: Boot Capabilities".into()),
                ("ForceCDorDVDBoot", "true".into()),
                ("ForceHardDriveBoot", "true".into()),
                ("ForcePXEBoot", "true".into()),
                ("InstanceID", "Intel(r) AMT:BootCapabilities 0".into()),
            ]),
            _ => return None,
        })
    }

    fn output(&mut self, class: &str, method: &str, value: u32) -> Answer {
        let value = self.forced_return_value.take().unwrap_or(value);
        Answer::Reply(
            format!("{CIM}{class}/{method}Response"),
            format!(
                r#"<g:{method}_OUTPUT xmlns:g="{CIM}{class}"><g:ReturnValue>{value}</g:ReturnValue></g:{method}_OUTPUT>"#
            ),
        )
    }

    fn page(&mut self, mut items: Vec<String>, optimized: bool) -> String {
        let n = items.len().min(self.page_size);
        let rest = items.split_off(n);
        let joined = items.concat();
        if optimized {
            if rest.is_empty() {
                return format!(
                    "<g:EnumerateResponse xmlns:g=\"{ENUM}\"><c:Items>{joined}</c:Items><c:EndOfSequence/></g:EnumerateResponse>"
                );
            }
            let ctx = self.new_context(rest);
            return format!(
                "<g:EnumerateResponse xmlns:g=\"{ENUM}\"><g:EnumerationContext>{ctx}</g:EnumerationContext><c:Items>{joined}</c:Items></g:EnumerateResponse>"
            );
        }
        if rest.is_empty() {
            format!(
                "<g:PullResponse xmlns:g=\"{ENUM}\"><g:Items>{joined}</g:Items><g:EndOfSequence></g:EndOfSequence></g:PullResponse>"
            )
        } else {
            let ctx = self.new_context(rest);
            format!(
                "<g:PullResponse xmlns:g=\"{ENUM}\"><g:EnumerationContext>{ctx}</g:EnumerationContext><g:Items>{joined}</g:Items></g:PullResponse>"
            )
        }
    }

    fn new_context(&mut self, items: Vec<String>) -> String {
        self.next_context += 1;
        let id = format!("{:08X}-0000-0000-0000-000000000000", self.next_context);
        self.contexts.insert(id.clone(), items);
        id
    }

    /// Answers one request.
    pub(super) fn handle(&mut self, p: &Parsed) -> Answer {
        self.seq += 1;
        if p.body_root == "Identify" {
            return Answer::Reply(
                String::new(),
                format!(
                    r#"<g:IdentifyResponse xmlns:g="{IDENTITY}"><g:ProtocolVersion>http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd</g:ProtocolVersion><g:ProductVendor>Intel Corporation</g:ProductVendor><g:ProductVersion>AMT 11.8</g:ProductVersion><g:SecurityProfiles><g:SecurityProfileName>http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/digest</g:SecurityProfileName></g:SecurityProfiles></g:IdentifyResponse>"#
                ),
            );
        }
        let class = p
            .resource_uri
            .strip_prefix(CIM)
            .or_else(|| p.resource_uri.strip_prefix(AMT))
            .unwrap_or("")
            .to_owned();
        let unreachable = || {
            Answer::Fault(
                400,
                "Sender",
                "b:DestinationUnreachable".into(),
                format!("No route can be determined to reach {}", p.resource_uri),
            )
        };
        let action = p.action.as_str();
        if action == format!("{TRANSFER}/Get") {
            return match self.get(&class) {
                Some(body) => Answer::Reply(format!("{TRANSFER}/GetResponse"), body),
                None => unreachable(),
            };
        }
        if action == format!("{TRANSFER}/Put") {
            if class != "AMT_BootSettingData" {
                return Answer::Fault(
                    400,
                    "Sender",
                    "b:ActionNotSupported".into(),
                    format!("Put is not supported on {class}"),
                );
            }
            for (path, _, text) in &p.body {
                if path.len() == 2
                    && let Some(slot) = self.setting_data.iter_mut().find(|(k, _)| *k == path[1])
                {
                    slot.1 = text.trim().to_owned();
                }
            }
            let body = self.get(&class).unwrap_or_default();
            return Answer::Reply(format!("{TRANSFER}/PutResponse"), body);
        }
        if action == format!("{ENUM}/Enumerate") {
            let epr = p.body_text("EnumerationMode") == Some("EnumerateEPR");
            let items = if epr {
                self.eprs_of(&class)
            } else {
                self.items_of(&class)
            };
            let Some(items) = items else {
                return unreachable();
            };
            let optimized = p.has("OptimizeEnumeration");
            if optimized {
                let body = self.page(items, true);
                return Answer::Reply(format!("{ENUM}/EnumerateResponse"), body);
            }
            let ctx = self.new_context(items);
            return Answer::Reply(
                format!("{ENUM}/EnumerateResponse"),
                format!(
                    "<g:EnumerateResponse xmlns:g=\"{ENUM}\"><g:EnumerationContext>{ctx}</g:EnumerationContext></g:EnumerateResponse>"
                ),
            );
        }
        if action == format!("{ENUM}/Pull") {
            let ctx = p.body_text("EnumerationContext").unwrap_or("").to_owned();
            let Some(items) = self.contexts.remove(&ctx) else {
                return Answer::Fault(
                    400,
                    "Sender",
                    "g:InvalidEnumerationContext".into(),
                    "The supplied enumeration context is invalid.".into(),
                );
            };
            let body = self.page(items, false);
            return Answer::Reply(format!("{ENUM}/PullResponse"), body);
        }
        // Invoke: <resource>/<Method>.
        let Some(method) = action
            .strip_prefix(p.resource_uri.as_str())
            .and_then(|m| m.strip_prefix('/'))
            .filter(|m| !p.resource_uri.is_empty() && !m.is_empty())
            .map(str::to_owned)
        else {
            return Answer::Fault(
                400,
                "Sender",
                "b:ActionNotSupported".into(),
                format!("The action {action} is not supported by the service."),
            );
        };
        if p.body_root != format!("{method}_INPUT") {
            return Answer::Fault(
                400,
                "Sender",
                "c:SchemaValidationError".into(),
                format!("expected {method}_INPUT in the body"),
            );
        }
        match (class.as_str(), method.as_str()) {
            ("CIM_PowerManagementService", "RequestPowerStateChange") => {
                let Some(state) = p
                    .body_text("PowerState")
                    .and_then(|s| s.parse::<u16>().ok())
                else {
                    return self.output(&class, &method, 5);
                };
                if !self.available().contains(&state) {
                    return self.output(&class, &method, 2);
                }
                if self.forced_return_value.is_some() {
                    return self.output(&class, &method, 0);
                }
                match state {
                    2 => {
                        self.power_state = 2;
                        self.boot();
                    }
                    8 | 6 | 12 | 13 => self.power_state = 8,
                    5 | 9 | 10 | 14 | 15 | 16 => {
                        self.power_state = 2;
                        self.boot();
                    }
                    _ => {}
                }
                self.output(&class, &method, 0)
            }
            ("CIM_BootConfigSetting", "ChangeBootOrder") => {
                if p.selector("InstanceID")
                    .is_some_and(|s| s != "Intel(r) AMT: Boot Configuration 0")
                {
                    return Answer::Fault(
                        400,
                        "Sender",
                        "c:InvalidSelectors".into(),
                        "The selectors for the resource are not valid.".into(),
                    );
                }
                match p.body_selector("InstanceID") {
                    None => {
                        self.boot_order = None;
                        self.output(&class, &method, 0)
                    }
                    Some(id) if SOURCES.iter().any(|(s, _)| *s == id) => {
                        self.boot_order = Some(id.to_owned());
                        self.output(&class, &method, 0)
                    }
                    Some(_) => self.output(&class, &method, 5),
                }
            }
            ("CIM_BootService", "SetBootConfigRole") => {
                if p.body_text("Role") != Some("1")
                    || p.body_selector("InstanceID") != Some("Intel(r) AMT: Boot Configuration 0")
                {
                    return self.output(&class, &method, 5);
                }
                self.one_shot_armed = true;
                self.output(&class, &method, 0)
            }
            _ => Answer::Fault(
                400,
                "Sender",
                "b:ActionNotSupported".into(),
                format!("The action {action} is not supported by the service."),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scans_maas_bodies() {
        let body = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/maas_amt.wsman-pxe.xml"
        ))
        .unwrap();
        let env = format!(
            r#"<s:Envelope xmlns:s="{SOAP}" xmlns:wsa="{ADDR}" xmlns:wsman="{WSMAN}"><s:Header><wsa:Action>{CIM}CIM_BootConfigSetting/ChangeBootOrder</wsa:Action><wsman:ResourceURI>{CIM}CIM_BootConfigSetting</wsman:ResourceURI><wsman:SelectorSet><wsman:Selector Name="InstanceID">Intel(r) AMT: Boot Configuration 0</wsman:Selector></wsman:SelectorSet></s:Header><s:Body>{body}</s:Body></s:Envelope>"#
        );
        let p = scan(env.as_bytes()).unwrap();
        assert_eq!(p.body_root, "ChangeBootOrder_INPUT");
        assert_eq!(
            p.body_selector("InstanceID"),
            Some("Intel(r) AMT: Force PXE Boot")
        );
        assert_eq!(
            p.selector("InstanceID"),
            Some("Intel(r) AMT: Boot Configuration 0")
        );
        let mut d = Device::new(false);
        assert!(matches!(d.handle(&p), Answer::Reply(..)));
        assert_eq!(
            d.boot_order.as_deref(),
            Some("Intel(r) AMT: Force PXE Boot")
        );
    }
}
