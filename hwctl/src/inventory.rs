//! Ironic-style node descriptions: `{"driver": …, "driver_info": {…}, "ports": […]}`,
//! and Ironic's own node exports (`openstack baremetal node show -f json`, the
//! API's `GET /v1/nodes/{node}`, or a whole fleet's `openstack baremetal node list
//! --long -f json`) as they are:
//!
//! - `node list --long -f json` names each member by the CLI's column title
//!   (python-ironicclient's labels: `"UUID"`, `"Name"`, `"Driver"`, `"Driver
//!   Info"`, `"Properties"`, `"Provisioning State"`, …): those of the members hwctl
//!   reads are read as the fields they title, the others skipped as Ironic's other
//!   fields are; a member given under both spellings (`"Driver Info"` and
//!   `"driver_info"`) is a duplicate;
//! - `name` may be `null` (Ironic's default): the node is then called by its `uuid`;
//! - `properties.capabilities` is Ironic's `"boot_mode:uefi,secure_boot:true"`
//!   string (or an object); it becomes the node's capabilities, so `boot_mode`
//!   reaches the drivers and boot interfaces. A top-level `capabilities` (hwctl's
//!   own shorthand, string or object) is applied on top;
//! - `ports` as the API returns them (links to the port resources) are skipped:
//!   give the MACs with `--port` or as `{"address": …}` objects;
//! - every other field of Ironic's node resource (`provision_state`,
//!   `instance_info`, …) is skipped, as is a member far from every name hwctl
//!   reads; one close to such a name (`drvier`, `driverinfo`, `port`: a *typo*)
//!   is an error with a suggestion, since skipping it would leave the node
//!   without it (a title-case one, `"Drvier Info"`, is told the title, `Driver
//!   Info`). An inventory's typos are all found in one run
//!   ([`Inventory::read_past_typos`], [`Inventory::typos`]).
//!
//! Masked secrets (`"******"` where the API hid a password) are refused by the
//! driver's validation, which says to supply the secret another way. A
//! `driver_info` value written as a JSON number or boolean is kept as it is and
//! read as its JSON text (`DriverInfo::get_str`), as Ironic's drivers `str()` it:
//! `"ipmi_password": 1234` is the password `1234` (a non-integer is its shortest
//! text: `12.50` reads `12.5`).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use hwctl_core::DriverInfo;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One node as Ironic describes it, used by `--info-file`, `--inventory` and the
/// simulators' demo fleets.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct InventoryNode {
    /// A name for tables and errors: the node's `name`, else its `uuid`, else
    /// (filled in by the reader) the position in the inventory.
    pub name: String,
    /// The hardware type (`msftocs`, `staging-iboot`, …).
    pub driver: String,
    /// The node's `driver_info`, kept as the drivers read it: a node is built from
    /// it where it is, without a copy of the map (issue 16). Serialized as its map.
    #[serde(serialize_with = "driver_info_map")]
    pub driver_info: DriverInfo,
    /// Port MACs, as strings or as `{"address": "…"}` objects (Ironic's port resources).
    pub ports: Vec<String>,
    /// Node `properties/capabilities` (e.g. `boot_mode`), then the top-level
    /// `capabilities` on top.
    pub capabilities: BTreeMap<String, String>,
    /// The node's `uuid` (Ironic's node id), as given, when one is: no two entries
    /// may share one (`crate::fleet::read_inventory`). Not serialized when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
}

#[cfg(test)]
impl InventoryNode {
    /// An entry with only a name and a hardware type (unit tests).
    pub(crate) fn named(name: &str, driver: &str) -> InventoryNode {
        InventoryNode {
            name: name.into(),
            driver: driver.into(),
            ..InventoryNode::default()
        }
    }
}

/// The capabilities hwctl reads and the values each may take: `boot_mode`, which
/// the drivers and boot interfaces read (`NodeContext::boot_mode`), one of
/// Ironic's `bios` and `uefi` (`legacy` is read as `bios`, in any case, as
/// `boot-mode set` takes them). Every other capability is free-form, as Ironic's
/// are (a deployment's own keys for scheduling), and passed on as it is.
///
/// # Errors
///
/// `InvalidParameter` naming `capabilities` when `boot_mode` is none of these: a
/// value hwctl cannot read was taken for no boot mode, so a node meant for
/// `uefi` (written `efi`) was driven with its driver's default, BIOS on OCS and
/// AMT. The value is quoted only when it is a short word.
pub(crate) fn check_capabilities(
    capabilities: &BTreeMap<String, String>,
) -> hwctl_core::Result<()> {
    let Some(mode) = capabilities.get("boot_mode") else {
        return Ok(());
    };
    if mode.parse::<hwctl_core::BootMode>().is_ok() {
        return Ok(());
    }
    let word = mode.len() <= 16
        && !mode.is_empty()
        && mode
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    let given = if word {
        format!("boot_mode {mode:?}")
    } else {
        "boot_mode".to_owned()
    };
    let close = if mode.trim().eq_ignore_ascii_case("efi") {
        " (did you mean uefi?)"
    } else {
        ""
    };
    Err(hwctl_core::Error::invalid_parameter(
        "capabilities",
        format!(
            "{given} is no boot mode: Ironic's boot_mode is bios or uefi{close} (any other \
             capability is passed on as it is)"
        ),
    ))
}

