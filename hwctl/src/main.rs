//! `hwctl`: drive bare-metal nodes over their vendors' own protocols — one node, a
//! fleet from an inventory file, or a demo fleet on the built-in simulators.
//!
//! Exit codes: 0 on success, 2 on usage errors and invalid or missing parameters,
//! 1 on any other failure, 130 when Ctrl-C stopped a fleet sweep. Errors go to stderr
//! and name their kind; with `--json`, to stdout as one JSON object instead.

#![forbid(unsafe_code)]

mod boot_cmd;
mod cli;
mod commands;
mod completions;
mod console;
mod demo;
mod fleet;
mod inventory;
mod logging;
mod node_args;
mod output;
mod registry;
mod secrets;
mod signals;
mod sim_cmd;
mod sims;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use hwctl_core::{Registry, Result};

use crate::cli::{Cli, Command};
use crate::output::{error_json_for, exit_code, print_error, say, say_json};

/// mimalloc instead of the system allocator: a sweep allocates and frees small
/// blocks per node and per request, and glibc's malloc was ~30 % of a sweep's
/// instructions (docs/decisions.md, 83).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Logging to stderr at `HWCTL_LOG`'s filter when it is set; otherwise at the
/// level `-v` asks for ([`level_of`]: warn, `-v` info, `-vv` debug). A value of
/// `HWCTL_LOG` that is not a filter is said on stderr, not ignored, and logging
/// stays at the `-v` level.
fn init_tracing(verbose: u8) {
    let level = level_of(verbose);
    let filter = match tracing_subscriber::EnvFilter::try_from_env("HWCTL_LOG") {
        Ok(filter) => filter,
        Err(e) => {
            if let Some(value) = std::env::var_os("HWCTL_LOG") {
                eprintln!(
                    "hwctl: HWCTL_LOG={:?} is not a log filter ({e}); logging at {level} \
                     (the syntax is tracing's EnvFilter: `debug`, `hwctl_ipmi=trace`, …)",
                    value.to_string_lossy()
                );
            }
            tracing_subscriber::EnvFilter::new(level)
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .event_format(logging::NodeFormat::new())
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The log level of `-v` given `verbose` times: `warn` (none), `info` (`-v`),
/// `debug` (`-vv` or more).
fn level_of(verbose: u8) -> &'static str {
    match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    }
}

/// The default of `hwctl --timeout`: the longest a one-node command may take.
const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// What the command does, as errors name it (`power status`, `boot set`).
fn operation_of(command: &Command) -> &'static str {
    use crate::cli::{BootAction as B, BootModeAction as M, PowerAction as P, VendorAction as V};
    match command {
        Command::Power { action } => match action {
            P::Status => "power status",
            P::On(_) => "power on",
            P::Off(_) => "power off",
            P::SoftOff(_) => "power soft-off",
            P::Reboot(_) => "power reboot",
            P::SoftReboot(_) => "power soft-reboot",
        },
        Command::Boot { action } => match action {
            B::Get => "boot get",
            B::Set { .. } => "boot set",
            B::Devices => "boot devices",
            B::PrepareRamdisk { .. } => "boot prepare-ramdisk",
            B::CleanUpRamdisk { .. } => "boot clean-up-ramdisk",
            B::PrepareInstance { .. } => "boot prepare-instance",
            B::CleanUpInstance { .. } => "boot clean-up-instance",
            B::Serve { .. } => "boot serve",
        },
        Command::BootMode { action } => match action {
            M::Get => "boot-mode get",
            M::Set { .. } => "boot-mode set",
        },
        Command::Sensors => "sensors",
        Command::Nmi => "nmi",
        Command::Console => "console",
        Command::Vendor { action } => match action {
            V::List => "vendor list",
            V::Call { .. } => "vendor call",
        },
        Command::Validate => "validate",
        Command::Capabilities { .. } => "capabilities",
        Command::Drivers => "drivers",
        Command::Properties { .. } => "properties",
        Command::Fleet { .. } => "fleet",
        Command::Demo => "demo",
        Command::Completions { .. } => "completions",
        Command::Man { .. } => "man",
        Command::Sim { .. } => "sim",
    }
}

