//! WS-Management on the wire: the only place that knows XML. Pure functions:
//! [`WsmanRequest`] builds a SOAP 1.2 envelope with quick-xml's writer;
//! [`parse_reply`] and the typed decoders read replies by namespace URI and local
//! name (prefixes are never assumed).
//!
//! Sources: DMTF DSP0226 (WS-Management), the request envelope of Intel's
//! go-wsman-messages (`internal/message/wsman.go`), the bodies of MAAS's
//! `amt.wsman-*.xml` templates and Ironic's staging driver (see
//! `../shared/PROTOCOLS.md` §2.4).
//!
//! ```
//! use hwctl_amt::wire::{self, Envelope, WsmanRequest};
//! let envelope = WsmanRequest::identify().to_xml();
//! assert!(String::from_utf8_lossy(&envelope).contains(wire::NS_IDENTITY));
//! let reply = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>"#;
//! assert!(matches!(wire::parse_envelope(reply)?, Envelope::Reply(_)));
//! # Ok::<(), hwctl_core::Error>(())
//! ```

pub mod xml;

use std::io::Cursor;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use hwctl_core::{Error, ErrorKind, Result};

pub use xml::Element;

/// SOAP 1.2 envelope namespace.
pub const NS_SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
/// WS-Addressing (2004/08), as AMT uses it.
pub const NS_ADDRESSING: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
/// WS-Management.
pub const NS_WSMAN: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
/// WS-Enumeration (2004/09).
pub const NS_ENUMERATION: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";
/// WS-Management identity (`Identify`).
pub const NS_IDENTITY: &str = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd";
/// XML Schema instance.
pub const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// XML Schema.
pub const NS_XSD: &str = "http://www.w3.org/2001/XMLSchema";

/// The anonymous WS-Addressing role (`ReplyTo` and EPR addresses).
pub const ANONYMOUS: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";

/// Prefix of DMTF CIM class resource URIs.
pub const CIM: &str = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
/// Prefix of Intel AMT class resource URIs.
pub const AMT: &str = "http://intel.com/wbem/wscim/1/amt-schema/1/";

/// WS-Transfer Get.
pub const ACTION_GET: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get";
/// WS-Transfer Put.
pub const ACTION_PUT: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put";
/// WS-Enumeration Enumerate.
pub const ACTION_ENUMERATE: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate";
/// WS-Enumeration Pull.
pub const ACTION_PULL: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull";

/// The operation timeout every request carries (go-wsman-messages': 60 s).
pub const OPERATION_TIMEOUT: &str = "PT60S";
/// Items asked per Pull (go-wsman-messages').
pub const PULL_MAX_ELEMENTS: u32 = 999;
/// Characters asked per Pull (go-wsman-messages').
pub const PULL_MAX_CHARACTERS: u32 = 99_999;

/// Resource URIs used by the driver.
///
/// ```
/// use hwctl_amt::wire::{AMT, CIM, class};
/// assert!(class::POWER_MANAGEMENT_SERVICE.starts_with(CIM));
/// assert!(class::BOOT_SETTING_DATA.starts_with(AMT));
/// assert!(class::BOOT_SERVICE.ends_with("/CIM_BootService"));
/// ```
pub mod class {
    /// `CIM_AssociatedPowerManagementService` (power state read).
    pub const ASSOCIATED_POWER_MANAGEMENT_SERVICE: &str =
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AssociatedPowerManagementService";
    /// `CIM_PowerManagementService` (`RequestPowerStateChange`).
    pub const POWER_MANAGEMENT_SERVICE: &str =
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService";
    /// `CIM_ComputerSystem` (the managed element).
    pub const COMPUTER_SYSTEM: &str =
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystem";
    /// `CIM_BootConfigSetting` (`ChangeBootOrder`).
    pub const BOOT_CONFIG_SETTING: &str =
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootConfigSetting";
    /// `CIM_BootSourceSetting` (the boot sources).
    pub const BOOT_SOURCE_SETTING: &str =
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootSourceSetting";
    /// `CIM_BootService` (`SetBootConfigRole`).
    pub const BOOT_SERVICE: &str =
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootService";
    /// `AMT_BootSettingData` (BIOS setup and other one-boot flags).
    pub const BOOT_SETTING_DATA: &str =
        "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_BootSettingData";
    /// `AMT_BootCapabilities`.
    pub const BOOT_CAPABILITIES: &str =
        "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_BootCapabilities";
}

/// `InstanceID` of AMT's one boot configuration (ISD, MAAS).
pub const BOOT_CONFIGURATION_0: &str = "Intel(r) AMT: Boot Configuration 0";
/// `InstanceID` of `AMT_BootSettingData`.
pub const BOOT_SETTING_DATA_0: &str = "Intel(r) AMT:BootSettingData 0";
/// `Name` of the power management service (ISD's selector).
pub const POWER_MANAGEMENT_SERVICE_NAME: &str = "Intel(r) AMT Power Management Service";
/// `Name` of the boot service (ISD's selector).
pub const BOOT_SERVICE_NAME: &str = "Intel(r) AMT Boot Service";

/// A boot source AMT can be forced to (`CIM_BootSourceSetting.InstanceID`).
///
/// ```
/// use hwctl_amt::wire::BootSource;
/// let id = BootSource::Pxe.instance_id();
/// assert_eq!(id, "Intel(r) AMT: Force PXE Boot");
/// assert_eq!(BootSource::from_instance_id(id), Some(BootSource::Pxe));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BootSource {
    /// `Intel(r) AMT: Force PXE Boot`.
    Pxe,
    /// `Intel(r) AMT: Force Hard-drive Boot`.
    HardDrive,
    /// `Intel(r) AMT: Force CD/DVD Boot`.
    CdDvd,
}

impl BootSource {
    /// The `InstanceID` of the source.
    ///
    /// ```
    /// use hwctl_amt::wire::BootSource;
    /// assert_eq!(BootSource::HardDrive.instance_id(), "Intel(r) AMT: Force Hard-drive Boot");
    /// assert_eq!(BootSource::CdDvd.instance_id(), "Intel(r) AMT: Force CD/DVD Boot");
    /// ```
    pub fn instance_id(self) -> &'static str {
        match self {
            BootSource::Pxe => "Intel(r) AMT: Force PXE Boot",
            BootSource::HardDrive => "Intel(r) AMT: Force Hard-drive Boot",
            BootSource::CdDvd => "Intel(r) AMT: Force CD/DVD Boot",
        }
    }

    /// The source of an `InstanceID`.
    ///
    /// ```
    /// use hwctl_amt::wire::BootSource;
    /// let cd = BootSource::from_instance_id("Intel(r) AMT: Force CD/DVD Boot");
    /// assert_eq!(cd, Some(BootSource::CdDvd));
    /// assert_eq!(BootSource::from_instance_id("Intel(r) AMT: Force Floppy Boot"), None);
    /// ```
    pub fn from_instance_id(id: &str) -> Option<Self> {
        [BootSource::Pxe, BootSource::HardDrive, BootSource::CdDvd]
            .into_iter()
            .find(|s| s.instance_id() == id)
    }
}