/// Read straight from the node's members into the node (issue 16): no
/// intermediate node of `Option`s moved into this one, as `#[serde(try_from)]` of a
/// raw node did; what it read and how it tells mistakes are unchanged.
impl<'de> Deserialize<'de> for InventoryNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A member that is well-formed JSON but not what hwctl can use (a port that
        // is not a MAC, capabilities that are not KEY:VALUE) is told once the whole
        // node is read, outside serde_json's reading of the object, as the
        // `try_from` did: a syntax error later in the node comes first, and the
        // error's position (where serde_json stands then) is the same.
        d.deserialize_map(raw::Members(&Typos::refused()))?
            .map_err(serde::de::Error::custom)
    }
}

/// How a read treats a *typo* (a member close to one hwctl reads, `drvier`), and
/// what it saw: typos before the one counted `refuse_at` (from 0) are skipped, that
/// one fails the read, as serde's error at the member (its line and column).
#[derive(Debug, Default)]
pub(crate) struct Typos {
    /// The typo, counted from 0, that fails the read (0: the first, as
    /// [`InventoryNode`]'s `Deserialize` does; `usize::MAX`: none).
    refuse_at: usize,
    /// Typos met so far.
    seen: Cell<usize>,
    /// The entry being read (from 0).
    entry: Cell<usize>,
    /// The refused typo, as written, and the name hwctl reads that it is close to.
    refused: RefCell<Option<(String, &'static str)>>,
    /// Every typo skipped, in file order (only when every typo is skipped:
    /// [`Typos::skipped`]).
    skipped: RefCell<Vec<Skipped>>,
}

/// A typo [`Inventory::read_past_typos`] skipped: where it is as an entry and a
/// member, not as a line and column (those are [`Inventory::typos`]'s, which reads
/// the text again for each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skipped {
    /// The entry's position in the list, from 0.
    pub entry: usize,
    /// The member as written (`drvier`).
    pub member: String,
    /// The field hwctl reads that the member is close to (`driver`).
    pub meant: &'static str,
    /// What is wrong: ``unknown member `drvier` (did you mean `driver`?)``.
    pub problem: String,
}

impl Typos {
    /// Every typo fails the read.
    fn refused() -> Typos {
        Typos::default()
    }

    /// Every typo is skipped (and counted).
    pub(crate) fn skipped() -> Typos {
        Typos {
            refuse_at: usize::MAX,
            ..Typos::default()
        }
    }

    /// Meets a typo, `member` written for `meant` (`shown`: how the message
    /// spells it): the message that refuses it, if it is the one to refuse; else
    /// it is counted (and kept, when every typo is skipped).
    fn meet(&self, member: &str, meant: &'static str, shown: &str) -> Option<String> {
        let problem = format!("unknown member `{member}` (did you mean `{shown}`?)");
        let k = self.seen.get();
        self.seen.set(k.saturating_add(1));
        if k == self.refuse_at {
            self.refused.replace(Some((member.to_owned(), meant)));
            return Some(problem);
        }
        if self.refuse_at == usize::MAX {
            self.skipped.borrow_mut().push(Skipped {
                entry: self.entry.get(),
                member: member.to_owned(),
                meant,
                problem,
            });
        }
        None
    }
}

/// Reads one inventory entry as [`InventoryNode`]'s `Deserialize` does, with its
/// typos treated as [`Typos`] says.
pub(crate) struct Entry<'a>(pub &'a Typos);

impl<'de> serde::de::DeserializeSeed<'de> for Entry<'_> {
    type Value = InventoryNode;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<InventoryNode, D::Error> {
        d.deserialize_map(raw::Members(self.0))?
            .map_err(serde::de::Error::custom)
    }
}