/// The deadline of the whole command: `--timeout`, else [`DEFAULT_DEADLINE`] plus
/// a power change's own `--timeout`. `None` for commands that run until stopped or
/// bound themselves (console, fleet, sim, demo, boot serve) and for the listings;
/// an explicit `--timeout` there is a usage error, never silently ignored.
fn deadline_of(cli: &Cli) -> Result<Option<Duration>> {
    use crate::cli::{BootAction, PowerAction as P};
    let bounded = match &cli.command {
        Command::Boot {
            action: BootAction::Serve { .. },
        } => false,
        Command::Power { .. }
        | Command::Boot { .. }
        | Command::BootMode { .. }
        | Command::Sensors
        | Command::Nmi
        | Command::Vendor { .. }
        | Command::Validate
        | Command::Capabilities { .. } => true,
        _ => false,
    };
    if !bounded {
        return match cli.deadline {
            Some(_) => Err(output::usage(format!(
                "--timeout bounds the one-node commands; `{}` does not take it{}",
                operation_of(&cli.command),
                if matches!(cli.command, Command::Fleet { .. }) {
                    " (fleet's own `--timeout`, after `fleet`, bounds each node's operation)"
                } else {
                    ""
                }
            ))),
            None => Ok(None),
        };
    }
    if let Some(secs) = cli.deadline {
        return Ok(Some(Duration::from_secs(secs)));
    }
    let own = match &cli.command {
        Command::Power {
            action: P::On(t) | P::Off(t) | P::SoftOff(t) | P::Reboot(t) | P::SoftReboot(t),
        } => t.timeout.map(Duration::from_secs),
        _ => None,
    };
    Ok(Some(DEFAULT_DEADLINE + own.unwrap_or_default()))
}

/// The commands that take no node refuse the node flags instead of ignoring them
/// (`fleet` checks its own, where it reads the inventory).
fn refuse_node_flags(cli: &Cli) -> Result<()> {
    match cli.command {
        Command::Drivers
        | Command::Properties { .. }
        | Command::Capabilities {
            hardware_type: Some(_),
        }
        | Command::Demo
        | Command::Completions { .. }
        | Command::Man { .. }
        | Command::Sim { .. } => {
            let given = node_args::flags_given(&cli.node);
            if given.is_empty() {
                Ok(())
            } else {
                Err(output::usage(format!(
                    "{} cannot be used with `{}`: it acts on no node",
                    given.join(", "),
                    operation_of(&cli.command)
                )))
            }
        }
        _ => Ok(()),
    }
}

/// How long past a single node's deadline a power change is cut: the power
/// engine stops at the deadline itself and says how far it got.
const POWER_CHANGE_GRACE: Duration = Duration::from_secs(1);

/// Whether `command` changes a node's power (through the power engine).
fn is_power_change(command: &Command) -> bool {
    matches!(command, Command::Power { action } if !matches!(action, crate::cli::PowerAction::Status))
}

/// Runs the command within its deadline ([`deadline_of`]); on expiry, a
/// [`hwctl_core::ErrorKind::Timeout`] error naming the operation and the time spent.
async fn run_bounded(cli: Cli, registry: &Registry) -> Result<()> {
    refuse_node_flags(&cli)?;
    let operation = operation_of(&cli.command);
    let Some(limit) = deadline_of(&cli)? else {
        return run(cli, registry).await;
    };
    let given = cli.deadline.is_some();
    // A power change is told the deadline and cut only a moment later (as
    // `fleet` does), so the power engine's own account of where it stopped (no
    // change requested, or one that may have reached the device) is what the
    // user reads, not a bare "no result".
    let grace = if is_power_change(&cli.command) {
        POWER_CHANGE_GRACE
    } else {
        Duration::ZERO
    };
    // The driver named on the command line, for the error (an info file's `driver`
    // is only read inside `run`).
    let driver = cli.node.driver.clone();
    let started = tokio::time::Instant::now();
    let bounded = hwctl_core::retry::with_named_caller_deadline(
        started + limit,
        format!("--timeout {limit:?}"),
        run(cli, registry),
    );
    match tokio::time::timeout(limit + grace, bounded).await {
        Ok(result) => result,
        Err(_) => Err(with_driver_named(
            driver,
            hwctl_core::Error::new(
                hwctl_core::ErrorKind::Timeout,
                format!(
                    "no result after {:.1} s, the command's time limit ({}); the device may be \
                 silent or unreachable",
                    started.elapsed().as_secs_f64(),
                    if given {
                        "--timeout".to_owned()
                    } else {
                        format!(
                            "default {} s; change it with --timeout SECONDS",
                            limit.as_secs()
                        )
                    }
                ),
            )
            .with_operation(operation),
        )),
    }
}