/// One `wsman:Selector`.
///
/// ```
/// use hwctl_amt::wire::{WsmanRequest, class};
/// let request = WsmanRequest::get(class::COMPUTER_SYSTEM).selector("Name", "ManagedSystem");
/// let xml = String::from_utf8_lossy(&request.to_xml()).into_owned();
/// assert!(xml.contains(r#"<w:Selector Name="Name">ManagedSystem</w:Selector>"#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// The `Name` attribute.
    pub name: String,
    /// The text.
    pub value: String,
}

impl Selector {
    /// `Name=value`.
    ///
    /// ```
    /// use hwctl_amt::wire::{BOOT_CONFIGURATION_0, Selector};
    /// let s = Selector::new("InstanceID", BOOT_CONFIGURATION_0);
    /// assert_eq!(s.name, "InstanceID");
    /// assert_eq!(s.value, "Intel(r) AMT: Boot Configuration 0");
    /// ```
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Selector {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// An element of a request body (qualified names carry their prefix; the envelope
/// declares `a` = addressing, `w` = wsman; a body element declares its own class
/// prefix with an `xmlns:…` attribute).
///
/// ```
/// use hwctl_amt::wire::{BodyElement, WsmanRequest, class};
/// let instance = BodyElement::new("h:AMT_BootSettingData")
///     .attr("xmlns:h", class::BOOT_SETTING_DATA)
///     .child(BodyElement::new("h:BIOSSetup").text("true"));
/// let xml = WsmanRequest::put(class::BOOT_SETTING_DATA, instance).to_xml();
/// assert!(String::from_utf8_lossy(&xml).contains("<h:BIOSSetup>true</h:BIOSSetup>"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyElement {
    /// Qualified name, such as `h:PowerState`.
    pub name: String,
    /// Attributes (including namespace declarations).
    pub attributes: Vec<(String, String)>,
    /// Text (escaped when written), if any.
    pub text: Option<String>,
    /// Child elements.
    pub children: Vec<BodyElement>,
}

impl BodyElement {
    /// An empty element.
    ///
    /// ```
    /// use hwctl_amt::wire::BodyElement;
    /// let e = BodyElement::new("w:OptimizeEnumeration");
    /// assert_eq!(e.name, "w:OptimizeEnumeration");
    /// assert!(e.text.is_none() && e.children.is_empty() && e.attributes.is_empty());
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        BodyElement {
            name: name.into(),
            attributes: Vec::new(),
            text: None,
            children: Vec::new(),
        }
    }

    /// With an attribute.
    ///
    /// ```
    /// use hwctl_amt::wire::BodyElement;
    /// let e = BodyElement::new("w:Selector").attr("Name", "InstanceID");
    /// assert_eq!(e.attributes, [("Name".to_owned(), "InstanceID".to_owned())]);
    /// ```
    pub fn attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push((name.into(), value.into()));
        self
    }

    /// With text.
    ///
    /// ```
    /// use hwctl_amt::wire::BodyElement;
    /// assert_eq!(BodyElement::new("h:Role").text("1").text.as_deref(), Some("1"));
    /// ```
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// With a child.
    ///
    /// ```
    /// use hwctl_amt::wire::BodyElement;
    /// let e = BodyElement::new("a:ReplyTo").child(BodyElement::new("a:Address"));
    /// assert_eq!(e.children.len(), 1);
    /// assert_eq!(e.children[0].name, "a:Address");
    /// ```
    pub fn child(mut self, child: BodyElement) -> Self {
        self.children.push(child);
        self
    }

    fn write(&self, w: &mut Writer<Cursor<Vec<u8>>>) -> std::io::Result<()> {
        let mut start = BytesStart::new(self.name.as_str());
        for (k, v) in &self.attributes {
            start.push_attribute((k.as_str(), v.as_str()));
        }
        if self.text.is_none() && self.children.is_empty() {
            return w.write_event(Event::Empty(start));
        }
        w.write_event(Event::Start(start))?;
        if let Some(t) = &self.text {
            w.write_event(Event::Text(BytesText::new(t)))?;
        }
        for c in &self.children {
            c.write(w)?;
        }
        w.write_event(Event::End(BytesEnd::new(self.name.as_str())))
    }
}

/// An endpoint reference (`a:Address` + `a:ReferenceParameters`) as a body child
/// named `name`.
///
/// ```
/// use hwctl_amt::wire::{ANONYMOUS, Selector, class, endpoint_reference};
/// let id = Selector::new("InstanceID", "Intel(r) AMT: Force PXE Boot");
/// let epr = endpoint_reference("h:Source", class::BOOT_SOURCE_SETTING, &[id]);
/// assert_eq!(epr.name, "h:Source");
/// assert_eq!(epr.children[0].text.as_deref(), Some(ANONYMOUS));
/// let params = &epr.children[1];
/// assert_eq!(params.children[0].text.as_deref(), Some(class::BOOT_SOURCE_SETTING));
/// let selector = &params.children[1].children[0];
/// assert_eq!(selector.text.as_deref(), Some("Intel(r) AMT: Force PXE Boot"));
/// ```
pub fn endpoint_reference(name: &str, resource_uri: &str, selectors: &[Selector]) -> BodyElement {
    let mut set = BodyElement::new("w:SelectorSet");
    for s in selectors {
        set = set.child(
            BodyElement::new("w:Selector")
                .attr("Name", s.name.clone())
                .text(s.value.clone()),
        );
    }
    BodyElement::new(name)
        .child(BodyElement::new("a:Address").text(ANONYMOUS))
        .child(
            BodyElement::new("a:ReferenceParameters")
                .child(BodyElement::new("w:ResourceURI").text(resource_uri))
                .child(set),
        )
}