/// A typo in an inventory entry, where [`Inventory::read`] refuses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Typo {
    /// The entry's position in the list, from 0.
    pub entry: usize,
    /// The line of the member (from 1), as serde_json tells it.
    pub line: usize,
    /// The column of the member's end, as serde_json tells it.
    pub column: usize,
    /// What is wrong, without the position: ``unknown member `drvier` (did you
    /// mean `driver`?)``.
    pub problem: String,
}

/// Serializes a `driver_info` as the JSON object it was read from.
fn driver_info_map<S: Serializer>(info: &DriverInfo, s: S) -> Result<S::Ok, S::Error> {
    info.as_map().serialize(s)
}

/// An inventory file's top level, read in one pass straight into its nodes (no
/// `serde_json::Value` tree of the file first, issue 16): a JSON array of nodes,
/// or an object whose `nodes` member is that array (its other members skipped).
/// Anything else is not an error of the parse but a shape the reader refuses
/// with its own message (`crate::node_args::read_inventory`).
#[derive(Debug)]
pub(crate) enum Inventory {
    /// The nodes, in file order.
    Nodes(Vec<InventoryNode>),
    /// An object without a `nodes` member.
    NoNodesMember,
    /// A string, number, boolean or `null`.
    NotAList,
}

/// The bytes of an inventory file assumed per entry when its list is reserved
/// before it is read ([`Inventory::read`]). serde_json cannot tell how long an
/// array is, so the list grew by doubling and copied its entries ~13 times for
/// 10,000 OCS blades (~190 bytes each): ~200 instructions per node (callgrind,
/// `/tmp/s27/measure.sh`, issue 16). With 160 such a file's list is reserved once;
/// a file of bigger entries (an Ironic export, ~2.5 KB each) reserves a fraction
/// of a byte per byte of its text; one of smaller entries still grows. At most
/// [`MAX_ROOM`] entries are reserved, whatever the file's length.
const ENTRY_BYTES: usize = 160;

/// The most entries reserved before an inventory is read (~16 MB of entries).
const MAX_ROOM: usize = 1 << 17;

impl Inventory {
    /// Reads an inventory file's text, as `serde_json::from_str::<Inventory>` would
    /// (the same errors, at the same places), with its list of entries reserved
    /// from the text's length ([`ENTRY_BYTES`], [`MAX_ROOM`]).
    /// Its first typo (a member close to one hwctl reads, `drvier`) is an error
    /// there; [`Inventory::read_past_typos`] reads on past them all.
    pub(crate) fn read(text: &str) -> serde_json::Result<Inventory> {
        Inventory::read_with(text, None)
    }

    /// [`Inventory::read`] with every typo skipped: the nodes as the file gives
    /// them otherwise, and every typo skipped, in file order (one read of the
    /// text, whatever their number). A syntax error or a member of the wrong type
    /// still ends the read, as in [`Inventory::read`].
    pub(crate) fn read_past_typos(text: &str) -> serde_json::Result<(Inventory, Vec<Skipped>)> {
        let typos = Typos::skipped();
        let inventory = Inventory::read_with(text, Some(&typos))?;
        Ok((inventory, typos.skipped.take()))
    }

    /// The first `limit` typos of the inventory `text`, in file order, each with
    /// the entry and the line and column at which [`Inventory::read`] refuses it
    /// (the text is read again for each: this is for an error's message). The
    /// list ends early at a syntax or type error, as the read does.
    pub(crate) fn typos(text: &str, limit: usize) -> Vec<Typo> {
        let mut found = Vec::new();
        for k in 0..limit {
            let typos = Typos {
                refuse_at: k,
                ..Typos::default()
            };
            let Err(e) = Inventory::read_with(text, Some(&typos)) else {
                break;
            };
            if typos.refused.take().is_none() {
                break;
            }
            let text = e.to_string();
            let problem = match text.rfind(" at line ") {
                Some(at) => text[..at].to_owned(),
                None => text,
            };
            found.push(Typo {
                entry: typos.entry.get(),
                line: e.line(),
                column: e.column(),
                problem,
            });
        }
        found
    }

    /// [`Inventory::read`] with its entries' typos treated as `typos` says
    /// (`None`: each refused, as `InventoryNode`'s `Deserialize` does).
    fn read_with(text: &str, typos: Option<&Typos>) -> serde_json::Result<Inventory> {
        use serde::de::DeserializeSeed;
        let mut de = serde_json::Deserializer::from_str(text);
        let inventory = Top {
            room: (text.len() / ENTRY_BYTES).min(MAX_ROOM),
            typos,
        }
        .deserialize(&mut de)?;
        de.end()?;
        Ok(inventory)
    }
}

