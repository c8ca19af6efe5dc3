//! The command line, as clap parses it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Drive bare-metal nodes over their vendors' own protocols.
#[derive(Debug, Parser)]
#[command(
    name = "hwctl",
    version,
    about,
    long_about = None,
    after_help = "Logging: to stderr at warn; -v info, -vv debug; HWCTL_LOG (tracing's \
                  EnvFilter syntax, e.g. debug or hwctl_ipmi=trace), when set, wins over \
                  -v; RUST_LOG is not read. Secrets are never logged."
)]
pub(crate) struct Cli {
    /// Log more on stderr: `-v` info, `-vv` (or more) debug; default warn.
    /// `HWCTL_LOG`, when set, wins (its filter is used as it is).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Print machine-readable JSON instead of text. Results go to stdout; so does an
    /// error, as one object `{"error": {"kind", "message", "driver", "operation",
    /// "retryable", "problems"}}` instead of the `error [KIND]: …` text on stderr
    /// (stderr keeps only log lines); the exit code is the same as without --json.
    /// A refused command line's error has a one-line `message` and clap's usage in
    /// `"usage"`.
    #[arg(long, global = true)]
    pub json: bool,

    /// Where node state is kept between runs (AMT's wanted boot device, Wake-on-LAN's
    /// recorded power state); default `$XDG_STATE_HOME/hwctl` or
    /// `~/.local/state/hwctl`.
    #[arg(long, value_name = "DIR", global = true, env = "HWCTL_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// The longest the whole command may take, in seconds, retries included; on
    /// expiry it fails with a `timeout` error naming the operation (exit 1). Bounds
    /// the one-node commands; a power change's own `--timeout` extends it. Default 60.
    #[arg(long = "timeout", id = "deadline", value_name = "SECONDS",
          value_parser = whole_seconds, allow_negative_numbers = true)]
    pub deadline: Option<u64>,

    /// The node to act on (for node commands): given before the command.
    #[command(flatten, next_help_heading = "Node options (before the command)")]
    pub node: NodeArgs,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How a single node is described on the command line. These flags belong to the
/// top level only (not global), so `hwctl sim --help` and `hwctl fleet --help` show
/// just what those commands accept.
#[derive(Debug, Args, Default, Clone)]
pub(crate) struct NodeArgs {
    /// Hardware type (`hwctl drivers` lists them); overrides the info file's `driver`.
    #[arg(long, value_parser = OneOf(hardware_type_names))]
    pub driver: Option<String>,
    /// A `driver_info` entry, KEY=VALUE; repeatable; overrides the info file.
    #[arg(long = "info", value_name = "KEY=VALUE")]
    pub info: Vec<String>,
    /// Ironic-style node JSON: `{"driver": …, "driver_info": {…}, "ports": […]}`.
    #[arg(long = "info-file", value_name = "FILE.json")]
    pub info_file: Option<PathBuf>,
    /// A file holding the hardware type's secret (`ipmi_password`, `msftocs_password`,
    /// …): its whole content, one trailing newline removed (an empty file is refused).
    /// Overrides the info file and `HW_<KEY>`. Secrets also come from `HW_<KEY>`
    /// (`HW_IPMI_PASSWORD`) or a prompt on a terminal. With `fleet` the file is every
    /// entry's fallback instead: an entry's own password, or its type's `HW_<KEY>`,
    /// wins over it.
    #[arg(long = "password-file", value_name = "PATH", env = "HW_PASSWORD_FILE")]
    pub password_file: Option<PathBuf>,
    /// Ask on the terminal for the hardware type's secret when it is missing, even
    /// where it is optional (`ipmi_password`); a missing required one is always asked
    /// for when stdin is a terminal.
    #[arg(long = "ask-password")]
    pub ask_password: bool,
    /// A port MAC of the node; repeatable.
    #[arg(long = "port", value_name = "MAC")]
    pub ports: Vec<String>,
    /// A node capability, KEY=VALUE (e.g. boot_mode=uefi); repeatable. `boot_mode`
    /// must be Ironic's `bios` or `uefi` (`legacy` reads as bios; any other value
    /// is refused, exit 2); other capabilities are free-form and passed on.
    #[arg(long = "capability", value_name = "KEY=VALUE")]
    pub capabilities: Vec<String>,
    /// The node's id: how messages name it and the key of its recorded state
    /// (--state-dir; Wake-on-LAN keeps the last power state set under it). Default:
    /// `cli-` and the sorted --port MACs joined by `+`, or `cli` without ports (types
    /// without ports also key their state by address).
    #[arg(long = "node-id", default_value = crate::node_args::DEFAULT_NODE_ID, hide_default_value = true)]
    pub node_id: String,
}