/// One WS-Management request.
///
/// ```
/// use hwctl_amt::wire::{ACTION_GET, WsmanRequest, class};
/// let request = WsmanRequest::get(class::BOOT_CAPABILITIES).message_id(7);
/// let xml = String::from_utf8_lossy(&request.to_xml()).into_owned();
/// assert!(xml.contains(&format!("<a:Action>{ACTION_GET}</a:Action>")));
/// assert!(xml.contains(&format!("<w:ResourceURI>{}</w:ResourceURI>", class::BOOT_CAPABILITIES)));
/// assert!(xml.contains("<a:MessageID>7</a:MessageID>"));
/// assert!(xml.contains("<w:OperationTimeout>PT60S</w:OperationTimeout>"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsmanRequest {
    /// `a:Action` (`None` for `Identify`, which has no addressing headers).
    pub action: Option<String>,
    /// `w:ResourceURI`.
    pub resource_uri: Option<String>,
    /// `a:MessageID`.
    pub message_id: u64,
    /// `w:SelectorSet`.
    pub selectors: Vec<Selector>,
    /// The body's elements.
    pub body: Vec<BodyElement>,
}

impl WsmanRequest {
    fn new(action: String, resource_uri: &str) -> Self {
        WsmanRequest {
            action: Some(action),
            resource_uri: Some(resource_uri.to_owned()),
            message_id: 0,
            selectors: Vec::new(),
            body: Vec::new(),
        }
    }

    /// WS-Transfer Get of `resource_uri`.
    ///
    /// ```
    /// use hwctl_amt::wire::{ACTION_GET, WsmanRequest, class};
    /// let request = WsmanRequest::get(class::BOOT_SETTING_DATA);
    /// assert_eq!(request.action.as_deref(), Some(ACTION_GET));
    /// assert_eq!(request.resource_uri.as_deref(), Some(class::BOOT_SETTING_DATA));
    /// assert!(request.body.is_empty());
    /// ```
    pub fn get(resource_uri: &str) -> Self {
        WsmanRequest::new(ACTION_GET.to_owned(), resource_uri)
    }

    /// WS-Transfer Put of `resource_uri` with `instance` as the body.
    ///
    /// ```
    /// use hwctl_amt::wire::{ACTION_PUT, BodyElement, WsmanRequest, class};
    /// let request = WsmanRequest::put(class::BOOT_SETTING_DATA, BodyElement::new("h:AMT_BootSettingData"));
    /// assert_eq!(request.action.as_deref(), Some(ACTION_PUT));
    /// assert_eq!(request.operation(), "Put");
    /// assert_eq!(request.body[0].name, "h:AMT_BootSettingData");
    /// ```
    pub fn put(resource_uri: &str, instance: BodyElement) -> Self {
        let mut r = WsmanRequest::new(ACTION_PUT.to_owned(), resource_uri);
        r.body.push(instance);
        r
    }

    /// WS-Enumeration Enumerate; `optimize` asks for the first items in the reply
    /// (DSP0226 `w:OptimizeEnumeration`, MAAS's `wsman --optimize`).
    ///
    /// ```
    /// use hwctl_amt::wire::{ACTION_ENUMERATE, WsmanRequest, class};
    /// let uri = class::ASSOCIATED_POWER_MANAGEMENT_SERVICE;
    /// let optimized = String::from_utf8_lossy(&WsmanRequest::enumerate(uri, true).to_xml()).into_owned();
    /// assert!(optimized.contains(ACTION_ENUMERATE));
    /// assert!(optimized.contains("<w:OptimizeEnumeration/>"));
    /// assert!(optimized.contains("<w:MaxElements>999</w:MaxElements>"));
    /// let plain = WsmanRequest::enumerate(uri, false).to_xml();
    /// assert!(!String::from_utf8_lossy(&plain).contains("OptimizeEnumeration"));
    /// ```
    pub fn enumerate(resource_uri: &str, optimize: bool) -> Self {
        let mut r = WsmanRequest::new(ACTION_ENUMERATE.to_owned(), resource_uri);
        let mut e = BodyElement::new("Enumerate").attr("xmlns", NS_ENUMERATION);
        if optimize {
            e = e
                .child(BodyElement::new("w:OptimizeEnumeration"))
                .child(BodyElement::new("w:MaxElements").text(PULL_MAX_ELEMENTS.to_string()));
        }
        r.body.push(e);
        r
    }

    /// WS-Enumeration Pull with `context`.
    ///
    /// ```
    /// use hwctl_amt::wire::{ACTION_PULL, WsmanRequest, class};
    /// let request = WsmanRequest::pull(class::ASSOCIATED_POWER_MANAGEMENT_SERVICE, "ctx-1");
    /// let xml = String::from_utf8_lossy(&request.to_xml()).into_owned();
    /// assert!(xml.contains(ACTION_PULL));
    /// assert!(xml.contains("<EnumerationContext>ctx-1</EnumerationContext>"));
    /// assert!(xml.contains("<MaxCharacters>99999</MaxCharacters>"));
    /// ```
    pub fn pull(resource_uri: &str, context: &str) -> Self {
        let mut r = WsmanRequest::new(ACTION_PULL.to_owned(), resource_uri);
        r.body.push(
            BodyElement::new("Pull")
                .attr("xmlns", NS_ENUMERATION)
                .child(BodyElement::new("EnumerationContext").text(context))
                .child(BodyElement::new("MaxElements").text(PULL_MAX_ELEMENTS.to_string()))
                .child(BodyElement::new("MaxCharacters").text(PULL_MAX_CHARACTERS.to_string())),
        );
        r
    }

    /// Invoke `method` on `resource_uri` (action `<resource_uri>/<method>`) with
    /// `<h:<method>_INPUT xmlns:h="<resource_uri>">` holding `inputs`.
    ///
    /// ```
    /// use hwctl_amt::wire::{BodyElement, WsmanRequest, class};
    /// let role = BodyElement::new("h:Role").text("1");
    /// let request = WsmanRequest::invoke(class::BOOT_SERVICE, "SetBootConfigRole", vec![role]);
    /// let action = format!("{}/SetBootConfigRole", class::BOOT_SERVICE);
    /// assert_eq!(request.action.as_deref(), Some(action.as_str()));
    /// assert_eq!(request.body[0].name, "h:SetBootConfigRole_INPUT");
    /// assert_eq!(request.body[0].children[0].text.as_deref(), Some("1"));
    /// ```
    pub fn invoke(resource_uri: &str, method: &str, inputs: Vec<BodyElement>) -> Self {
        let mut r = WsmanRequest::new(format!("{resource_uri}/{method}"), resource_uri);
        let mut input = BodyElement::new(format!("h:{method}_INPUT")).attr("xmlns:h", resource_uri);
        input.children = inputs;
        r.body.push(input);
        r
    }