/// Reads the top level of an inventory: [`Inventory`], with room for `room`
/// entries, their typos treated as `typos` says.
struct Top<'a> {
    room: usize,
    typos: Option<&'a Typos>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Top<'_> {
    type Value = Inventory;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Inventory, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Top<'_> {
    type Value = Inventory;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of nodes or {\"nodes\": [...]}")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Inventory, A::Error> {
        Nodes {
            room: self.room,
            typos: self.typos,
        }
        .visit_seq(seq)
        .map(Inventory::Nodes)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Inventory, A::Error> {
        let mut found = Inventory::NoNodesMember;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "nodes" {
                found = Inventory::Nodes(map.next_value_seed(Nodes {
                    room: self.room,
                    typos: self.typos,
                })?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(found)
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Inventory, E> {
        Ok(Inventory::NotAList)
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Inventory, E> {
        Ok(Inventory::NotAList)
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Inventory, E> {
        Ok(Inventory::NotAList)
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Inventory, E> {
        Ok(Inventory::NotAList)
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Inventory, E> {
        Ok(Inventory::NotAList)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Inventory, E> {
        Ok(Inventory::NotAList)
    }
}

/// Reads the array of nodes into a list reserved for `room` entries; anything
/// but an array is refused as `Vec<InventoryNode>` refuses it ("expected a
/// sequence"). Their typos are refused, or treated as `typos` says.
struct Nodes<'a> {
    room: usize,
    typos: Option<&'a Typos>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Nodes<'_> {
    type Value = Vec<InventoryNode>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Nodes<'_> {
    type Value = Vec<InventoryNode>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut nodes = Vec::with_capacity(self.room);
        match self.typos {
            None => {
                while let Some(node) = seq.next_element()? {
                    nodes.push(node);
                }
            }
            Some(typos) => loop {
                typos.entry.set(nodes.len());
                match seq.next_element_seed(Entry(typos))? {
                    Some(node) => nodes.push(node),
                    None => break,
                }
            },
        }
        Ok(nodes)
    }
}

mod raw {
    use std::collections::BTreeMap;

    use std::fmt;

    use serde::Deserialize;
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
    use serde_json::{Map, Value};

    use super::{DriverInfo, InventoryNode, Typos};

    /// The members of a node as written (each optional, `null` as absent), kept
    /// only while the node is read: [`InventoryNode`] is made from them in place.
    #[derive(Default)]
    struct Given {
        name: Option<String>,
        uuid: Option<String>,
        driver: Option<String>,
        driver_info: Option<Map<String, Value>>,
        ports: Option<Vec<Value>>,
        properties: Option<Properties>,
        capabilities: Option<Value>,
    }

    /// The members hwctl reads from a node.
    const READ: [&str; 7] = [
        "name",
        "uuid",
        "driver",
        "driver_info",
        "ports",
        "properties",
        "capabilities",
    ];

    /// The column titles `openstack baremetal node list --long -f json` gives the
    /// members of [`READ`], in its order (`None`: no such column; the list has no
    /// ports, and capabilities are inside `Properties`). python-ironicclient's
    /// labels (`ironicclient/v1/resource_fields.py`, `Resource.FIELDS`).
    const TITLES: [Option<&str>; READ.len()] = [
        Some("Name"),
        Some("UUID"),
        Some("Driver"),
        Some("Driver Info"),
        None,
        Some("Properties"),
        None,
    ];

    /// The column titles of the other fields `openstack baremetal node list
    /// --long -f json` prints (python-ironicclient's `NODE_DETAILED_RESOURCE`
    /// with its labels), skipped as [`IRONIC_NODE_FIELDS`] are.
    const IRONIC_NODE_TITLES: &[&str] = &[
        "Allocation UUID",
        "Automated Clean",
        "BIOS Interface",
        "Boot Interface",
        "Boot Mode",
        "Chassis UUID",
        "Clean Step",
        "Conductor",
        "Conductor Group",
        "Console Enabled",
        "Console Interface",
        "Created At",
        "Current RAID configuration",
        "Deploy Interface",
        "Deploy Step",
        "Description",
        "Disable Power Off",
        "Driver Internal Info",
        "Extra",
        "Fault",
        "Firmware Interface",
        "Inspect Interface",
        "Inspection Finished At",
        "Inspection Started At",
        "Instance Info",
        "Instance UUID",
        "Last Error",
        "Lessee",
        "Maintenance",
        "Maintenance Reason",
        "Management Interface",
        "Network Configuration",
        "Network Interface",
        "Owner",
        "Parent Node",
        "Power Interface",
        "Power State",
        "Protected",
        "Protected Reason",
        "Provision Updated At",
        "Provisioning State",
        "RAID Interface",
        "Rescue Interface",
        "Reservation",
        "Resource Class",
        "Retired",
        "Retired Reason",
        "Secure Boot",
        "Storage Interface",
        "Target Power State",
        "Target Provision State",
        "Target RAID configuration",
        "Traits",
        "Updated At",
        "Vendor Interface",
    ];

    /// Which member of [`READ`] `key` is, by its field name or its column title.
    fn read_index(key: &str) -> Option<usize> {
        READ.iter()
            .zip(TITLES)
            .position(|(&field, title)| key == field || Some(key) == title)
    }

    /// The other members of Ironic's node resource (API reference, "Nodes";
    /// `openstack baremetal node show -f json` prints the same), skipped: an
    /// export is read as it is.
    const IRONIC_NODE_FIELDS: &[&str] = &[
        "allocation_uuid",
        "automated_clean",
        "bios_interface",
        "boot_interface",
        "boot_mode",
        "chassis_uuid",
        "clean_step",
        "conductor",
        "conductor_group",
        "console_enabled",
        "console_interface",
        "created_at",
        "deploy_interface",
        "deploy_step",
        "description",
        "disable_power_off",
        "driver_internal_info",
        "extra",
        "fault",
        "firmware_interface",
        "inspect_interface",
        "inspection_finished_at",
        "inspection_started_at",
        "instance_info",
        "instance_name",
        "instance_uuid",
        "last_error",
        "lessee",
        "links",
        "maintenance",
        "maintenance_reason",
        "management_interface",
        "network_data",
        "network_interface",
        "owner",
        "parent_node",
        "portgroups",
        "power_interface",
        "power_state",
        "protected",
        "protected_reason",
        "provision_state",
        "provision_updated_at",
        "raid_config",
        "raid_interface",
        "rescue_interface",
        "reservation",
        "resource_class",
        "retired",
        "retired_reason",
        "secure_boot",
        "service_step",
        "shard",
        "states",
        "storage_interface",
        "target_power_state",
        "target_provision_state",
        "target_raid_config",
        "traits",
        "updated_at",
        "vendor_interface",
        "volume",
    ];

    /// A member that is neither read nor one of Ironic's (by field name or
    /// column title), but close to one hwctl reads (`drvier`, `driverinfo`,
    /// `port`, `Drvier Info`): a typo that would otherwise leave the node without
    /// it. The field it is close to, and how to spell it back: its column title
    /// when the typo is written as titles are (a capital or a space) and the field
    /// has one, else its name. A member far from every name (a field a later Ironic
    /// added, a note of the user's) is skipped like Ironic's.
    pub(super) fn misspelled(key: &str) -> Option<(&'static str, &'static str)> {
        if IRONIC_NODE_FIELDS.contains(&key) || IRONIC_NODE_TITLES.contains(&key) {
            return None;
        }
        let squeezed: String = key
            .chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        // A title's words as a field's (`Drvier Info`: `drvier_info`).
        let as_field = key.replace(' ', "_");
        let meant = READ
            .iter()
            .copied()
            .find(|ours| ours.replace('_', "") == squeezed)
            .or_else(|| hwctl_core::driver_info::did_you_mean(&as_field, READ))?;
        let titled = key.chars().any(|c| c.is_uppercase() || c == ' ');
        let title = READ
            .iter()
            .position(|&f| f == meant)
            .and_then(|i| TITLES[i]);
        Some((meant, title.filter(|_| titled).unwrap_or(meant)))
    }

    /// Reads a node object member by member. Every member is optional (`null` is
    /// absent), by its field name or its column title; one given twice (under
    /// either) is an error; a typo is refused or skipped as the [`Typos`] say. The value is the node, or (`Err`) why its members do not make
    /// one, which the caller turns into serde's error.
    pub(super) struct Members<'a>(pub &'a Typos);

    impl<'de> Visitor<'de> for Members<'_> {
        type Value = Result<InventoryNode, String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a node object (with driver, driver_info, …)")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            use serde::de::Error as _;
            /// Reads member `i` (given as its column title or not) into `slot`,
            /// unless it was given already.
            fn once<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
                map: &mut A,
                slot: &mut Option<T>,
                seen: &mut Option<bool>,
                i: usize,
                titled: bool,
            ) -> Result<(), A::Error> {
                match seen.replace(titled) {
                    None => {}
                    Some(before) if before == titled => {
                        return Err(A::Error::duplicate_field(READ[i]));
                    }
                    Some(_) => {
                        return Err(A::Error::custom(format!(
                            "duplicate field `{}` (given as `{}`, the openstack CLI's \
                             column title, and as `{}`)",
                            READ[i],
                            TITLES[i].unwrap_or(READ[i]),
                            READ[i]
                        )));
                    }
                }
                // A value of the wrong type names its member (`driver: invalid type:
                // integer `5`, expected a string`), as written (`Driver` for a
                // column title); serde_json adds the position where it stopped.
                *slot = map.next_value().map_err(|e| {
                    let text = e.to_string();
                    let text = text
                        .rfind(" at line ")
                        .map_or(text.as_str(), |at| &text[..at]);
                    let member = if titled {
                        TITLES[i].unwrap_or(READ[i])
                    } else {
                        READ[i]
                    };
                    A::Error::custom(format!("{member}: {}", unquoted(text)))
                })?;
                Ok(())
            }
            let mut node = Given::default();
            let mut seen = [None; READ.len()];
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                let key = key.as_ref();
                let Some(i) = read_index(key) else {
                    if let Some((meant, shown)) = misspelled(key)
                        && let Some(problem) = self.0.meet(key, meant, shown)
                    {
                        return Err(A::Error::custom(problem));
                    }
                    map.next_value::<IgnoredAny>()?;
                    continue;
                };
                let titled = key != READ[i];
                let (m, seen) = (&mut map, &mut seen[i]);
                match i {
                    0 => once(m, &mut node.name, seen, i, titled)?,
                    1 => once(m, &mut node.uuid, seen, i, titled)?,
                    2 => once(m, &mut node.driver, seen, i, titled)?,
                    3 => once(m, &mut node.driver_info, seen, i, titled)?,
                    4 => once(m, &mut node.ports, seen, i, titled)?,
                    5 => once(m, &mut node.properties, seen, i, titled)?,
                    _ => once(m, &mut node.capabilities, seen, i, titled)?,
                }
            }
            Ok(node.into_node())
        }
    }

    /// serde's `invalid type`/`invalid value` message without the value it quotes
    /// (`invalid type: string "…", expected a map`): a `driver_info` given as a
    /// string may be a secret. The value runs from the first `"` to the last `",
    /// expected` (a `"` inside it does not end it). Other messages are kept whole.
    fn unquoted(text: &str) -> String {
        if !(text.starts_with("invalid type: ") || text.starts_with("invalid value: ")) {
            return text.to_owned();
        }
        match (text.find('"'), text.rfind("\", expected ")) {
            (Some(open), Some(close)) if close > open => {
                format!("{}\"…\"{}", &text[..open], &text[close + 1..])
            }
            (Some(open), _) => format!("{}\"…\"", &text[..open]),
            _ => text.to_owned(),
        }
    }

    impl Given {
        /// The node these members make, or why they make none (the capabilities
        /// are judged before the ports, whatever their order in the file).
        fn into_node(self) -> Result<InventoryNode, String> {
            let mut capabilities = BTreeMap::new();
            if let Some(Properties {
                capabilities: Some(caps),
            }) = &self.properties
            {
                parse_capabilities(caps, &mut capabilities)
                    .map_err(|e| format!("properties.capabilities: {e}"))?;
            }
            if let Some(caps) = &self.capabilities {
                parse_capabilities(caps, &mut capabilities)
                    .map_err(|e| format!("capabilities: {e}"))?;
            }
            let uuid = self.uuid.filter(|u| !u.trim().is_empty());
            let name = self
                .name
                .filter(|n| !n.trim().is_empty())
                .or_else(|| uuid.clone())
                .unwrap_or_default();
            Ok(InventoryNode {
                name,
                driver: self.driver.unwrap_or_default(),
                // An object always makes a `DriverInfo` (moved, not copied).
                driver_info: DriverInfo::from_json(Value::Object(
                    self.driver_info.unwrap_or_default(),
                ))
                .map_err(|e| e.to_string())?,
                ports: match self.ports {
                    Some(given) => ports(given)?,
                    None => Vec::new(),
                },
                capabilities,
                uuid,
            })
        }
    }

    /// A node's `properties`, of which only `capabilities` is read: the other
    /// members (`cpu_arch`, `memory_mb`, …) are skipped, not built into values.
    /// Like the map it replaced (issue 16), it must be a JSON object (`null` is
    /// none): an array is "invalid type: sequence, expected a map", and of a
    /// `capabilities` given twice the last counts.
    struct Properties {
        capabilities: Option<Value>,
    }

    impl<'de> Deserialize<'de> for Properties {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Members;
            impl<'de> Visitor<'de> for Members {
                type Value = Properties;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a map")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Properties, A::Error> {
                    let mut capabilities = None;
                    while let Some(Key(is_capabilities)) = map.next_key()? {
                        if is_capabilities {
                            capabilities = Some(map.next_value::<Value>()?);
                        } else {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                    Ok(Properties { capabilities })
                }
            }
            d.deserialize_map(Members)
        }
    }

    /// A member name of [`Properties`]: whether it is `capabilities` (read
    /// without allocating it).
    struct Key(bool);

    impl<'de> Deserialize<'de> for Key {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Name;
            impl Visitor<'_> for Name {
                type Value = Key;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a member name")
                }
                fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Key, E> {
                    Ok(Key(name == "capabilities"))
                }
            }
            d.deserialize_identifier(Name)
        }
    }

    /// Ironic's `capabilities_to_dict`: `"k1:v1,k2:v2"`
    /// (`hwctl_core::node::ironic_capabilities`: each comma-separated item exactly
    /// one `:`; spaces around keys and values trimmed; a bad one is told by its
    /// number from 1, "item 2", never "entry", which is an inventory's node), or
    /// an object of scalars.
    /// Values are never quoted back in errors (they are not secrets, but a
    /// mistyped file may hold anything).
    fn parse_capabilities(value: &Value, out: &mut BTreeMap<String, String>) -> Result<(), String> {
        match value {
            Value::Null => Ok(()),
            Value::String(s) => {
                // hw-core's parser, the one a library user calls; its reason alone
                // (the caller names the member).
                let parsed = hwctl_core::node::ironic_capabilities(s).map_err(|e| {
                    e.problems()
                        .first()
                        .and_then(|p| p.reason.clone())
                        .unwrap_or_else(|| e.message().to_owned())
                })?;
                out.extend(parsed);
                Ok(())
            }
            Value::Object(map) => {
                for (k, v) in map {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        Value::Null => continue,
                        _ => return Err(format!("{k:?} must be a string, number or boolean")),
                    };
                    out.insert(k.clone(), text);
                }
                Ok(())
            }
            _ => Err("must be a \"KEY:VALUE,…\" string or an object".to_owned()),
        }
    }

    fn ports(values: Vec<Value>) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for v in values {
            match v {
                Value::String(s) => out.push(s),
                Value::Object(mut o) => match o.remove("address") {
                    Some(Value::String(s)) => out.push(s),
                    // The API's node resource lists its ports as links
                    // ({"href": …, "rel": "self"}), not as MACs.
                    None if o.contains_key("href") => {}
                    _ => return Err("a port object needs an \"address\" string".to_owned()),
                },
                _ => return Err("a port is a MAC string or {\"address\": MAC}".to_owned()),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn node(json: &str) -> Result<InventoryNode, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn a_null_name_falls_back_to_the_uuid() {
        let n = node(
            r#"{"name": null, "uuid": "6d85703a-565d-469a-96ce-30b6de53079d", "driver": "ipmi"}"#,
        )
        .unwrap();
        assert_eq!(n.name, "6d85703a-565d-469a-96ce-30b6de53079d");
        let n = node(r#"{"name": "r1-n7", "uuid": "6d85", "driver": "ipmi"}"#).unwrap();
        assert_eq!(n.name, "r1-n7");
        assert_eq!(node(r#"{"name": null}"#).unwrap().name, "");
    }

    #[test]
    fn ironic_capabilities_string_and_object() {
        let n = node(
            r#"{"properties": {"capabilities": "boot_mode:uefi,secure_boot:true", "cpu_arch": "x86_64"},
                "capabilities": {"boot_option": "local"}}"#,
        )
        .unwrap();
        assert_eq!(n.capabilities["boot_mode"], "uefi");
        assert_eq!(n.capabilities["secure_boot"], "true");
        assert_eq!(n.capabilities["boot_option"], "local");
        let n =
            node(r#"{"properties": {"capabilities": {"boot_mode": "uefi", "secure_boot": true}}}"#)
                .unwrap();
        assert_eq!(n.capabilities["secure_boot"], "true");
        // The top level wins over properties.
        let n = node(r#"{"properties": {"capabilities": "boot_mode:bios"}, "capabilities": "boot_mode:uefi"}"#)
            .unwrap();
        assert_eq!(n.capabilities["boot_mode"], "uefi");
        let e = node(r#"{"properties": {"capabilities": "boot_mode=uefi"}}"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("properties.capabilities: item 1 is not KEY:VALUE"),
            "{e}"
        );
        assert!(node(r#"{"properties": {"capabilities": "a:b:c"}}"#).is_err());
        assert!(
            node(r#"{"properties": {"capabilities": ""}}"#)
                .unwrap()
                .capabilities
                .is_empty()
        );
    }

    /// What the members make (ports, capabilities) is judged once the whole node
    /// is read, outside serde_json's reading of the object: a type error further on
    /// comes first, the capabilities before the ports whatever their order, and the
    /// message has no position of its own (an inventory's reader adds the entry's).
    /// Pinned when the node stopped being a `try_from` of a raw node (issue 16).
    #[test]
    fn members_are_judged_once_the_node_is_read() {
        let e = node(r#"{"ports": [7], "name": 5}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "name: invalid type: integer `5`, expected a string at line 1 column 25"
        );
        let e = node(r#"{"ports": [7], "capabilities": "x"}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "capabilities: item 1 is not KEY:VALUE (Ironic's form is \"boot_mode:uefi,secure_boot:true\")"
        );
        let e = node(r#"{"ports": [7]}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a port is a MAC string or {\"address\": MAC}"
        );
        assert_eq!((e.line(), e.column()), (0, 0));
        let e = node(r#"{"ports": [7], "driver": "a", "driver": "b"}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "duplicate field `driver` at line 1 column 38"
        );
    }

    /// Column titles are skipped or read, never taken for typos (python-ironicclient
    /// renamed some across releases: "Provision State" is not today's title, but
    /// far from every name hwctl reads); a title-case typo is one, told the title.
    #[test]
    fn column_titles_are_not_typos_but_title_case_typos_are() {
        for title in [
            "Driver Internal Info",
            "Provisioning State",
            "Provision State",
            "Instance Info",
            "Instance Name",
            "Network Configuration",
            "Extra",
            "Owner",
            "Chassis UUID",
            "Allocation UUID",
        ] {
            assert_eq!(raw::misspelled(title), None, "{title}");
        }
        assert_eq!(
            raw::misspelled("Drvier Info"),
            Some(("driver_info", "Driver Info"))
        );
        assert_eq!(
            raw::misspelled("DriverInfo"),
            Some(("driver_info", "Driver Info"))
        );
        assert_eq!(raw::misspelled("Nmae"), Some(("name", "Name")));
        assert_eq!(raw::misspelled("UUDI"), Some(("uuid", "UUID")));
        assert_eq!(raw::misspelled("Port"), Some(("ports", "ports")));
        assert_eq!(raw::misspelled("drvier"), Some(("driver", "driver")));
        let n = node(
            r#"{"UUID": "u1", "Name": null, "Driver": "ipmi", "Driver Info": {"ipmi_address": "192.0.2.1"},
                "Properties": {"capabilities": "boot_mode:uefi"}, "Provisioning State": "active"}"#,
        )
        .unwrap();
        assert_eq!((n.name.as_str(), n.driver.as_str()), ("u1", "ipmi"));
        assert_eq!(n.capabilities["boot_mode"], "uefi");
        assert!(n.driver_info.as_map().contains_key("ipmi_address"));
    }

    /// `boot_mode` must be a boot mode (Ironic's `bios` or `uefi`; `legacy`, any
    /// case); the other capabilities are free-form.
    #[test]
    fn only_boot_mode_values_are_checked() {
        let caps = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        for ok in ["bios", "uefi", "UEFI", "legacy"] {
            assert!(
                check_capabilities(&caps(&[("boot_mode", ok)])).is_ok(),
                "{ok}"
            );
        }
        assert!(check_capabilities(&caps(&[("secure_boot", "maybe"), ("x", "y")])).is_ok());
        let e = check_capabilities(&caps(&[("boot_mode", "efi")])).unwrap_err();
        assert_eq!(e.kind(), hwctl_core::ErrorKind::InvalidParameter);
        assert_eq!(e.problems()[0].name, "capabilities");
        assert!(e.to_string().contains("did you mean uefi?"), "{e}");
        // A value that is no short word is not quoted back.
        let e = check_capabilities(&caps(&[("boot_mode", "a b \"c\"")])).unwrap_err();
        assert!(!e.to_string().contains("a b"), "{e}");
    }

    #[test]
    fn api_port_links_are_skipped_and_macs_kept() {
        let n = node(
            r#"{"ports": [{"href": "http://127.0.0.1:6385/v1/nodes/x/ports", "rel": "self"},
                          {"address": "52:54:00:cf:2d:31"}, "52:54:00:cf:2d:32"]}"#,
        )
        .unwrap();
        assert_eq!(n.ports, ["52:54:00:cf:2d:31", "52:54:00:cf:2d:32"]);
        assert!(node(r#"{"ports": [{"rel": "self"}]}"#).is_err());
        assert!(node(r#"{"ports": [7]}"#).is_err());
    }
}