/// `error` naming `driver`, when one was given.
fn with_driver_named(driver: Option<String>, error: hwctl_core::Error) -> hwctl_core::Error {
    match driver {
        Some(driver) => error.with_driver(driver),
        None => error,
    }
}

async fn run(cli: Cli, registry: &Registry) -> Result<()> {
    let json = cli.json;
    let node = || -> Result<hwctl_core::Node> {
        let entry = node_args::node_from_args(&cli.node)?;
        let (info, ctx) = node_args::context_of(&entry)?;
        let hardware_type = registry::hardware_type(registry, &entry.driver)?;
        hardware_type.build(info, &ctx)
    };
    match cli.command {
        Command::Power { action } => commands::power(&node()?, action, json).await,
        Command::Boot { action } if boot_cmd::handles(&action) => {
            boot_cmd::run(registry, &cli.node, action, json).await
        }
        Command::Boot {
            action: cli::BootAction::Devices,
        } => commands::boot_devices(&node()?, json),
        Command::Boot { action } => commands::boot(&node()?, action, json).await,
        Command::BootMode { action } => commands::boot_mode(&node()?, action, json).await,
        Command::Sensors => commands::sensors(&node()?, json).await,
        Command::Nmi => commands::nmi(&node()?, json).await,
        Command::Console => console::run(&node()?).await,
        Command::Vendor { action } => commands::vendor(&node()?, action, json).await,
        Command::Capabilities {
            hardware_type: Some(name),
        } => commands::type_capabilities(registry, &name, json),
        Command::Capabilities {
            hardware_type: None,
        } => {
            let n = node()?;
            let boot = registry
                .get(n.hardware_type())
                .map(boot_cmd::boot_interfaces_of)
                .unwrap_or_default();
            commands::capabilities(&n, &boot, json)
        }
        Command::Validate => {
            let n = node()?;
            if json {
                say_json(&serde_json::json!({"valid": true, "hardware_type": n.hardware_type()}));
            } else {
                say(format!("driver_info is valid for {}", n.hardware_type()));
            }
            Ok(())
        }
        Command::Drivers => commands::drivers(registry, json),
        Command::Properties { hardware_type } => {
            commands::properties(registry, &hardware_type, json)
        }
        Command::Fleet {
            inventory,
            concurrency,
            timeout,
            command,
        } => {
            fleet::check_no_node_flags(&cli.node).map_err(|e| output::usage(e.message()))?;
            if command == cli::FleetCommand::Validate {
                // Refused, not ignored: they would bound nothing here.
                let given = match (timeout.is_some(), concurrency.is_some()) {
                    (true, _) => Some("--timeout bounds each node's operation"),
                    (false, true) => Some("--concurrency bounds how many nodes are driven at once"),
                    (false, false) => None,
                };
                if let Some(what) = given {
                    return Err(output::usage(format!(
                        "fleet {what}; `fleet … validate` contacts no node and does not take it"
                    )));
                }
            }
            let mut nodes = fleet::read_inventory(&inventory)?;
            fleet::fill_secrets(registry, &mut nodes, cli.node.password_file.as_deref())?;
            let action = match command {
                cli::FleetCommand::Validate => {
                    return fleet::validate(registry, &inventory, &nodes, json);
                }
                cli::FleetCommand::Power { action } => cli::FleetAction::Power(action),
                cli::FleetCommand::Boot {
                    action: cli::FleetBootAction::Set { device, persistent },
                } => cli::FleetAction::BootSet {
                    device: fleet::boot_device_named(&device)?,
                    persistent,
                },
            };
            fleet::check_entries(registry, &inventory, &nodes, action)?;
            let progress = !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
            let nodes: std::sync::Arc<[_]> = nodes.into();
            let sweep = fleet::run(
                registry,
                nodes.clone(),
                action,
                usize::from(concurrency.unwrap_or(cli::DEFAULT_CONCURRENCY)),
                timeout.map(Duration::from_secs),
                progress,
            )
            .await?;
            // The error the JSON report carries, the same rule.
            let failed = fleet::report(&nodes, &sweep, action, json);
            let result = match fleet::run_error(nodes.len(), &sweep, failed) {
                Some(e) => Err(e),
                None => Ok(()),
            };
            // The process exits next and the system takes the inventory's memory
            // back at once: freeing it entry by entry cost ~720 instructions per
            // node (issue 16). Nothing in it needs dropping (no file, socket or
            // task; secrets are plain strings, never zeroed on drop either way).
            std::mem::forget(nodes);
            result
        }
        Command::Demo => match demo::run(registry, json).await? {
            0 => Ok(()),
            failed => Err(hwctl_core::Error::new(
                hwctl_core::ErrorKind::Other,
                format!("demo: {failed} steps failed"),
            )
            .with_operation(fleet::SUMMARY_OPERATION)),
        },
        Command::Completions { shell } => completions::completions(shell),
        Command::Man { dir } => completions::man(dir.as_deref(), json),
        Command::Sim { name, listen, list } => {
            sim_cmd::run(name.as_deref(), listen, list, json).await
        }
    }
}