    /// WS-Management Identify (no addressing headers; DSP0226 §11).
    ///
    /// ```
    /// use hwctl_amt::wire::WsmanRequest;
    /// let request = WsmanRequest::identify();
    /// assert_eq!(request.action, None);
    /// let xml = String::from_utf8_lossy(&request.to_xml()).into_owned();
    /// assert!(!xml.contains("<a:Action>"));
    /// assert!(xml.contains("<i:Identify xmlns:i="));
    /// ```
    pub fn identify() -> Self {
        WsmanRequest {
            action: None,
            resource_uri: None,
            message_id: 0,
            selectors: Vec::new(),
            body: vec![BodyElement::new("i:Identify").attr("xmlns:i", NS_IDENTITY)],
        }
    }

    /// With a selector.
    ///
    /// ```
    /// use hwctl_amt::wire::{Selector, WsmanRequest, class};
    /// let request = WsmanRequest::get(class::COMPUTER_SYSTEM).selector("Name", "ManagedSystem");
    /// assert_eq!(request.selectors, [Selector::new("Name", "ManagedSystem")]);
    /// ```
    pub fn selector(mut self, name: &str, value: &str) -> Self {
        self.selectors.push(Selector::new(name, value));
        self
    }

    /// With a message id.
    ///
    /// ```
    /// use hwctl_amt::wire::WsmanRequest;
    /// assert_eq!(WsmanRequest::identify().message_id(42).message_id, 42);
    /// ```
    pub fn message_id(mut self, id: u64) -> Self {
        self.message_id = id;
        self
    }

    /// The short name of the action (`Get`, `Enumerate`, `RequestPowerStateChange`, …).
    ///
    /// ```
    /// use hwctl_amt::wire::{self, WsmanRequest, class};
    /// assert_eq!(WsmanRequest::pull(class::BOOT_CAPABILITIES, "c").operation(), "Pull");
    /// assert_eq!(wire::request_power_state_change(2).operation(), "RequestPowerStateChange");
    /// assert_eq!(WsmanRequest::identify().operation(), "Identify");
    /// ```
    pub fn operation(&self) -> &str {
        match &self.action {
            None => "Identify",
            Some(a) => a.rsplit('/').next().unwrap_or(a),
        }
    }

    /// The envelope, in go-wsman-messages' layout (default namespace SOAP 1.2,
    /// prefixes `a` addressing and `w` wsman).
    ///
    /// ```
    /// use hwctl_amt::wire::{NS_ADDRESSING, NS_SOAP, WsmanRequest, class, xml};
    /// let bytes = WsmanRequest::get(class::BOOT_CAPABILITIES).message_id(3).to_xml();
    /// assert!(bytes.starts_with(b"<?xml"));
    /// let envelope = xml::parse(&bytes)?;
    /// assert!(envelope.is(NS_SOAP, "Envelope"));
    /// let header = envelope.child(NS_SOAP, "Header").expect("a Header");
    /// assert_eq!(header.child_text(NS_ADDRESSING, "MessageID"), Some("3"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn to_xml(&self) -> Vec<u8> {
        let mut w = Writer::new(Cursor::new(Vec::with_capacity(1024)));
        // Writing into a Vec cannot fail.
        let _ = self.write(&mut w);
        w.into_inner().into_inner()
    }

    fn write(&self, w: &mut Writer<Cursor<Vec<u8>>>) -> std::io::Result<()> {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
        let mut env = BytesStart::new("Envelope");
        env.push_attribute(("xmlns:xsi", NS_XSI));
        env.push_attribute(("xmlns:xsd", NS_XSD));
        env.push_attribute(("xmlns:a", NS_ADDRESSING));
        env.push_attribute(("xmlns:w", NS_WSMAN));
        env.push_attribute(("xmlns", NS_SOAP));
        w.write_event(Event::Start(env))?;
        let text = |w: &mut Writer<Cursor<Vec<u8>>>, name: &str, value: &str| {
            w.write_event(Event::Start(BytesStart::new(name)))?;
            w.write_event(Event::Text(BytesText::new(value)))?;
            w.write_event(Event::End(BytesEnd::new(name)))
        };
        w.write_event(Event::Start(BytesStart::new("Header")))?;
        if let (Some(action), Some(uri)) = (&self.action, &self.resource_uri) {
            text(w, "a:Action", action)?;
            text(w, "a:To", "/wsman")?;
            text(w, "w:ResourceURI", uri)?;
            text(w, "a:MessageID", &self.message_id.to_string())?;
            w.write_event(Event::Start(BytesStart::new("a:ReplyTo")))?;
            text(w, "a:Address", ANONYMOUS)?;
            w.write_event(Event::End(BytesEnd::new("a:ReplyTo")))?;
            text(w, "w:OperationTimeout", OPERATION_TIMEOUT)?;
            if !self.selectors.is_empty() {
                w.write_event(Event::Start(BytesStart::new("w:SelectorSet")))?;
                for s in &self.selectors {
                    let mut start = BytesStart::new("w:Selector");
                    start.push_attribute(("Name", s.name.as_str()));
                    w.write_event(Event::Start(start))?;
                    w.write_event(Event::Text(BytesText::new(&s.value)))?;
                    w.write_event(Event::End(BytesEnd::new("w:Selector")))?;
                }
                w.write_event(Event::End(BytesEnd::new("w:SelectorSet")))?;
            }
        }
        w.write_event(Event::End(BytesEnd::new("Header")))?;
        w.write_event(Event::Start(BytesStart::new("Body")))?;
        for b in &self.body {
            b.write(w)?;
        }
        w.write_event(Event::End(BytesEnd::new("Body")))?;
        w.write_event(Event::End(BytesEnd::new("Envelope")))
    }
}

