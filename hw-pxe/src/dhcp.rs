//! The DHCP options a node needs to network-boot (Ironic's
//! `pxe_utils.dhcp_options_for_instance`), as typed values and as a dnsmasq
//! configuration a deployer's dnsmasq reads (`--conf-file` or `conf-dir`).

use std::fmt::Write as _;

use hwctl_core::{BootMode, NodeContext, Result};

use crate::boot::Flavor;
use crate::config::PxeConfig;

/// Option 67, boot file name (RFC 2132 §9.5).
pub const OPT_BOOTFILE: u8 = 67;
/// Option 66, TFTP server name (RFC 2132 §9.4).
pub const OPT_TFTP_SERVER: u8 = 66;
/// Option 150, TFTP server address (Cisco; RFC 5859).
pub const OPT_TFTP_SERVER_ADDRESS: u8 = 150;
/// Option 210, PXELINUX path prefix (RFC 5071 §5).
pub const OPT_PATH_PREFIX: u8 = 210;

/// Not a wire option: the BOOTP `siaddr` field ("next server"), which PXE
/// firmware, iPXE, pxelinux and GRUB fetch their boot file from. dnsmasq names it
/// `server-ip-address` (its internal number 255) and Ironic sends it under that
/// name; without it dnsmasq hands out its own address, which is wrong whenever the
/// TFTP server runs elsewhere.
pub const OPT_SERVER_IP_ADDRESS: u8 = 255;

/// Which clients an option is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientMatch {
    /// Every client.
    Any,
    /// Only a client that is already iPXE (user class `iPXE`, or option 175).
    Ipxe,
    /// Only a client that is not iPXE (the firmware's own PXE).
    NotIpxe,
}

/// One DHCP option for a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpOption {
    /// The option code.
    pub code: u8,
    /// Its value.
    pub value: String,
    /// Which clients get it.
    pub client: ClientMatch,
}

/// The options for a node booting with `flavor` in `mode`:
///
/// - `pxe`: 67 = `pxe_bootfile_name` (BIOS) or `uefi_pxe_bootfile_name` (UEFI),
///   66 and 150 = `tftp_server`, 210 = `/` (our TFTP root is the path root);
/// - `ipxe`: 67 = `ipxe_bootfile_name`/`uefi_ipxe_bootfile_name` for firmware PXE
///   (chain-load iPXE over TFTP), `<http_url>/boot.ipxe` for a client already iPXE;
///   66 and 150 = `tftp_server`;
/// - both: the next server ([`OPT_SERVER_IP_ADDRESS`]) = `tftp_server` when it is
///   an IPv4 address.
///
/// ```
/// use hwctl_pxe::{dhcp::{dhcp_options, ClientMatch}, Flavor, PxeConfig};
/// let opts = dhcp_options(&PxeConfig::default(), Flavor::Ipxe, hwctl_core::BootMode::Bios);
/// assert!(opts.iter().any(|o| o.code == 67 && o.client == ClientMatch::Ipxe && o.value.ends_with("/boot.ipxe")));
/// ```
pub fn dhcp_options(config: &PxeConfig, flavor: Flavor, mode: BootMode) -> Vec<DhcpOption> {
    let uefi = mode == BootMode::Uefi;
    let opt = |code, value: &str, client| DhcpOption {
        code,
        value: value.to_owned(),
        client,
    };
    let mut v = Vec::new();
    match flavor {
        Flavor::Pxe => {
            let file = if uefi {
                &config.uefi_pxe_bootfile_name
            } else {
                &config.pxe_bootfile_name
            };
            v.push(opt(OPT_BOOTFILE, file, ClientMatch::Any));
            v.push(opt(OPT_PATH_PREFIX, "/", ClientMatch::Any));
        }
        Flavor::Ipxe => {
            let file = if uefi {
                &config.uefi_ipxe_bootfile_name
            } else {
                &config.ipxe_bootfile_name
            };
            v.push(opt(OPT_BOOTFILE, file, ClientMatch::NotIpxe));
            let script = format!(
                "{}/{}",
                config.http_url.trim_end_matches('/'),
                crate::layout::BOOT_IPXE
            );
            v.push(opt(OPT_BOOTFILE, &script, ClientMatch::Ipxe));
        }
    }
    v.push(opt(OPT_TFTP_SERVER, &config.tftp_server, ClientMatch::Any));
    v.push(opt(
        OPT_TFTP_SERVER_ADDRESS,
        &config.tftp_server,
        ClientMatch::Any,
    ));
    if config.tftp_server.parse::<std::net::Ipv4Addr>().is_ok() {
        v.push(opt(
            OPT_SERVER_IP_ADDRESS,
            &config.tftp_server,
            ClientMatch::Any,
        ));
    }
    v
}