/// Values offered, not enforced: any text parses (an unknown name is refused later
/// by the command, with a "did you mean" and the list of known ones, exit 2), while
/// clap sees the names as the possible values, so `--help` lists them and the
/// completion scripts (`hwctl completions`) complete them instead of file names.
/// Used for `--driver`, `properties TYPE` and `capabilities TYPE`
/// ([`hardware_type_names`]) and
/// `sim TYPE` ([`simulator_names`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OneOf(pub fn() -> &'static [String]);

impl clap::builder::TypedValueParser for OneOf {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            (self.0)()
                .iter()
                .map(|n| clap::builder::PossibleValue::new(n.as_str())),
        ))
    }
}

/// The registry's hardware-type names (`hwctl drivers`).
pub(crate) fn hardware_type_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        crate::registry::registry()
            .hardware_types()
            .map(|h| h.name().to_owned())
            .collect()
    })
}

/// The flags that belong before the command: the node options and the global
/// `--timeout`.
const BEFORE_THE_COMMAND: &[&str] = &[
    "--driver",
    "--info",
    "--info-file",
    "--password-file",
    "--ask-password",
    "--port",
    "--capability",
    "--node-id",
    "--timeout",
];

/// `fleet`'s own options, which go after `fleet` and before its `power ACTION` or
/// `validate`.
const FLEET_OPTIONS: &[&str] = &["--inventory", "--concurrency", "--timeout"];

/// Adds a tip to clap's "unexpected argument" error when the argument is one of
/// `fleet`'s options given after its subcommand ([`FLEET_OPTIONS`]), or a node
/// option (or the global `--timeout`) given after the command: those go before it
/// (`hwctl --driver ipmi --info … power status`). Only the flag is named, never
/// its value (which may be a password). An unknown word after `vendor`
/// (`vendor echo`) gets the tip [`vendor_call_tip`]. Other errors are returned as
/// they are.
pub(crate) fn with_order_tip(mut err: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if err.kind() == ErrorKind::InvalidSubcommand {
        return vendor_call_tip(err);
    }
    if err.kind() != ErrorKind::UnknownArgument {
        return err;
    }
    let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg) else {
        return err;
    };
    let flag = arg.split('=').next().unwrap_or(arg);
    // `fleet`'s own options after its `power ACTION`, `boot set` or `validate` (they were
    // accepted there while the interface was a positional argument).
    let in_fleet = matches!(err.get(ContextKind::Usage),
        Some(ContextValue::StyledStr(usage)) if usage.to_string().contains("hwctl fleet "));
    if in_fleet && FLEET_OPTIONS.contains(&flag) {
        let tip = format!(
            "'{flag}' is fleet's and goes before `power`, `boot` or `validate`: hwctl \
             fleet --inventory FILE [--concurrency N] [--timeout SECONDS] power status"
        );
        err.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![tip.into()]),
        );
        return err;
    }
    if !BEFORE_THE_COMMAND.contains(&flag) {
        return err;
    }
    let tip = format!(
        "'{flag}' goes before the command: hwctl {flag} … <command> (e.g. hwctl --driver ipmi \
         --info ipmi_address=10.0.0.5 power status)"
    );
    err.insert(
        ContextKind::Suggested,
        ContextValue::StyledStrs(vec![tip.into()]),
    );
    err
}

/// Ends the process on a command line clap refused: with the tips of
/// [`with_order_tip`]; help and version are printed as clap prints them. A refused
/// command line is an `invalid-parameter` error like any other hwctl refuses: on
/// stderr as `error [invalid-parameter]: …` (clap's text, with the kind every other
/// hwctl error names, so a script or a reader sees one format), or, when the
/// arguments hold `--json` (before any `--`), one JSON object on stdout,
/// `{"error": {"kind": "invalid-parameter", "message": …, "usage": …}}`: the message
/// on one line, clap's usage in `usage` ([`one_line_usage_error`]). The exit code is clap's
/// (2, a usage error, as the README and the man page's EXIT STATUS say).
pub(crate) fn exit_on_parse_error(err: clap::Error) -> ! {
    use clap::error::ErrorKind;
    let err = with_order_tip(err);
    let informational = matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let json = std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    let kind = hwctl_core::ErrorKind::InvalidParameter.as_str();
    if informational {
        // `hwctl --json power` (a subcommand left out) is an error too: the help
        // goes to stderr as without --json, and stdout gets the one JSON error
        // `--json` promises, naming the usage.
        if json && err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            let help = err.render().to_string();
            eprint!("{help}");
            let usage = help
                .lines()
                .find_map(|l| l.trim().strip_prefix("Usage: "))
                .unwrap_or("hwctl --help");
            crate::output::say_json(&serde_json::json!({"error": {
                "kind": kind,
                "message": "a subcommand or argument is missing (the help is on stderr)",
                "usage": usage,
                "driver": null,
                "operation": null,
                "retryable": false,
                "problems": [],
            }}));
            std::process::exit(2)
        }
        err.exit()
    }
    if !json {
        eprint!("{}", tagged_usage_error(&err, kind));
        std::process::exit(err.exit_code())
    }
    let (message, usage) = one_line_usage_error(&err.render().to_string());
    // clap leaves its usage out of some errors (an invalid value): the usage of
    // the subcommand the arguments reached.
    let usage = usage.or_else(reached_usage);
    crate::output::say_json(&serde_json::json!({"error": {
        "kind": kind,
        "message": message,
        "usage": usage,
        "driver": null,
        "operation": null,
        "retryable": false,
        "problems": [],
    }}));
    std::process::exit(err.exit_code())
}