/// `RequestPowerStateChange(PowerState = state, ManagedElement = the managed
/// system)` on `CIM_PowerManagementService` (MAAS `amt.wsman-state.xml`; no header
/// selector, as Intel's wsman-messages: the service is a singleton. Ironic's
/// staging driver sent `Name`, MAAS four selectors; AMT accepts all three).
///
/// ```
/// use hwctl_amt::wire::{self, class};
/// let xml = String::from_utf8_lossy(&wire::request_power_state_change(8).to_xml()).into_owned();
/// let action = format!("<a:Action>{}/RequestPowerStateChange</a:Action>", class::POWER_MANAGEMENT_SERVICE);
/// assert!(xml.contains(&action));
/// assert!(xml.contains("<h:PowerState>8</h:PowerState>"));
/// assert!(xml.contains(class::COMPUTER_SYSTEM));
/// ```
pub fn request_power_state_change(state: u16) -> WsmanRequest {
    WsmanRequest::invoke(
        class::POWER_MANAGEMENT_SERVICE,
        "RequestPowerStateChange",
        vec![
            BodyElement::new("h:PowerState").text(state.to_string()),
            endpoint_reference(
                "h:ManagedElement",
                class::COMPUTER_SYSTEM,
                &[
                    Selector::new("CreationClassName", "CIM_ComputerSystem"),
                    Selector::new("Name", "ManagedSystem"),
                ],
            ),
        ],
    )
}

/// `ChangeBootOrder(Source = source)` on `CIM_BootConfigSetting` (MAAS
/// `amt.wsman-pxe.xml`); `None` clears the boot order (used before BIOS setup). No
/// header selector, as Intel's wsman-messages (ISD sent `InstanceID = Boot
/// Configuration 0`, the only instance).
///
/// ```
/// use hwctl_amt::wire::{self, BootSource, class};
/// let pxe = wire::change_boot_order(Some(BootSource::Pxe));
/// let xml = String::from_utf8_lossy(&pxe.to_xml()).into_owned();
/// assert!(xml.contains(&format!("{}/ChangeBootOrder", class::BOOT_CONFIG_SETTING)));
/// assert!(xml.contains(class::BOOT_SOURCE_SETTING));
/// assert!(xml.contains("Intel(r) AMT: Force PXE Boot"));
/// let clear = wire::change_boot_order(None);
/// assert!(clear.body[0].children.is_empty());
/// ```
pub fn change_boot_order(source: Option<BootSource>) -> WsmanRequest {
    let inputs = match source {
        Some(s) => vec![endpoint_reference(
            "h:Source",
            class::BOOT_SOURCE_SETTING,
            &[Selector::new("InstanceID", s.instance_id())],
        )],
        None => Vec::new(),
    };
    WsmanRequest::invoke(class::BOOT_CONFIG_SETTING, "ChangeBootOrder", inputs)
}

/// `SetBootConfigRole(BootConfigSetting = Boot Configuration 0, Role = 1)` on
/// `CIM_BootService` (MAAS `amt.wsman-boot-config.xml`; Role 1 = IsNext; no header
/// selector, as Intel's wsman-messages).
///
/// ```
/// use hwctl_amt::wire::{self, BOOT_CONFIGURATION_0, class};
/// let request = wire::set_boot_config_role();
/// assert_eq!(request.resource_uri.as_deref(), Some(class::BOOT_SERVICE));
/// let xml = String::from_utf8_lossy(&request.to_xml()).into_owned();
/// assert!(xml.contains("<h:Role>1</h:Role>"));
/// assert!(xml.contains(BOOT_CONFIGURATION_0));
/// ```
pub fn set_boot_config_role() -> WsmanRequest {
    WsmanRequest::invoke(
        class::BOOT_SERVICE,
        "SetBootConfigRole",
        vec![
            endpoint_reference(
                "h:BootConfigSetting",
                class::BOOT_CONFIG_SETTING,
                &[Selector::new("InstanceID", BOOT_CONFIGURATION_0)],
            ),
            BodyElement::new("h:Role").text("1"),
        ],
    )
}

/// A Put of `AMT_BootSettingData` with `fields` (name, value) in order.
///
/// ```
/// use hwctl_amt::wire::{self, ACTION_PUT, class};
/// let request = wire::put_boot_setting_data(&[("BIOSSetup".into(), "true".into())]);
/// assert_eq!(request.action.as_deref(), Some(ACTION_PUT));
/// let xml = String::from_utf8_lossy(&request.to_xml()).into_owned();
/// assert!(xml.contains(&format!(r#"<h:AMT_BootSettingData xmlns:h="{}">"#, class::BOOT_SETTING_DATA)));
/// assert!(xml.contains("<h:BIOSSetup>true</h:BIOSSetup>"));
/// ```
pub fn put_boot_setting_data(fields: &[(String, String)]) -> WsmanRequest {
    let mut instance =
        BodyElement::new("h:AMT_BootSettingData").attr("xmlns:h", class::BOOT_SETTING_DATA);
    for (k, v) in fields {
        instance = instance.child(BodyElement::new(format!("h:{k}")).text(v.clone()));
    }
    WsmanRequest::put(class::BOOT_SETTING_DATA, instance)
}

/// A SOAP fault (`Fault` with `Code`/`Subcode`/`Reason`).
///
/// ```
/// use hwctl_amt::wire::SoapFault;
/// let fault = SoapFault {
///     code: "a:Sender".into(),
///     subcode: "b:DestinationUnreachable".into(),
///     reason: "No route can be determined".into(),
///     detail: String::new(),
/// };
/// let err = hwctl_amt::errors::fault_error(&fault);
/// assert_eq!(err.kind(), hwctl_core::ErrorKind::NotFound);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapFault {
    /// `Code/Value` (such as `a:Sender`), as written.
    pub code: String,
    /// `Code/Subcode/Value` (such as `b:DestinationUnreachable`), as written.
    pub subcode: String,
    /// `Reason/Text`.
    pub reason: String,
    /// `Detail` text, if any.
    pub detail: String,
}

impl SoapFault {
    /// The subcode's local name (after the prefix).
    ///
    /// ```
    /// use hwctl_amt::wire::SoapFault;
    /// let fault = SoapFault {
    ///     code: "s:Sender".into(),
    ///     subcode: "w:AccessDenied".into(),
    ///     reason: String::new(),
    ///     detail: String::new(),
    /// };
    /// assert_eq!(fault.subcode_name(), "AccessDenied");
    /// ```
    pub fn subcode_name(&self) -> &str {
        self.subcode.rsplit(':').next().unwrap_or(&self.subcode)
    }
}

