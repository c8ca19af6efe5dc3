//! `hwctl`: drive bare-metal nodes over their vendors' own protocols — one node, a
//! fleet from an inventory file, or a demo fleet on the built-in simulators.
//!
//! Exit codes: 0 on success, 2 on usage errors and invalid or missing parameters,
//! 1 on any other failure. Errors go to stderr and name their kind.

#![forbid(unsafe_code)]

mod boot_cmd;
mod cli;
mod commands;
mod completions;
mod console;
mod demo;
mod fleet;
mod inventory;
mod node_args;
mod output;
mod registry;
mod secrets;
mod sim_cmd;
mod sims;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use hwctl_core::{Registry, Result};

use crate::cli::{Cli, Command};
use crate::output::{error_json, exit_code, print_error, say, say_json};

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HWCTL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

async fn run(cli: Cli, registry: &Registry) -> Result<()> {
    let json = cli.json;
    let node = || -> Result<hwctl_core::Node> {
        let entry = node_args::node_from_args(&cli.node)?;
        let (info, ctx) = node_args::context_of(&entry)?;
        let hardware_type = registry
            .get(&entry.driver)
            .map_err(|e| output::usage(e.message().to_owned()))?;
        hardware_type.build(&info, &ctx)
    };
    match cli.command {
        Command::Power { action } => commands::power(&node()?, action, json).await,
        Command::Boot { action } if boot_cmd::handles(&action) => {
            boot_cmd::run(registry, &cli.node, action, json).await
        }
        Command::Boot { action } => commands::boot(&node()?, action, json).await,
        Command::BootMode { action } => commands::boot_mode(&node()?, action, json).await,
        Command::Sensors => commands::sensors(&node()?, json).await,
        Command::Nmi => commands::nmi(&node()?, json).await,
        Command::Console => console::run(&node()?).await,
        Command::Vendor { action } => commands::vendor(&node()?, action, json).await,
        Command::Capabilities => commands::capabilities(&node()?, json),
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
            interface: _,
            action,
        } => {
            fleet::check_no_node_flags(&cli.node).map_err(|e| output::usage(e.message()))?;
            let mut nodes = fleet::read_inventory(&inventory)?;
            fleet::fill_secrets(registry, &mut nodes, cli.node.password_file.as_deref())?;
            let progress = !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
            let sweep = fleet::run(
                registry,
                &nodes,
                action,
                usize::from(concurrency),
                timeout.map(Duration::from_secs),
                progress,
            )
            .await?;
            match fleet::report(&nodes, &sweep, action, json) {
                _ if sweep.interrupted => Err(fleet::interrupted_error(nodes.len())),
                0 => Ok(()),
                failed => Err(fleet::failures_error(failed, nodes.len())),
            }
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
        Command::Man => completions::man(),
        Command::Sim { name, listen, list } => {
            sim_cmd::run(name.as_deref(), listen, list, json).await
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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
                Command::Demo | Command::Sim { .. } | Command::Completions { .. } | Command::Man
            )
        })
    {
        hwctl_core::state::set_global(std::sync::Arc::new(hwctl_core::state::FileStore::new(dir)));
    }
    let registry = registry::registry();
    let result = runtime.block_on(async {
        let result = run(cli, &registry).await;
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
            if json && err.operation() != Some(fleet::SUMMARY_OPERATION) {
                say_json(&serde_json::json!({"error": error_json(&err)}));
            }
            print_error(&err);
            ExitCode::from(u8::try_from(exit_code(&err)).unwrap_or(1))
        }
    }
}