/// The usage line of the deepest subcommand this process's arguments name
/// (`hwctl fleet --inventory <FILE> power <ACTION>` for `… fleet … power stat`),
/// for a usage error clap rendered without one.
fn reached_usage() -> Option<String> {
    use clap::CommandFactory as _;
    let mut cmd = Cli::command();
    cmd.build();
    let mut at = &cmd;
    // `args_os`: `args` panics on an argument that is not UTF-8 (a file name).
    for arg in std::env::args_os().skip(1).take_while(|a| a != "--") {
        if let Some(sub) = arg.to_str().and_then(|a| at.find_subcommand(a)) {
            at = sub;
        }
    }
    let mut at = at.clone();
    let usage = at.render_usage().to_string();
    let usage = usage.trim();
    Some(
        usage
            .strip_prefix("Usage:")
            .unwrap_or(usage)
            .trim()
            .to_owned(),
    )
}

/// clap's rendered usage error `text` as `--json` carries it: the message on one
/// line (its `error: ` dropped, clap's continuation lines joined with spaces, its
/// `tip:` lines after `; `), and the `Usage:` lines apart (joined with `; `, `None`
/// when clap gave none). The closing "For more information, try '--help'." is
/// dropped.
fn one_line_usage_error(text: &str) -> (String, Option<String>) {
    let mut message: Vec<&str> = Vec::new();
    let mut usage: Vec<&str> = Vec::new();
    let mut in_usage = false;
    for line in text.lines().map(str::trim) {
        if let Some(first) = line.strip_prefix("Usage:") {
            in_usage = true;
            usage.push(first.trim());
        } else if line.is_empty() {
            in_usage = false;
        } else if in_usage {
            usage.push(line);
        } else if !line.starts_with("For more information") {
            message.push(line);
        }
    }
    let mut joined = String::new();
    for line in message {
        if !joined.is_empty() {
            joined.push_str(if line.starts_with("tip:") { "; " } else { " " });
        }
        joined.push_str(line);
    }
    let message = joined.strip_prefix("error: ").unwrap_or(&joined).to_owned();
    let usage = (!usage.is_empty()).then(|| usage.join("; "));
    (message, usage)
}

/// clap's text of `err` (in colour when stderr is a terminal, as clap prints it)
/// with its leading `error:` tagged with `kind`: `error [invalid-parameter]: …`.
fn tagged_usage_error(err: &clap::Error, kind: &str) -> String {
    let styled = err.render();
    let text = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        styled.ansi().to_string()
    } else {
        styled.to_string()
    };
    text.replacen("error:", &format!("error [{kind}]:"), 1)
}

/// Adds a tip to clap's "unrecognized subcommand" error of `vendor WORD` (a method
/// name given without `call`): `hwctl … vendor call WORD`, and `vendor list` for the
/// names. Not when clap found a close subcommand (`vendor lst`: it suggests
/// `list`), nor for other commands. WORD is repeated only when it looks like a
/// method name (letters, digits, `_`, `-`, `.`), so a mistyped secret is not.
fn vendor_call_tip(mut err: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue};
    if err.get(ContextKind::SuggestedSubcommand).is_some() {
        return err;
    }
    let under_vendor = matches!(
        err.get(ContextKind::Usage),
        Some(ContextValue::StyledStr(usage)) if usage.to_string().contains("hwctl vendor ")
    );
    let Some(ContextValue::String(word)) = err.get(ContextKind::InvalidSubcommand) else {
        return err;
    };
    if !under_vendor {
        return err;
    }
    let plain = !word.is_empty()
        && word.len() <= 64
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    let method = if plain { word.as_str() } else { "METHOD" };
    let tip = format!(
        "to call the vendor method '{method}', add `call`: hwctl … vendor call {method} \
         [--args JSON]; `hwctl … vendor list` lists the methods"
    );
    err.insert(
        ContextKind::Suggested,
        ContextValue::StyledStrs(vec![tip.into()]),
    );
    err
}