/// A parsed reply envelope (not a fault).
///
/// ```
/// const GET_REPLY: &[u8] = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse</a:Action><a:RelatesTo>7</a:RelatesTo></s:Header><s:Body><h:AMT_BootSettingData xmlns:h="http://intel.com/wbem/wscim/1/amt-schema/1/AMT_BootSettingData"><h:BIOSSetup>false</h:BIOSSetup><h:UseSOL>false</h:UseSOL></h:AMT_BootSettingData></s:Body></s:Envelope>"#;
/// let reply = hwctl_amt::wire::parse_reply(GET_REPLY)?;
/// assert!(reply.action.ends_with("/transfer/GetResponse"));
/// assert_eq!(reply.relates_to, "7");
/// assert_eq!(reply.body.name, "Body");
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAmtReply {
    /// `Header/Action` text.
    pub action: String,
    /// `Header/RelatesTo` text.
    pub relates_to: String,
    /// The `Body` element.
    pub body: Element,
}

/// What an envelope holds: a reply or a fault.
///
/// ```
/// use hwctl_amt::wire::{self, Envelope};
/// const FAULT: &[u8] = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:AccessDenied</s:Value></s:Subcode></s:Code><s:Reason><s:Text>denied</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"#;
/// let Envelope::Fault(fault) = wire::parse_envelope(FAULT)? else { panic!("a fault") };
/// assert_eq!(fault.code, "s:Sender");
/// assert_eq!(fault.subcode_name(), "AccessDenied");
/// assert_eq!(fault.reason, "denied");
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Envelope {
    /// A reply.
    Reply(RawAmtReply),
    /// A SOAP fault.
    Fault(SoapFault),
}

/// Parses a reply envelope.
///
/// # Errors
///
/// [`ErrorKind::Protocol`] for malformed XML, a root that is not a SOAP 1.2
/// `Envelope`, or an envelope without `Body`.
///
/// ```
/// use hwctl_amt::wire::{self, Envelope};
/// use hwctl_core::ErrorKind;
/// const GET_REPLY: &[u8] = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse</a:Action><a:RelatesTo>7</a:RelatesTo></s:Header><s:Body><h:AMT_BootSettingData xmlns:h="http://intel.com/wbem/wscim/1/amt-schema/1/AMT_BootSettingData"><h:BIOSSetup>false</h:BIOSSetup><h:UseSOL>false</h:UseSOL></h:AMT_BootSettingData></s:Body></s:Envelope>"#;
/// let Envelope::Reply(reply) = wire::parse_envelope(GET_REPLY)? else { panic!("a reply") };
/// assert_eq!(reply.relates_to, "7");
/// assert_eq!(wire::parse_envelope(b"<Envelope/>").unwrap_err().kind(), ErrorKind::Protocol);
/// assert_eq!(wire::parse_envelope(b"<s:Envelope").unwrap_err().kind(), ErrorKind::Protocol);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn parse_envelope(bytes: &[u8]) -> Result<Envelope> {
    let root = xml::parse(bytes)?;
    if !root.is(NS_SOAP, "Envelope") {
        return Err(Error::protocol(format!(
            "reply root is {{{}}}{}, not a SOAP 1.2 Envelope",
            root.ns, root.name
        )));
    }
    let body = root
        .child(NS_SOAP, "Body")
        .ok_or_else(|| Error::protocol("SOAP envelope without Body"))?;
    if let Some(f) = body.child(NS_SOAP, "Fault") {
        let code = f.child(NS_SOAP, "Code");
        let value = code
            .and_then(|c| c.child_text(NS_SOAP, "Value"))
            .unwrap_or("")
            .to_owned();
        let subcode = code
            .and_then(|c| c.child(NS_SOAP, "Subcode"))
            .and_then(|s| s.child_text(NS_SOAP, "Value"))
            .unwrap_or("")
            .to_owned();
        let reason = f
            .child(NS_SOAP, "Reason")
            .and_then(|r| r.child_text(NS_SOAP, "Text"))
            .unwrap_or("")
            .to_owned();
        let detail = f
            .child(NS_SOAP, "Detail")
            .map(|d| {
                let mut s = d.text.trim().to_owned();
                for c in &d.children {
                    if !s.is_empty() {
                        s.push(' ');
                    }
                    s.push_str(c.text.trim());
                }
                s
            })
            .unwrap_or_default();
        return Ok(Envelope::Fault(SoapFault {
            code: value,
            subcode,
            reason,
            detail,
        }));
    }
    let header = root.child(NS_SOAP, "Header");
    let htext = |name: &str| {
        header
            .and_then(|h| h.child_text(NS_ADDRESSING, name))
            .unwrap_or("")
            .to_owned()
    };
    Ok(Envelope::Reply(RawAmtReply {
        action: htext("Action"),
        relates_to: htext("RelatesTo"),
        body: body.clone(),
    }))
}

/// Parses a reply; a fault is an error of its kind (see [`crate::errors`]).
///
/// # Errors
///
/// [`ErrorKind::Protocol`] as [`parse_envelope`]; a fault's kind per
/// [`crate::errors::fault_kind`] (`InvalidParameter`, `NotFound`, `Unsupported`,
/// `PermissionDenied`, `Busy`, `Timeout`, `DeviceFault`).
///
/// ```
/// use hwctl_amt::wire;
/// use hwctl_core::ErrorKind;
/// const FAULT: &[u8] = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:AccessDenied</s:Value></s:Subcode></s:Code><s:Reason><s:Text>denied</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"#;
/// let err = wire::parse_reply(FAULT).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::PermissionDenied);
/// assert!(err.to_string().contains("w:AccessDenied: denied"));
/// ```
pub fn parse_reply(bytes: &[u8]) -> Result<RawAmtReply> {
    match parse_envelope(bytes)? {
        Envelope::Reply(r) => Ok(r),
        Envelope::Fault(f) => Err(crate::errors::fault_error(&f)),
    }
}

impl RawAmtReply {
    /// The instance a Get returned: the first element of the body.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`] when the body is empty.
    ///
    /// ```
    /// use hwctl_amt::wire;
    /// const GET_REPLY: &[u8] = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse</a:Action><a:RelatesTo>7</a:RelatesTo></s:Header><s:Body><h:AMT_BootSettingData xmlns:h="http://intel.com/wbem/wscim/1/amt-schema/1/AMT_BootSettingData"><h:BIOSSetup>false</h:BIOSSetup><h:UseSOL>false</h:UseSOL></h:AMT_BootSettingData></s:Body></s:Envelope>"#;
    /// let reply = wire::parse_reply(GET_REPLY)?;
    /// let instance = reply.instance()?;
    /// assert!(instance.is(wire::class::BOOT_SETTING_DATA, "AMT_BootSettingData"));
    /// assert_eq!(instance.child_text(wire::class::BOOT_SETTING_DATA, "BIOSSetup"), Some("false"));
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn instance(&self) -> Result<&Element> {
        self.body
            .children
            .first()
            .ok_or_else(|| Error::protocol("reply body is empty"))
    }