/// The async runtime for `command`: one thread for a `fleet` sweep, the
/// multi-threaded scheduler otherwise.
///
/// A sweep at concurrency above 1 is bound by CPU, and on one thread a reply wakes
/// its node's task, the node's task wakes the engine and the engine's next node
/// runs with no hand-over between threads: measured on 10,000 OCS nodes
/// (concurrency 8 and 48) it used 20–27 % less CPU than the multi-threaded runtime
/// in the same or less time (docs/decisions.md, 83). At concurrency 1 a sweep is
/// bound by latency (one request out at a time); since its node runs inside the
/// engine's task, one thread also answers sooner: 14.0k against 10.2k nodes/s
/// (median of 5 alternating sweeps of 10,000 OCS nodes; decision 110).
/// Single-node commands keep the multi-threaded runtime.
fn runtime_for(command: &Command) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = match command {
        Command::Fleet { .. } => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    builder.enable_all().build()
}

fn main() -> ExitCode {
    let cli = Cli::try_parse().unwrap_or_else(|e| cli::exit_on_parse_error(e));
    init_tracing(cli.verbose);
    let json = cli.json;
    let runtime = match runtime_for(&cli.command) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error [other]: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    // Node state (AMT's boot device, WoL's power state) persists across runs; the
    // demo and the simulators keep theirs in memory.
    if let Some(dir) = cli
        .state_dir
        .clone()
        .or_else(|| hwctl_core::state::xdg_state_dir("hwctl"))
        .filter(|_| {
            !matches!(
                cli.command,
                Command::Demo
                    | Command::Sim { .. }
                    | Command::Completions { .. }
                    | Command::Man { .. }
            )
        })
    {
        hwctl_core::state::set_global(std::sync::Arc::new(hwctl_core::state::FileStore::new(dir)));
    }
    let registry = registry::registry();
    let operation = operation_of(&cli.command);
    let result = runtime.block_on(async {
        let result = run_bounded(cli, &registry).await;
        // Shared clients and sessions outlive their nodes for an idle time (issue
        // 16): release them all now, so sessions are closed and logged out.
        hwctl_core::shared::release_all();
        // Sessions (OneView, Redfish, OpenBMC) are logged out when their last node
        // is dropped; let those log-outs finish before the runtime ends.
        hwctl_http::session::finish_logouts(std::time::Duration::from_secs(5)).await;
        result
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // With --json the error is printed once, as JSON on stdout (where the
            // results go); a fleet's summary error stands for its printed report.
            if !json {
                print_error(&err);
            } else if !fleet::is_summary(&err) {
                say_json(&serde_json::json!({"error": error_json_for(&err, operation)}));
            }
            let code = fleet::exit_code(&err);
            ExitCode::from(code.unwrap_or_else(|| u8::try_from(exit_code(&err)).unwrap_or(1)))
        }
    }
}