/// Parses a `--timeout`: whole seconds from 1 to 86400 (a day). A fraction, a
/// unit or a sign is refused with what was given and what is accepted, not Rust's
/// "invalid digit found in string".
pub(crate) fn whole_seconds(text: &str) -> Result<u64, String> {
    let accepted = "whole seconds from 1 to 86400";
    match text.parse::<u64>() {
        Ok(secs) if (1..=86_400).contains(&secs) => Ok(secs),
        Ok(secs) => Err(format!("{secs} is not in 1..=86400 ({accepted})")),
        Err(_) if text.starts_with('-') && text.parse::<f64>().is_ok() => {
            Err(format!("{text} is not in 1..=86400 ({accepted})"))
        }
        Err(_) if text.contains('.') && text.parse::<f64>().is_ok() => Err(format!(
            "'{text}' has a fraction: {accepted} (sub-second timeouts are not offered)"
        )),
        Err(_) => Err(format!("'{text}' is not a number of seconds: {accepted}")),
    }
}

/// `sim --listen ADDR`: an `IP:PORT` (`127.0.0.1:8080`, `[::1]:8080`) or
/// `localhost:PORT`, read as `127.0.0.1:PORT` (the simulators listen on loopback
/// only; no name is looked up). Whether the address is a loopback one is checked
/// when the simulator starts, with its own message.
///
/// # Errors
///
/// What was given and what is accepted, for clap's `invalid value` error.
pub(crate) fn listen_address(text: &str) -> Result<SocketAddr, String> {
    let accepted = "IP:PORT on loopback, e.g. 127.0.0.1:8080, [::1]:8080 or localhost:8080";
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(format!("'{text}' has no port ({accepted})"));
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("'{port}' is not a port number ({accepted})"))?;
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    Err(format!(
        "'{host}' is not an IP address or localhost ({accepted})"
    ))
}

/// The most nodes `fleet --concurrency` drives at once.
const MAX_CONCURRENCY: u16 = 4096;

/// How many nodes `fleet` drives at once without `--concurrency`.
pub(crate) const DEFAULT_CONCURRENCY: u16 = 16;

/// `fleet --concurrency N`: a whole number of nodes from 1 to [`MAX_CONCURRENCY`].
/// A negative number is refused as a number (clap took `-1` for an option and
/// said "to pass '-1' as a value, use '-- -1'", which `fleet` then refused too).
///
/// # Errors
///
/// Why `text` is not such a number, for clap's `invalid value` error.
pub(crate) fn nodes_at_once(text: &str) -> Result<u16, String> {
    let accepted =
        format!("how many nodes to drive at once: a whole number from 1 to {MAX_CONCURRENCY}");
    match text.parse::<u64>() {
        Ok(n) if (1..=u64::from(MAX_CONCURRENCY)).contains(&n) => {
            u16::try_from(n).map_err(|_| format!("{n} is too large ({accepted})"))
        }
        Ok(0) => Err(format!("0 is not a positive number ({accepted})")),
        Ok(n) => Err(format!("{n} is more than {MAX_CONCURRENCY} ({accepted})")),
        Err(_) if text.starts_with('-') && text.parse::<f64>().is_ok() => {
            Err(format!("{text} is not a positive number ({accepted})"))
        }
        Err(_) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => Err(format!(
            "{text} is more than {MAX_CONCURRENCY} ({accepted})"
        )),
        Err(_) => Err(format!("'{text}' is not a whole number ({accepted})")),
    }
}