    /// `ReturnValue` of an Invoke's `<Method>_OUTPUT` (any namespace).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`] when there is no `*_OUTPUT/ReturnValue` or it is not
    /// an unsigned integer.
    ///
    /// ```
    /// use hwctl_amt::{errors, wire};
    /// const INVOKE_REPLY: &[u8] = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><h:RequestPowerStateChange_OUTPUT xmlns:h="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService"><h:ReturnValue>5</h:ReturnValue></h:RequestPowerStateChange_OUTPUT></s:Body></s:Envelope>"#;
    /// let reply = wire::parse_reply(INVOKE_REPLY)?;
    /// assert_eq!(reply.return_value()?, 5);
    /// let err = errors::check_return_value("RequestPowerStateChange", 5).unwrap_err();
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::InvalidParameter);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn return_value(&self) -> Result<u32> {
        let out = self
            .body
            .children
            .iter()
            .find(|c| c.name.ends_with("_OUTPUT"))
            .ok_or_else(|| Error::protocol("Invoke reply without a *_OUTPUT element"))?;
        let rv = out
            .children
            .iter()
            .find(|c| c.name == "ReturnValue" && c.ns == out.ns)
            .ok_or_else(|| Error::protocol(format!("{} without ReturnValue", out.name)))?;
        rv.text.trim().parse().map_err(|_| {
            Error::protocol(format!(
                "ReturnValue {:?} is not a number",
                truncate(rv.text.trim())
            ))
        })
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// A reply to Enumerate or Pull.
///
/// ```
/// use hwctl_amt::wire;
/// let reply = wire::parse_reply(br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><n:EnumerateResponse xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><n:EnumerationContext>ctx-9</n:EnumerationContext></n:EnumerateResponse></s:Body></s:Envelope>"#)?;
/// let page = wire::enumeration_page(&reply)?;
/// assert!(page.items.is_empty());
/// assert_eq!(page.context.as_deref(), Some("ctx-9"));
/// assert!(!page.end_of_sequence);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnumerationPage {
    /// The items (instances) in this reply.
    pub items: Vec<Element>,
    /// The context to pull the next page with (absent at the end).
    pub context: Option<String>,
    /// `EndOfSequence` was present.
    pub end_of_sequence: bool,
}

/// Decodes an `EnumerateResponse` (with optimized items when asked) or a
/// `PullResponse`.
///
/// # Errors
///
/// [`ErrorKind::Protocol`] when the body holds neither, or neither a context nor
/// the end of the sequence.
///
/// ```
/// use hwctl_amt::wire;
/// const PULL_REPLY: &[u8] = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Body><n:PullResponse><n:Items><h:CIM_AssociatedPowerManagementService xmlns:h="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AssociatedPowerManagementService"><h:PowerState>2</h:PowerState><h:AvailableRequestedPowerStates>8</h:AvailableRequestedPowerStates><h:AvailableRequestedPowerStates>10</h:AvailableRequestedPowerStates></h:CIM_AssociatedPowerManagementService></n:Items><n:EndOfSequence/></n:PullResponse></s:Body></s:Envelope>"#;
/// let page = wire::enumeration_page(&wire::parse_reply(PULL_REPLY)?)?;
/// assert_eq!(page.items.len(), 1);
/// assert!(page.end_of_sequence);
/// assert_eq!(page.context, None);
/// let get = wire::parse_reply(br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>"#)?;
/// assert_eq!(wire::enumeration_page(&get).unwrap_err().kind(), hwctl_core::ErrorKind::Protocol);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn enumeration_page(reply: &RawAmtReply) -> Result<EnumerationPage> {
    let (page, items_ns) = if let Some(e) = reply.body.child(NS_ENUMERATION, "EnumerateResponse") {
        (e, NS_WSMAN)
    } else if let Some(p) = reply.body.child(NS_ENUMERATION, "PullResponse") {
        (p, NS_ENUMERATION)
    } else {
        return Err(Error::protocol(
            "reply is neither an EnumerateResponse nor a PullResponse",
        ));
    };
    let items = page
        .child(items_ns, "Items")
        .map(|i| i.children.clone())
        .unwrap_or_default();
    let context = page
        .child_text(NS_ENUMERATION, "EnumerationContext")
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let end_of_sequence = page.child(items_ns, "EndOfSequence").is_some()
        || page.child(NS_ENUMERATION, "EndOfSequence").is_some();
    if context.is_none() && !end_of_sequence {
        return Err(Error::protocol(
            "enumeration reply with neither EnumerationContext nor EndOfSequence",
        ));
    }
    Ok(EnumerationPage {
        items,
        context,
        end_of_sequence,
    })
}

/// One `CIM_AssociatedPowerManagementService` instance.
///
/// ```
/// use hwctl_amt::wire::{self, AssociatedPowerManagementService};
/// const PULL_REPLY: &[u8] = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Body><n:PullResponse><n:Items><h:CIM_AssociatedPowerManagementService xmlns:h="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AssociatedPowerManagementService"><h:PowerState>2</h:PowerState><h:AvailableRequestedPowerStates>8</h:AvailableRequestedPowerStates><h:AvailableRequestedPowerStates>10</h:AvailableRequestedPowerStates></h:CIM_AssociatedPowerManagementService></n:Items><n:EndOfSequence/></n:PullResponse></s:Body></s:Envelope>"#;
/// let page = wire::enumeration_page(&wire::parse_reply(PULL_REPLY)?)?;
/// let service = AssociatedPowerManagementService::decode(&page.items[0])?;
/// assert_eq!(service.power_state, 2);
/// assert_eq!(service.available_requested_power_states, [8, 10]);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociatedPowerManagementService {
    /// `PowerState` (2 on; 8, 6, 12, 13 off; see [`crate::power`]).
    pub power_state: u16,
    /// `AvailableRequestedPowerStates`, in order.
    pub available_requested_power_states: Vec<u16>,
}