/// The tags dnsmasq needs once to tell iPXE clients apart (Ironic's
/// `--dhcp-match=set:ipxe,175` and the user class `iPXE`).
pub const DNSMASQ_COMMON: &str = "dhcp-match=set:ipxe,175\ndhcp-userclass=set:ipxe,iPXE\n";

/// The dnsmasq tag of the node with id `id`: `hw-` and the id, with every byte
/// other than an ASCII letter, digit or `-` written as `_` and two hex digits
/// (`_` itself too). One tag per id: `a.b` and `a_b` get their own (`hw-a_2eb`,
/// `hw-a_5fb`), so one node's options never reach another's MACs.
///
/// ```
/// use hwctl_pxe::dhcp::dnsmasq_tag;
/// assert_eq!(dnsmasq_tag("node-1"), "hw-node-1");
/// assert_eq!(dnsmasq_tag("a.b"), "hw-a_2eb");
/// assert_eq!(dnsmasq_tag("a_b"), "hw-a_5fb");
/// assert_eq!(dnsmasq_tag("cli-52:54"), "hw-cli-52_3a54");
/// ```
pub fn dnsmasq_tag(id: &str) -> String {
    let mut tag = String::with_capacity(3 + id.len() * 3);
    tag.push_str("hw-");
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            tag.push(char::from(b));
        } else {
            let _ = write!(tag, "_{b:02x}");
        }
    }
    tag
}

/// The dnsmasq configuration for `node`: one `dhcp-host` per port MAC setting the
/// node's tag ([`dnsmasq_tag`]), and its options under that tag.
///
/// ```
/// use hwctl_pxe::{dhcp::{dhcp_options, dnsmasq_config}, Flavor, PxeConfig};
/// let node = hwctl_core::NodeContext::new("n1").with_port("52:54:00:12:34:56".parse().unwrap());
/// let text = dnsmasq_config(&node, &dhcp_options(&PxeConfig::default(), Flavor::Pxe, hwctl_core::BootMode::Bios)).unwrap();
/// assert!(text.contains("dhcp-host=52:54:00:12:34:56,set:hw-n1\n"));
/// assert!(text.contains("dhcp-option=tag:hw-n1,67,pxelinux.0\n"));
/// ```
///
/// # Errors
///
/// [`ErrorKind::MissingParameter`](hwctl_core::ErrorKind::MissingParameter) naming
/// `ports`; [`ErrorKind::InvalidParameter`](hwctl_core::ErrorKind::InvalidParameter)
/// naming `id` when it cannot be a tag or directory name.
pub fn dnsmasq_config(node: &NodeContext, options: &[DhcpOption]) -> Result<String> {
    let id = crate::inputs::node_dir_name(node)?;
    let ports = node.require_ports()?;
    let tag = dnsmasq_tag(&node.id);
    let mut s = format!("# hwctl-pxe: node {id}\n");
    for mac in ports {
        let _ = writeln!(
            s,
            "dhcp-host={},set:{tag}",
            mac.to_string().to_ascii_lowercase()
        );
    }
    for o in options {
        let client = match o.client {
            ClientMatch::Any => "",
            ClientMatch::Ipxe => "tag:ipxe,",
            ClientMatch::NotIpxe => "tag:!ipxe,",
        };
        let value: String = o.value.chars().filter(|c| !c.is_control()).collect();
        if o.code == OPT_SERVER_IP_ADDRESS {
            let _ = writeln!(
                s,
                "dhcp-option=tag:{tag},{client}option:server-ip-address,{value}"
            );
        } else {
            let _ = writeln!(s, "dhcp-option=tag:{tag},{client}{},{value}", o.code);
        }
    }
    Ok(s)
}