/// The simulator names (`hwctl sim --list`).
pub(crate) fn simulator_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        crate::sims::SIMULATORS
            .iter()
            .map(|n| (*n).to_owned())
            .collect()
    })
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Read or change the node's power state.
    Power {
        /// The power action.
        #[command(subcommand)]
        action: PowerAction,
    },
    /// Read or set the boot device.
    Boot {
        /// The boot action.
        #[command(subcommand)]
        action: BootAction,
    },
    /// Read or set the boot mode.
    #[command(name = "boot-mode")]
    BootMode {
        /// The boot-mode action.
        #[command(subcommand)]
        action: BootModeAction,
    },
    /// Read the node's sensors.
    Sensors,
    /// Inject a non-maskable interrupt.
    Nmi,
    /// Attach the terminal to the node's serial console: raw mode on a terminal, `~.`
    /// after a newline leaves (`~~` sends a `~`), Ctrl-C goes to the node; from a
    /// pipe, the input is sent and every reply printed before it exits.
    Console,
    /// List or call vendor methods.
    Vendor {
        /// The vendor action.
        #[command(subcommand)]
        action: VendorAction,
    },
    /// Validate the node's driver_info without touching the device.
    Validate,
    /// Show what the node's interfaces can do, or with TYPE what a hardware type can do.
    ///
    /// For a node (the node options before the command), a table per interface:
    /// `power` (whether the state can be read, the changes it accepts, and those only
    /// recorded, not performed: Wake-on-LAN's `off`), `management` (the boot devices
    /// it can set, and the boot modes), `console`, `vendor` (its vendor methods), and
    /// `boot`: network boot through the network-boot interfaces (`pxe`, `ipxe`) that
    /// `boot prepare-ramdisk --boot-interface` takes. Whether the boot device can be
    /// set is `management`'s `boot_devices` (empty: it cannot), not `boot`'s.
    ///
    /// An interface the node (or the type) lacks reads `none (hardware type X has no
    /// management interface)`, in both tables. The heading names the node's id,
    /// given or the default (`node cli, hardware type …`).
    ///
    /// With `--json`: `{"node", "hardware_type", "interfaces", "capabilities":
    /// {"power": {"can_query", "targets", "recorded_only"}, "management":
    /// {"boot_devices", "can_set_boot_device", …}, "console", "vendor"},
    /// "boot_interfaces"}`; `interfaces` names those the node has, and one it lacks
    /// is `null` (`console` `false`, `vendor` `[]`).
    ///
    /// `capabilities TYPE` takes no node options: it answers from what the hardware
    /// type declares (its interfaces, its network-boot interfaces) and from a node of
    /// it built with no driver_info at all (every declared default). For a type whose
    /// nodes need driver_info (an address) or ports, it shows what the type declares
    /// a node of it can do *at most*, with what that depends on (the BMC's allowed
    /// reset types, Wake-on-LAN's `wol_power_off`) and what a node needs (JSON:
    /// `"at_most": true`, `"notes": {"power.targets": "…"}`, `"depends_on":
    /// [names]`). A node never claims more than its type declares (the driver tests
    /// check it), but may do less: ask the node itself for the final answer.
    Capabilities {
        /// A hardware type (`hwctl drivers` lists them): what the type can do, with
        /// no node.
        #[arg(value_name = "TYPE", value_parser = OneOf(hardware_type_names))]
        hardware_type: Option<String>,
    },
    /// List the hardware types and their interfaces.
    Drivers,
    /// List a hardware type's driver_info properties.
    Properties {
        /// The hardware type (`hwctl drivers` lists them).
        #[arg(value_name = "TYPE", value_parser = OneOf(hardware_type_names))]
        hardware_type: String,
    },
    /// Act on every node of an inventory file concurrently. Secrets the inventory
    /// lacks come from `HW_<KEY>` or `hwctl --password-file PATH fleet …` (the file
    /// is the login password of each entry that gives a user name and no password,
    /// where its type's `HW_<KEY>` is unset: the more specific source wins).
    Fleet {
        /// Inventory JSON: an array of Ironic-style nodes, or `{"nodes": [...]}` (an
        /// `openstack baremetal node list --long -f json` export reads as it is); at
        /// least one node, every one with a known `driver`, and no two of one name
        /// or one `uuid` (an entry without `name` or `uuid` is called `node-N`, N its position
        /// counted from 0). A file that breaks these is refused (exit 2) before any
        /// node is touched, every bad entry named by its number (from 1). For a change
        /// (`on`, `off`, `reboot`, `soft-off`, `soft-reboot`, `boot set`), every entry's
        /// driver_info must also validate (as
        /// `hwctl validate` checks one node, offline), and no two entries may address
        /// one machine (the same driver, driver_info and ports, secrets and user
        /// names aside): either refuses the sweep the same way; a `status` sweep
        /// fails such an entry's row alone and reads a machine listed twice once per entry.
        /// `fleet --inventory FILE validate` runs every check alone and lists every
        /// failing entry. `-` reads the inventory from stdin (`openstack baremetal
        /// node list --long -f json | hwctl fleet --inventory - validate`; messages
        /// call it `stdin`). These options go before `power`, `boot` or `validate`.
        #[arg(long, value_name = "FILE")]
        inventory: PathBuf,
        /// How many nodes to drive at once. Each endpoint gets at most its fair
        /// share, and a `status` sweep no more of an endpoint's nodes than the
        /// requests it serves at once (`*_max_connections`, one per BMC or PDU).
        /// A whole number from 1 to 4096 (default 16); a negative one, or 0, is
        /// refused as such. `validate` contacts no node and refuses it.
        #[arg(long, value_name = "N", value_parser = nodes_at_once,
              allow_negative_numbers = true)]
        concurrency: Option<u16>,
        /// The longest each node's operation may take, in seconds (1 to 86400); a
        /// node that takes longer fails with `timeout` (a change accepted but not
        /// confirmed in time: the power engine's `power-state-failure`, as for one
        /// node), naming the limit and the operation, and the others go on. Default: 60 for `status` (the
        /// one-node default), the power engine's 60 for a change.
        #[arg(long, value_name = "SECONDS", value_parser = whole_seconds,
              allow_negative_numbers = true)]
        timeout: Option<u64>,
        /// What to do: `power ACTION` on every node, or `validate` the inventory.
        #[command(subcommand)]
        command: FleetCommand,
    },
    /// Start every built-in simulator and drive a mixed fleet on them.
    Demo,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout;
    /// e.g. `hwctl completions bash > ~/.local/share/bash-completion/completions/hwctl`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the hwctl(1) man page (roff) to stdout, e.g. `hwctl man | man -l -`; with
    /// `--dir DIR`, write it and one page per command (hwctl-power(1),
    /// hwctl-power-on(1), …: those its SUBCOMMANDS section names) into DIR instead.
    Man {
        /// Write every page into this directory (created if missing), as
        /// `hwctl.1`, `hwctl-power.1`, …, and print their paths.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Run one simulator in the foreground (Ctrl-C or SIGTERM stops it).
    Sim {
        /// The simulator (`hwctl sim --list` shows them).
        #[arg(value_name = "TYPE", required_unless_present = "list",
              value_parser = OneOf(simulator_names))]
        name: Option<String>,
        /// Address to listen on (loopback only; default: an ephemeral port). A
        /// simulator of several BMCs (`ipmi`: 3, `staging-nm`: 2) puts them on
        /// consecutive ports from ADDR's (port 0: each an ephemeral port);
        /// `staging-libvirt` has no socket and refuses it.
        /// `localhost:PORT` is `127.0.0.1:PORT`.
        #[arg(long, value_name = "ADDR", value_parser = listen_address)]
        listen: Option<SocketAddr>,
        /// List the simulators.
        #[arg(long)]
        list: bool,
    },
}