impl AssociatedPowerManagementService {
    /// Decodes the instance element.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`] when the element is not the class, or `PowerState`
    /// is absent or not a number.
    ///
    /// ```
    /// use hwctl_amt::wire::{AssociatedPowerManagementService, xml};
    /// let item = xml::parse(br#"<h:CIM_AssociatedPowerManagementService xmlns:h="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AssociatedPowerManagementService"><h:PowerState>8</h:PowerState></h:CIM_AssociatedPowerManagementService>"#)?;
    /// assert_eq!(AssociatedPowerManagementService::decode(&item)?.power_state, 8);
    /// let other = xml::parse(br#"<h:CIM_ComputerSystem xmlns:h="urn:x"/>"#)?;
    /// let err = AssociatedPowerManagementService::decode(&other).unwrap_err();
    /// assert_eq!(err.kind(), hwctl_core::ErrorKind::Protocol);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn decode(item: &Element) -> Result<Self> {
        let ns = class::ASSOCIATED_POWER_MANAGEMENT_SERVICE;
        if !item.is(ns, "CIM_AssociatedPowerManagementService") {
            return Err(Error::protocol(format!(
                "expected CIM_AssociatedPowerManagementService, got {}",
                item.name
            )));
        }
        let power_state = item.child_text(ns, "PowerState").ok_or_else(|| {
            Error::protocol("CIM_AssociatedPowerManagementService without PowerState")
        })?;
        let power_state = power_state.parse().map_err(|_| {
            Error::protocol(format!(
                "PowerState {:?} is not a number",
                truncate(power_state)
            ))
        })?;
        let available_requested_power_states = item
            .children_named(ns, "AvailableRequestedPowerStates")
            .filter_map(|e| e.text.trim().parse().ok())
            .collect();
        Ok(AssociatedPowerManagementService {
            power_state,
            available_requested_power_states,
        })
    }
}

/// An instance's simple properties, in order, as (name, text): what a Put sends
/// back (`AMT_BootSettingData`).
///
/// ```
/// use hwctl_amt::wire::{properties, xml};
/// let instance = xml::parse(br#"<h:X xmlns:h="urn:x" xmlns:o="urn:o"><h:A> 1 </h:A><h:B>true</h:B><o:C>other</o:C><h:D><h:E/></h:D></h:X>"#)?;
/// let expected = [("A".to_owned(), "1".to_owned()), ("B".to_owned(), "true".to_owned())];
/// assert_eq!(properties(&instance), expected);
/// # Ok::<(), hwctl_core::Error>(())
/// ```
pub fn properties(instance: &Element) -> Vec<(String, String)> {
    instance
        .children
        .iter()
        .filter(|c| c.ns == instance.ns && c.children.is_empty())
        .map(|c| (c.name.clone(), c.text.trim().to_owned()))
        .collect()
}

/// An `IdentifyResponse`.
///
/// ```
/// use hwctl_amt::wire::{self, IdentifyResponse};
/// const IDENTIFY_REPLY: &[u8] = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><i:IdentifyResponse xmlns:i="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><i:ProtocolVersion>http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd</i:ProtocolVersion><i:ProductVendor>Intel Corporation</i:ProductVendor><i:ProductVersion>AMT 11.8</i:ProductVersion></i:IdentifyResponse></s:Body></s:Envelope>"#;
/// let identity = IdentifyResponse::decode(&wire::parse_reply(IDENTIFY_REPLY)?)?;
/// assert_eq!(identity.product_vendor, "Intel Corporation");
/// assert_eq!(identity.protocol_version, wire::NS_WSMAN);
/// assert_eq!(identity.amt_major(), Some(11));
/// # Ok::<(), hwctl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifyResponse {
    /// `ProtocolVersion`.
    pub protocol_version: String,
    /// `ProductVendor` (`Intel Corporation`).
    pub product_vendor: String,
    /// `ProductVersion` (`AMT 11.8`).
    pub product_version: String,
}

impl IdentifyResponse {
    /// Decodes the reply.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`] without an `IdentifyResponse`.
    ///
    /// ```
    /// use hwctl_amt::wire::{self, IdentifyResponse};
    /// const IDENTIFY_REPLY: &[u8] = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><i:IdentifyResponse xmlns:i="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><i:ProtocolVersion>http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd</i:ProtocolVersion><i:ProductVendor>Intel Corporation</i:ProductVendor><i:ProductVersion>AMT 11.8</i:ProductVersion></i:IdentifyResponse></s:Body></s:Envelope>"#;
    /// assert_eq!(IdentifyResponse::decode(&wire::parse_reply(IDENTIFY_REPLY)?)?.product_version, "AMT 11.8");
    /// let empty = wire::parse_reply(br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>"#)?;
    /// assert_eq!(IdentifyResponse::decode(&empty).unwrap_err().kind(), hwctl_core::ErrorKind::Protocol);
    /// # Ok::<(), hwctl_core::Error>(())
    /// ```
    pub fn decode(reply: &RawAmtReply) -> Result<Self> {
        let r = reply
            .body
            .child(NS_IDENTITY, "IdentifyResponse")
            .ok_or_else(|| Error::protocol("reply is not an IdentifyResponse"))?;
        let t = |n: &str| r.child_text(NS_IDENTITY, n).unwrap_or("").to_owned();
        Ok(IdentifyResponse {
            protocol_version: t("ProtocolVersion"),
            product_vendor: t("ProductVendor"),
            product_version: t("ProductVersion"),
        })
    }

    /// The AMT major version from `ProductVersion` (`AMT 11.8` → 11).
    ///
    /// ```
    /// use hwctl_amt::wire::IdentifyResponse;
    /// let mut identity = IdentifyResponse {
    ///     protocol_version: String::new(),
    ///     product_vendor: "Intel Corporation".into(),
    ///     product_version: "AMT 16.1".into(),
    /// };
    /// assert_eq!(identity.amt_major(), Some(16));
    /// identity.product_version = "openwsman 2.6".into();
    /// assert_eq!(identity.amt_major(), None);
    /// ```
    pub fn amt_major(&self) -> Option<u32> {
        let v = self.product_version.trim().strip_prefix("AMT")?.trim();
        v.split('.').next()?.parse().ok()
    }
}

/// The kind of a reply that is not what was asked for (for callers).
///
/// ```
/// let err = hwctl_amt::wire::unexpected("an empty Items");
/// assert_eq!(err.kind(), hwctl_core::ErrorKind::Protocol);
/// assert!(err.to_string().contains("unexpected reply: an empty Items"));
/// ```
pub fn unexpected(what: &str) -> Error {
    Error::new(ErrorKind::Protocol, format!("unexpected reply: {what}"))
}