/// `power …`
#[derive(Debug, Subcommand, Clone, Copy)]
pub(crate) enum PowerAction {
    /// Print the power state.
    Status,
    /// Power on.
    On(TimeoutArg),
    /// Power off (hard).
    Off(TimeoutArg),
    /// Ask the OS to shut down.
    SoftOff(TimeoutArg),
    /// Hard reboot (powers on a node that is off).
    Reboot(TimeoutArg),
    /// Soft reboot.
    SoftReboot(TimeoutArg),
}

/// `--timeout SECONDS`
#[derive(Debug, Args, Clone, Copy)]
pub(crate) struct TimeoutArg {
    /// Seconds to wait for the state to be confirmed (1 to 86400, whole seconds, as
    /// the global `--timeout`).
    #[arg(long, value_name = "SECONDS", value_parser = whole_seconds,
          allow_negative_numbers = true)]
    pub timeout: Option<u64>,
}

/// `boot …`
#[derive(Debug, Subcommand)]
pub(crate) enum BootAction {
    /// Print the boot device.
    ///
    /// `none (no override reported …)` when the device reports no override (the
    /// node follows its own boot order); `persistent: unknown` says when the
    /// device cannot report whether the setting is for one boot or every boot
    /// (msftocs).
    Get,
    /// Set the boot device (next boot only unless --persistent).
    ///
    /// A device that can only set it for every boot (staging-libvirt: capabilities
    /// say `persistent only`) sets it so and says that it did.
    Set {
        /// One of Ironic's boot devices (pxe, disk, cdrom, bios, safe, wanboot,
        /// iscsiboot, floppy, uefihttp) that this node's driver can set: `hwctl …
        /// boot devices` lists those; any other is refused with that list.
        device: String,
        /// Apply to every boot.
        #[arg(long)]
        persistent: bool,
    },
    /// List the boot devices `boot set` takes on this node.
    ///
    /// A listing: a node without a management interface (Wake-on-LAN, iBoot) has
    /// none to list, so it prints "no boot devices (hardware type X has no
    /// management interface)" (JSON `"boot_devices": []`) and succeeds, as `vendor
    /// list` does; `boot get` and `boot set` there are `unsupported` errors (exit 1).
    Devices,
    /// Prepare the node's deploy (or rescue) ramdisk network boot (hwctl-pxe).
    ///
    /// Writes the node's files under the boot root (in a directory named from the
    /// node id: `:` and `+` of the default id become `~3a`, `~2b`) and sets the boot
    /// device to pxe through the node's management interface. A node without one
    /// (Wake-on-LAN, iBoot) keeps its own boot order: the output says the boot
    /// device was not set (JSON `"boot_device_set": false`), so the machine must
    /// already boot from the network first.
    #[command(name = "prepare-ramdisk")]
    PrepareRamdisk {
        /// Boot interface and configuration.
        #[command(flatten)]
        boot: BootIfaceArgs,
        /// A ramdisk kernel parameter, KEY=VALUE (e.g. ipa-api-url=…); repeatable.
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
        /// Prepare the rescue ramdisk (rescue_kernel, rescue_ramdisk) instead.
        #[arg(long)]
        rescue: bool,
    },
    /// Remove what prepare-ramdisk wrote.
    #[command(name = "clean-up-ramdisk")]
    CleanUpRamdisk {
        /// Boot interface and configuration.
        #[command(flatten)]
        boot: BootIfaceArgs,
    },
    /// Prepare the deployed instance's boot (instance_info boot_option local, netboot or ramdisk).
    ///
    /// Sets the boot device (disk for local, else pxe) as prepare-ramdisk does, and
    /// says so when the node has no management interface to set it with.
    #[command(name = "prepare-instance")]
    PrepareInstance {
        /// Boot interface and configuration.
        #[command(flatten)]
        boot: BootIfaceArgs,
        /// An instance_info entry, KEY=VALUE (boot_option, kernel, ramdisk, root_uuid, …); repeatable.
        #[arg(long = "instance-info", value_name = "KEY=VALUE")]
        instance_info: Vec<String>,
    },
    /// Remove what prepare-instance wrote.
    #[command(name = "clean-up-instance")]
    CleanUpInstance {
        /// Boot interface and configuration.
        #[command(flatten)]
        boot: BootIfaceArgs,
        /// An instance_info entry, KEY=VALUE; repeatable.
        #[arg(long = "instance-info", value_name = "KEY=VALUE")]
        instance_info: Vec<String>,
    },
    /// Serve the boot roots over the embedded TFTP and HTTP servers until Ctrl-C.
    ///
    /// Prints `serving TFTP on ADDR from ROOT` (and HTTP) once bound; with --json,
    /// `{"serving": [{"tftp": ADDR, "root": ROOT}, {"http": …}]}`.
    Serve {
        /// The boot configuration (TOML with Ironic's option names).
        #[arg(long = "boot-config", value_name = "FILE.toml")]
        boot_config: PathBuf,
        /// Serve tftp_root (read-only) over TFTP on this UDP address.
        #[arg(long, value_name = "ADDR")]
        tftp: Option<SocketAddr>,
        /// Serve http_root over HTTP on this TCP address.
        #[arg(long, value_name = "ADDR")]
        http: Option<SocketAddr>,
    },
}

/// The boot interface of `boot prepare-*`/`clean-up-*`.
#[derive(Debug, Args, Clone)]
pub(crate) struct BootIfaceArgs {
    /// pxe or ipxe (default: the hardware type's first supported one).
    #[arg(long = "boot-interface", value_name = "NAME")]
    pub boot_interface: Option<String>,
    /// The boot configuration (TOML with Ironic's option names: tftp_root, http_root, http_url, …).
    #[arg(long = "boot-config", value_name = "FILE.toml")]
    pub boot_config: PathBuf,
}

/// `boot-mode …`
#[derive(Debug, Subcommand)]
pub(crate) enum BootModeAction {
    /// Print the boot mode.
    Get,
    /// Set the boot mode (bios or uefi).
    Set {
        /// bios (also written legacy) or uefi, in any case
        mode: String,
    },
}

/// `vendor …`
#[derive(Debug, Subcommand)]
pub(crate) enum VendorAction {
    /// List the vendor methods. A hardware type with no vendor interface has none to
    /// list: it prints "no vendor methods (hardware type X has no vendor interface)"
    /// (JSON `"methods": []`, as `capabilities` shows `vendor: none (…)`) and
    /// succeeds, as `boot devices` does; `vendor call` on it is an `unsupported`
    /// error (exit 1).
    List,
    /// Call a vendor method (`vendor list` names them).
    Call {
        /// The method name.
        method: String,
        /// The HTTP verb (default: the method's first).
        #[arg(long = "http-method", value_name = "VERB")]
        http_method: Option<String>,
        /// JSON arguments.
        #[arg(long, value_name = "JSON")]
        args: Option<String>,
    },
}

/// What `fleet` does: drive an interface of every node, or check the inventory.
/// The fleet options (`--inventory`, `--concurrency`, `--timeout`) go before it.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum FleetCommand {
    /// Drive every node's power interface.
    Power {
        /// What to do to every node.
        #[arg(value_enum)]
        action: FleetPowerAction,
    },
    /// Set every node's boot device (a change: every entry is checked first, as
    /// for a power change, and its type must be able to set that device).
    Boot {
        /// What to do to every node.
        #[command(subcommand)]
        action: FleetBootAction,
    },
    /// Check every entry offline, as a power change does before it touches
    /// any node, and list every entry that does not validate; no node is contacted.
    ///
    /// Each entry's node is built from its `driver_info`, `ports` and
    /// `capabilities` (secrets filled from `HW_<KEY>` and `--password-file` as a
    /// sweep fills them), as `hwctl validate` checks one node. Prints `N entries,
    /// N valid, 0 invalid (checked offline: no node was touched)` and exits 0 when
    /// every entry validates; otherwise lists each failing entry with its problems (and where a
    /// missing secret comes from), and exits 2 (`--json`: `{"valid": false,
    /// "total", "invalid", "entries": [{"entry", "name", "driver", "error"}],
    /// "error"}`, `entries` holding only the failing ones). `--timeout` and
    /// `--concurrency` are refused (usage, exit 2): no node is contacted.
    Validate,
}

/// `fleet … boot`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum FleetBootAction {
    /// Set every node's boot device (next boot only unless --persistent), as
    /// `hwctl boot set` does for one node. Every entry's type must be able to set
    /// it (`hwctl capabilities TYPE`: its boot devices; Wake-on-LAN and iBoot have
    /// no management): an inventory with one that cannot is refused before any
    /// node is touched. A type that sets only persistently (staging-libvirt) sets
    /// it so, and its row says `persistent`.
    Set {
        /// One of Ironic's boot devices (pxe, disk, cdrom, bios, safe, wanboot,
        /// iscsiboot, floppy, uefihttp).
        device: String,
        /// Apply to every boot.
        #[arg(long)]
        persistent: bool,
    },
}

/// What `fleet` does to every node: a power action, or setting the boot device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FleetAction {
    /// `fleet … power ACTION`.
    Power(FleetPowerAction),
    /// `fleet … boot set DEVICE [--persistent]`.
    BootSet {
        /// The device.
        device: hwctl_core::BootDevice,
        /// For every boot, not the next only.
        persistent: bool,
    },
}

impl FleetAction {
    /// `fleet … power status`.
    pub(crate) const STATUS: FleetAction = FleetAction::Power(FleetPowerAction::Status);
}

/// What `fleet … power` does to every node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FleetPowerAction {
    /// Read every node's power state.
    Status,
    /// Power every node on.
    On,
    /// Power every node off.
    Off,
    /// Reboot every node.
    Reboot,
    /// Ask every node's operating system to shut down (ACPI soft off) and wait
    /// until it is off. Every entry's type must accept it (`hwctl capabilities
    /// TYPE`: `soft-off` among the power targets; IPMI and Redfish do, OCS,
    /// iBoot and Wake-on-LAN do not): an inventory with one that does not is
    /// refused before any node is touched, as a `driver_info` that does not
    /// validate is.
    SoftOff,
    /// Ask every node's operating system to reboot, checked as `soft-off` is.
    SoftReboot,
}

impl FleetAction {
    /// The power target of a power change; `None` for `status` and a boot set.
    pub(crate) fn target(self) -> Option<hwctl_core::PowerTarget> {
        use hwctl_core::PowerTarget;
        let FleetAction::Power(power) = self else {
            return None;
        };
        match power {
            FleetPowerAction::Status => None,
            FleetPowerAction::On => Some(PowerTarget::On),
            FleetPowerAction::Off => Some(PowerTarget::Off),
            FleetPowerAction::Reboot => Some(PowerTarget::Reboot),
            FleetPowerAction::SoftOff => Some(PowerTarget::SoftOff),
            FleetPowerAction::SoftReboot => Some(PowerTarget::SoftReboot),
        }
    }

    /// The action as the command line spells it (`soft-off`, `boot set`).
    pub(crate) fn name(self) -> &'static str {
        match (self, self.target()) {
            (FleetAction::BootSet { .. }, _) => "boot set",
            (_, None) => "status",
            (_, Some(target)) => target.as_str(),
        }
    }

    /// Whether it changes the nodes (everything but `status`): checked first, all
    /// or nothing.
    pub(crate) fn changes(self) -> bool {
        self != FleetAction::STATUS
    }
}
