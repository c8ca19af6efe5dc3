//! `hwctl fleet`: one action on every node of an inventory — an engine, not a loop.
//!
//! - **One node per entry**, built once and used for every operation of that entry
//!   (a reboot's change and its polls).
//! - **One client per endpoint for the whole sweep.** Entries are grouped by the
//!   endpoint their `driver_info` names (address, port or URL); while a group has
//!   work, the engine keeps one of its nodes (the *keeper*), so the group's shared
//!   client (its connection pool, its IPMI session) lives from the group's first node
//!   to its last, whatever the concurrency. When a group is done its keeper is
//!   dropped and [`hwctl_core::shared::release_idle`] closes its connections at once.
//! - **Per-endpoint fairness.** Groups are served round robin, each with at most its
//!   fair share of the concurrency (`ceil(concurrency / active groups)`), so a slow
//!   chassis holds only its share of the slots. A status sweep also puts no more of
//!   an endpoint's nodes in flight than the requests it serves at once (its
//!   connection limit, one per BMC session or PDU): a read holds its request slot
//!   throughout, so another would only queue with its time limit running.
//! - **Bounded file descriptors.** The open-file limit (`RLIMIT_NOFILE`, read from
//!   `/proc/self/limits`) is checked before any node is touched: the sweep is refused
//!   with a clear message when it leaves no room for one connection; otherwise the
//!   concurrency and the number of groups open at once (each costing up to its
//!   connection limit) are bounded so that the sockets always fit.
//! - **Memory.** Per entry the engine keeps one [`Slot`] (a status and a duration;
//!   names are read from the inventory at report time); nodes exist only while in
//!   flight (plus one keeper per open group).
//! - **A change is all or nothing at the start.** Before `on`, `off`, `reboot`,
//!   `soft-off`, `soft-reboot` or `boot set` every entry's node is built (one at a time, then
//!   dropped; building does no I/O) and any entry whose `driver_info` does not
//!   validate, or whose type cannot do it (OCS and `soft-off`, Wake-on-LAN and
//!   `boot set`: `Unsupported`), refuses the sweep with every such entry
//!   named, before any node is touched ([`check_entries`]):
//!   half a rack switched off and half not is worse than none. So does an entry
//!   that addresses the machine of an earlier one ([`same_machine`]: the same
//!   driver, `driver_info` and ports, credentials aside), which would be driven
//!   twice at once; a `status` sweep only warns of it, once. A `status` sweep
//!   is not checked first (it changes nothing): a bad entry fails its own row.
//!   `fleet … validate` runs that check alone and lists every failing entry
//!   ([`validate`]).
//! - **A time limit per node.** `fleet --timeout` (default 60 s for a status
//!   read, the power engine's for a change) bounds each node's operation; the
//!   drivers see it as the caller's deadline, and a node past it fails with
//!   `timeout` while the others go on (`act`).
//! - **Feedback.** A progress bar from the start (elapsed, rate, ETA, failures);
//!   Ctrl-C (or SIGTERM) stops the sweep and prints which nodes were done (and switched), failed,
//!   interrupted in flight (with how long they had run), or not started, and the
//!   run exits with status 130 (128 + SIGINT; 143 after SIGTERM).
//!
//! The inventory is checked before any node is touched ([`inventory_checks`]);
//! entries are grouped by endpoint within the open-file budget ([`endpoints`]);
//! the outcomes are printed as a table or JSON ([`mod@report`]).

mod endpoints;
mod inventory_checks;
mod precheck;
mod report;
mod same_machine;

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt as _;

use hwctl_core::fast_hash::FastHash;
use hwctl_core::retry::DeadlineName;
use hwctl_core::{Error, ErrorKind, Node, PowerState, Registry, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinSet;

use crate::cli::{FleetAction, NodeArgs};
use crate::inventory::InventoryNode;
use crate::node_args::context_of;

use endpoints::{endpoint_cost, endpoint_key, request_slots, socket_budget};
pub(crate) use inventory_checks::read_inventory;
pub(crate) use precheck::{check_entries, validate};
pub(crate) use report::{SUMMARY_OPERATION, exit_code, is_summary, report, run_error};

/// What became of one entry.
#[derive(Debug, Default)]
pub(crate) enum Status {
    /// Not started (the sweep was interrupted first).
    #[default]
    NotStarted,
    /// In flight when the sweep was interrupted: its state is unknown.
    Interrupted,
    /// Done: the power state reached or read (kept as the state, not its text:
    /// no string per node, issue 16).
    Done(PowerState),
    /// A power state read from hwctl's record, not from the device (one that
    /// cannot be queried: the last state hwctl set). Counted as done.
    ReadRecorded(PowerState),
    /// A change only recorded, not performed: the target is among the device's
    /// `recorded_only` (Wake-on-LAN's off); nothing reached the node.
    Recorded(PowerState),
    /// A change sent to a device that cannot read a node's power state
    /// (`can_query` false: Wake-on-LAN's on and reboot): accepted, never
    /// confirmed, so counted as ok but never as done.
    Sent(PowerState),
    /// The boot device was set (`persistent`: for every boot, asked for or
    /// the only way the type sets it).
    BootSet {
        /// The device set.
        device: hwctl_core::BootDevice,
        /// Whether it holds for every boot.
        persistent: bool,
    },
    /// Failed with this error (boxed: a status is a few words, so a node task's
    /// output moves without a copy of the whole error, which is rare).
    Failed(Box<Error>),
}

/// One entry's outcome (its name and driver stay in the inventory).
#[derive(Debug, Default)]
pub(crate) struct Slot {
    /// What happened.
    pub status: Status,
    /// How long it took.
    pub elapsed: Duration,
}

/// The result of a sweep.
#[derive(Debug)]
pub(crate) struct Sweep {
    /// One slot per inventory entry, in inventory order.
    pub slots: Vec<Slot>,
    /// Whether Ctrl-C (SIGINT) or SIGTERM stopped it.
    pub interrupted: bool,
    /// Whether it was SIGTERM (`timeout(1)`, systemd, CI runners) rather than
    /// Ctrl-C: the summary names it and the exit status is 143, not 130.
    pub terminated: bool,
}

/// Refuses node flags with `fleet`: every node comes from the inventory.
///
/// # Errors
///
/// `InvalidParameter` naming the flags given.
pub(crate) fn check_no_node_flags(args: &NodeArgs) -> Result<()> {
    // `--ask-password` is among them: a sweep never stops to prompt; secrets come
    // from the inventory, `HW_<KEY>` or `--password-file` (see `fill_secrets`).
    let given = crate::node_args::flags_given(args);
    if given.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::InvalidParameter,
        format!(
            "{} cannot be used with fleet: every node comes from the inventory \
             (put per-node settings in its entries)",
            given.join(", ")
        ),
    ))
}

/// Fills every entry's secrets the way a single node gets them (`crate::secrets`):
/// `--password-file` (the type's one `*_password` key, for every entry) and
/// `HW_<KEY>` (a key the entry left out or gave as Ironic's mask `******`). Never
/// prompts. Entries of an unknown hardware type are left as they are (the sweep
/// reports them).
///
/// # Errors
///
/// `InvalidParameter` from [`crate::secrets::fill`] (an unreadable password file, a
/// type with several secrets and no single password), naming the entry.
pub(crate) fn fill_secrets(
    registry: &hwctl_core::Registry,
    nodes: &mut [InventoryNode],
    password_file: Option<&Path>,
) -> Result<()> {
    let src = crate::secrets::Sources {
        password_file,
        ask: false,
        flag_keys: Vec::new(),
        shared_file: true,
        env: &crate::secrets::process_env,
        prompt: None,
    };
    for (i, node) in nodes.iter_mut().enumerate() {
        if let Ok(hw) = registry.get(&node.driver) {
            crate::secrets::fill(node, hw.properties(), &src).map_err(|e| {
                e.with_note(format!("inventory entry {} (\"{}\")", i + 1, node.name))
            })?;
        }
    }
    Ok(())
}

/// The bound of a `power status` read per node when `--timeout` is not given:
/// the one-node commands' default deadline (`hwctl power status` alone), so a node
/// answers the same alone or in a fleet. Without it a silent endpoint held its slot
/// for the driver's own retries (an HTTP chassis that accepts and never answers:
/// 3 attempts × hw-http's 30 s request timeout ≈ 90 s; docs/decisions.md, 94).
pub(crate) const DEFAULT_STATUS_TIMEOUT: Duration = crate::DEFAULT_DEADLINE;

/// How long past a power change's own timeout the fleet waits before it cuts the
/// node itself: the power engine stops at that timeout with its own error (which
/// says what it was waiting for), so this only guards against a node that does not.
const CHANGE_GRACE: Duration = Duration::from_secs(1);

/// The boot device `fleet … boot set DEVICE` names.
///
/// # Errors
///
/// `InvalidParameter` naming `DEVICE`, listing Ironic's boot devices (with a
/// close one), before any entry is read further.
pub(crate) fn boot_device_named(name: &str) -> Result<hwctl_core::BootDevice> {
    name.parse().map_err(|_| {
        let names: Vec<&str> = hwctl_core::BootDevice::ALL
            .iter()
            .map(|d| d.as_str())
            .collect();
        let close = hwctl_core::driver_info::did_you_mean(name, names.iter().copied())
            .map(|c| format!("did you mean {c}? "))
            .unwrap_or_default();
        Error::invalid_parameter(
            "DEVICE",
            format!(
                "unknown boot device {name:?}; {close}Ironic's boot devices are {}",
                names.join(", ")
            ),
        )
        .with_operation("boot set")
    })
}

/// The per-node limit of `action`: `--timeout`, else [`DEFAULT_STATUS_TIMEOUT`]
/// for a read and the power engine's default for a change
/// ([`hwctl_core::power::DEFAULT_POWER_TIMEOUT`]), with whether it was given.
fn limit_of(action: FleetAction, timeout: Option<Duration>) -> (Duration, bool) {
    match (timeout, action) {
        (Some(t), _) => (t, true),
        (None, FleetAction::STATUS | FleetAction::BootSet { .. }) => {
            (DEFAULT_STATUS_TIMEOUT, false)
        }
        (None, _) => (hwctl_core::power::DEFAULT_POWER_TIMEOUT, false),
    }
}

/// The operation `action` is, as errors name it.
pub(super) fn operation_of(action: FleetAction) -> &'static str {
    match (action, action.target()) {
        (FleetAction::BootSet { .. }, _) => "set boot device",
        (_, None) => "get power state",
        (_, Some(target)) => target.operation(),
    }
}

/// Runs `action` on `node` within `limit`: the drivers see the deadline
/// ([`hwctl_core::retry::with_named_caller_deadline`], named after the option),
/// so their retries stop before it with the real cause; what is still running at the deadline is cut and fails
/// with `timeout`, naming the limit and the operation. A change gets `limit` as
/// its own timeout too (the power engine then says what it waited for, as for one
/// node) and is cut only [`CHANGE_GRACE`] later.
async fn act(node: &Node, action: FleetAction, limit: Duration, given: bool) -> Result<Status> {
    let started = tokio::time::Instant::now();
    let deadline = started + limit;
    let target = action.target();
    let work = async {
        if let FleetAction::BootSet { device, persistent } = action {
            let mgmt = node.management()?;
            mgmt.set_boot_device(device, persistent).await?;
            // A type that sets only persistently (libvirt) set it so.
            let persistent = persistent || mgmt.capabilities().persistent_only;
            return Ok(Status::BootSet { device, persistent });
        }
        let power = node.power()?;
        let state: Result<Status> = match target {
            None => {
                let state = power.get_power_state().await?;
                Ok(if power.capabilities().can_query {
                    Status::Done(state)
                } else {
                    Status::ReadRecorded(state)
                })
            }
            Some(target) => {
                power.set_power_state(target, Some(limit)).await?;
                let state = target.final_state();
                let caps = power.capabilities();
                Ok(if caps.recorded_only.contains(&target) {
                    Status::Recorded(state)
                } else if !caps.can_query {
                    Status::Sent(state)
                } else {
                    Status::Done(state)
                })
            }
        };
        state
    };
    let cut = if target.is_some() {
        deadline + CHANGE_GRACE
    } else {
        deadline
    };
    // The deadline's name, as a driver's error that it ended says it (`the next
    // would start after fleet --timeout 2s`).
    let name = if given {
        DeadlineName::timed("fleet --timeout ", limit, "")
    } else {
        DeadlineName::timed("fleet's default time limit of ", limit, " per node")
    };
    let bounded = hwctl_core::retry::with_named_caller_deadline(deadline, name.clone(), work);
    let limit_text = || {
        if given {
            name.to_string()
        } else {
            format!("{name}; change it with fleet --timeout SECONDS")
        }
    };
    match tokio::time::timeout_at(cut, bounded).await {
        Ok(Err(e)) if e.kind() == ErrorKind::Timeout && tokio::time::Instant::now() >= deadline => {
            // A driver's retry loop stopped at the deadline: its cause, and the limit.
            Err(e.with_note(format!("stopped at {}", limit_text())))
        }
        Ok(result) => result,
        Err(_) => Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "no result after {:.1} s, the time limit of each node ({}); the device may \
                 be silent or unreachable",
                started.elapsed().as_secs_f64(),
                limit_text()
            ),
        )
        .with_driver(node.hardware_type().to_owned())
        .with_operation(operation_of(action))),
    }
}

/// Builds `entry`'s node from its `driver_info`, ports and capabilities, the way
/// one node is built. No I/O: the drivers make their clients lazily (the first
/// request connects).
///
/// # Errors
///
/// The driver's validation error (`InvalidParameter`, `MissingParameter`), or an
/// unknown hardware type's (with a close name).
fn build_node(registry: &Registry, entry: &InventoryNode) -> Result<Node> {
    context_of(entry).and_then(|(info, ctx)| {
        // An unknown type is told with a close name (`hardware_type`) after the
        // build fails, not looked up before every build: the reader already
        // refused the inventory's unknown types.
        registry
            .build(&entry.driver, info, &ctx)
            .map_err(
                |e| match crate::registry::hardware_type(registry, &entry.driver) {
                    Err(unknown) => unknown,
                    Ok(_) => e,
                },
            )
    })
}

/// Builds entry `at`'s node (once) and runs the action on it within the node's
/// limit ([`act`]); gives the node back, boxed, when `keep` is set (the engine may
/// keep it as its group's keeper), and drops it otherwise.
///
/// The future owns what it reads (shared copies of the registry and the
/// inventory), so the engine can box it once and spawn it: the task then holds a
/// pointer, not this future's several kilobytes (the drivers' futures inside it),
/// which the runtime copied at the spawn and at each change of the task's stage
/// (issue 16).
async fn run_entry(
    registry: Arc<Registry>,
    nodes: Arc<[InventoryNode]>,
    at: usize,
    action: FleetAction,
    timeout: Option<Duration>,
    keep: bool,
) -> Outcome {
    let node = match build_node(&registry, &nodes[at]) {
        Ok(n) => n,
        Err(e) => return (Status::Failed(Box::new(e)), None),
    };
    let (limit, given) = limit_of(action, timeout);
    let status = match act(&node, action, limit, given).await {
        Ok(status) => status,
        Err(e) => Status::Failed(Box::new(e)),
    };
    (status, keep.then(|| Box::new(node)))
}

/// One endpoint's queue.
struct Group {
    entries: VecDeque<usize>,
    in_flight: usize,
    /// The sockets the endpoint may hold ([`endpoint_cost`]).
    cost: usize,
    /// How many of its nodes may be in flight at once besides the fair share:
    /// its request slots for a status read ([`request_slots`]), unbounded for a
    /// change.
    reads_at_once: usize,
    open: bool,
    keeper: Option<Box<Node>>,
}

fn progress_bar(total: usize, progress: bool) -> ProgressBar {
    let bar = if progress {
        ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template(
        // At most ~78 columns with 5-digit counts, so an 80-column terminal
        // does not wrap it (a bar of 30 made it 88-94).
        "{spinner} [{elapsed_precise}] {bar:20} {pos}/{len} · {rate} · ETA {eta} · {msg}",
    ) {
        // indicatif's own `{per_sec}` prints four decimals (`109.5799/s`).
        bar.set_style(style.with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&rate_text(state.per_sec()));
            },
        ));
    }
    bar.set_message("0 failed");
    bar.enable_steady_tick(Duration::from_millis(100));
    bar.tick();
    bar
}

/// A sweep's rate for the progress bar: whole nodes per second from 10 up
/// (`110 nodes/s`), one decimal below (`2.5 nodes/s`), `-` before there is one.
fn rate_text(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        "- nodes/s".to_owned()
    } else if per_sec >= 10.0 {
        format!("{per_sec:.0} nodes/s")
    } else {
        format!("{per_sec:.1} nodes/s")
    }
}

/// Runs `action` on every node, at most `concurrency` at once (fewer when the
/// open-file limit requires), with a progress bar on stderr when `progress` is set;
/// stops at Ctrl-C.
///
/// The engine runs as a task of the runtime and every node's operation as a task of
/// its own, so a node's future is woken by its connection on the same worker thread
/// rather than across threads to the thread that blocks on `main`'s future (which
/// cost more CPU per operation than the operation itself, issue 16); at concurrency
/// 1 the one node runs inside the engine's task. hwctl runs a sweep on a runtime
/// of one thread (`runtime_for` in `main.rs`); an embedder's may have more.
///
/// A node task that panics fails its row (`the node's task failed: …`), at any
/// concurrency; the sweep goes on.
///
/// Before a change (`on`, `off`, `reboot`) the caller checks every entry's node
/// ([`check_entries`]): one that does not validate refuses the sweep, before any
/// node is touched.
///
/// # Errors
///
/// `Other` when the open-file limit leaves no room for a connection, before any
/// node is touched.
pub(crate) async fn run(
    registry: &Registry,
    nodes: Arc<[InventoryNode]>,
    action: FleetAction,
    concurrency: usize,
    timeout: Option<Duration>,
    progress: bool,
) -> Result<Sweep> {
    let budget = socket_budget()?;
    let mut concurrency = concurrency.max(1);
    if let Some(b) = budget
        && b < concurrency
    {
        tracing::warn!(
            "the open-file limit leaves room for {b} connections: running {b} nodes at once instead of {concurrency}"
        );
        concurrency = b;
    }
    let sockets = budget.unwrap_or(usize::MAX);
    let engine = Engine {
        registry: Arc::new(registry.clone()),
        // Shared with the node tasks, not copied (a copy of every entry cost ~1.4k
        // instructions per node, and as much again to drop it).
        nodes,
        action,
        concurrency,
        sockets,
        timeout,
    };
    tokio::spawn(engine.sweep(progress))
        .await
        .map_err(|e| Error::new(ErrorKind::Other, format!("the fleet engine failed: {e}")))
}

/// What the engine task owns: the sweep's settings and shared copies of the
/// registry and the inventory (the node tasks read their entries from it).
struct Engine {
    registry: Arc<Registry>,
    nodes: Arc<[InventoryNode]>,
    action: FleetAction,
    concurrency: usize,
    sockets: usize,
    timeout: Option<Duration>,
}

/// What a node task gives back: its entry's status and, when the engine asked for
/// it, its node (a keeper candidate). Two words and a tag: the runtime moves a
/// task's output several times on its way to the engine.
type Outcome = (Status, Option<Box<Node>>);

/// A node's work as the engine holds it: boxed once, under its node label.
type NodeWork = std::pin::Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// The outcome of a node whose task failed (it panicked): `failed` with why.
fn task_failed(why: String) -> Outcome {
    (
        Status::Failed(Box::new(Error::new(
            ErrorKind::Other,
            format!("the node's task failed: {why}"),
        ))),
        None,
    )
}

/// A panic's message, where it is text.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not text)")
}

/// The engine's running tasks: each task's entry, group and start. Keyed by task
/// id with hw-core's unkeyed [`FastHash`] (the ids are the runtime's own; SipHash
/// cost ~300 instructions per node for this map and the name check's, issue 16).
type Running = HashMap<tokio::task::Id, (usize, usize, Instant), FastHash>;

impl Engine {
    async fn sweep(self, progress: bool) -> Sweep {
        let Engine {
            registry,
            nodes,
            action,
            concurrency,
            sockets,
            timeout,
        } = self;
        // Group the entries by endpoint, in order of first appearance.
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut key = String::new();
        // The previous entry's key and group: the entries of one endpoint usually
        // come together (a chassis's blades), and then the map is not consulted.
        let mut previous = String::new();
        let mut previous_group = None;
        for (i, entry) in nodes.iter().enumerate() {
            endpoint_key(entry, &mut key);
            // The key is copied only for a new endpoint.
            let known = match previous_group {
                Some(g) if key == previous => Some(g),
                _ => index.get(key.as_str()).copied(),
            };
            let g = match known {
                Some(g) => g,
                None => {
                    groups.push(Group {
                        entries: VecDeque::new(),
                        in_flight: 0,
                        cost: endpoint_cost(entry).min(concurrency),
                        reads_at_once: match action {
                            FleetAction::STATUS => request_slots(entry).unwrap_or(usize::MAX),
                            _ => usize::MAX,
                        },
                        open: false,
                        keeper: None,
                    });
                    index.insert(key.clone(), groups.len() - 1);
                    groups.len() - 1
                }
            };
            groups[g].entries.push_back(i);
            std::mem::swap(&mut key, &mut previous);
            previous_group = Some(g);
        }
        drop(index);

        let mut slots: Vec<Slot> = std::iter::repeat_with(Slot::default)
            .take(nodes.len())
            .collect();
        let bar = progress_bar(nodes.len(), progress);
        let mut failed = 0usize;
        // Dropping the set (at Ctrl-C) aborts the node tasks still running.
        let mut tasks: JoinSet<Outcome> = JoinSet::new();
        // At concurrency 1 the one node in flight runs inside this task rather than
        // as a task of its own: its reply then wakes the engine directly, with no
        // hand-over to a node task and back per node (at concurrency 1 a sweep is
        // bound by such latencies, not by CPU; issue 16).
        let inline_one = concurrency == 1;
        let mut inline: Option<(NodeWork, usize, usize, Instant)> = None;
        // Per running task: its entry, its group, when it started.
        let mut running = Running::default();
        let mut next_group = 0usize; // groups before this one were opened already
        let mut open_cost = 0usize;
        let mut open_groups: Vec<usize> = Vec::new();
        let mut rr = 0usize;
        let interrupt = crate::signals::StopSignals::listen().wait();
        tokio::pin!(interrupt);
        let mut interrupted = false;
        let mut terminated = false;

        loop {
            // Open groups while their sockets fit (always at least one).
            while next_group < groups.len()
                && (open_groups.is_empty() || open_cost + groups[next_group].cost <= sockets)
            {
                groups[next_group].open = true;
                open_cost += groups[next_group].cost;
                open_groups.push(next_group);
                next_group += 1;
            }
            // Dispatch round robin, each open group up to its fair share.
            let with_work = open_groups
                .iter()
                .filter(|&&g| !groups[g].entries.is_empty())
                .count()
                .max(1);
            let share = concurrency.div_ceil(with_work);
            let mut idle_turns = 0;
            while tasks.len() + usize::from(inline.is_some()) < concurrency
                && idle_turns < open_groups.len()
            {
                rr %= open_groups.len().max(1);
                let g = open_groups[rr];
                rr += 1;
                let group = &mut groups[g];
                if group.in_flight >= share.min(group.reads_at_once) {
                    idle_turns += 1;
                    continue;
                }
                let Some(i) = group.entries.pop_front() else {
                    idle_turns += 1;
                    continue;
                };
                idle_turns = 0;
                group.in_flight += 1;
                // Boxed once here, under its label; the task (or the engine, at
                // concurrency 1) holds a pointer to it.
                let label = crate::logging::NodeLabel::new(nodes.clone(), i);
                let work = Box::pin(crate::logging::with_node(
                    label,
                    run_entry(
                        registry.clone(),
                        nodes.clone(),
                        i,
                        action,
                        timeout,
                        group.keeper.is_none(),
                    ),
                ));
                if inline_one {
                    inline = Some((work, i, g, Instant::now()));
                } else {
                    let task = tasks.spawn(work);
                    running.insert(task.id(), (i, g, Instant::now()));
                }
            }
            let (i, g, started, (status, node)) = if let Some((work, i, g, started)) = &mut inline {
                let done = tokio::select! {
                    d = AssertUnwindSafe(work).catch_unwind() => d,
                    term = &mut interrupt => {
                        interrupted = true;
                        terminated = term;
                        break;
                    }
                };
                let finished = (*i, *g, *started);
                inline = None;
                let outcome = done.unwrap_or_else(|panic| {
                    task_failed(format!("panicked with message {:?}", panic_text(&*panic)))
                });
                (finished.0, finished.1, finished.2, outcome)
            } else {
                if tasks.is_empty() {
                    break;
                }
                let done = tokio::select! {
                    d = tasks.join_next_with_id() => d,
                    term = &mut interrupt => {
                        interrupted = true;
                        terminated = term;
                        None
                    }
                };
                let Some(done) = done else {
                    break;
                };
                let (id, outcome) = match done {
                    Ok((id, outcome)) => (id, outcome),
                    Err(e) => (e.id(), task_failed(e.to_string())),
                };
                let Some((i, g, started)) = running.remove(&id) else {
                    continue;
                };
                (i, g, started, outcome)
            };
            // The count first, then the failures, so the bar never shows a failure
            // its count does not include yet.
            bar.inc(1);
            if let Status::Failed(_) = status {
                failed += 1;
                bar.set_message(format!("{failed} failed"));
            }
            slots[i] = Slot {
                status,
                elapsed: started.elapsed(),
            };
            let group = &mut groups[g];
            group.in_flight -= 1;
            if group.keeper.is_none() && !group.entries.is_empty() {
                group.keeper = node;
            } else {
                drop(node);
            }
            if group.entries.is_empty() && group.in_flight == 0 && group.open {
                // The endpoint is done: close its pool (or session) now.
                group.open = false;
                group.keeper = None;
                open_cost -= group.cost;
                open_groups.retain(|&x| x != g);
                hwctl_core::shared::release_idle();
            }
        }
        if interrupted {
            // In flight when Ctrl-C came: their state is unknown; they ran this long.
            if let Some((work, i, _, started)) = inline.take() {
                drop(work);
                slots[i] = Slot {
                    status: Status::Interrupted,
                    elapsed: started.elapsed(),
                };
            }
            tasks.abort_all();
            for (i, _, started) in running.into_values() {
                slots[i] = Slot {
                    status: Status::Interrupted,
                    elapsed: started.elapsed(),
                };
            }
            // Wait for the aborted tasks to be dropped, so their nodes (and clients)
            // are gone before the caller releases the shared ones.
            while tasks.join_next().await.is_some() {}
        }
        bar.finish_and_clear();
        Sweep {
            slots,
            interrupted,
            terminated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::FleetPowerAction;

    #[test]
    fn the_progress_rate_is_whole_nodes_per_second_not_four_decimals() {
        assert_eq!(rate_text(109.579_912), "110 nodes/s");
        assert_eq!(rate_text(10.0), "10 nodes/s");
        assert_eq!(rate_text(2.46), "2.5 nodes/s");
        assert_eq!(rate_text(0.0), "- nodes/s");
        assert_eq!(rate_text(f64::NAN), "- nodes/s");
    }

    /// `--timeout` bounds a status read too; without it a read gets the one-node
    /// default and a change the power engine's.
    #[test]
    fn every_action_has_a_per_node_limit() {
        let t = Some(Duration::from_secs(2));
        for action in [
            FleetAction::STATUS,
            FleetAction::Power(FleetPowerAction::On),
            FleetAction::Power(FleetPowerAction::Off),
            FleetAction::Power(FleetPowerAction::Reboot),
            FleetAction::BootSet {
                device: hwctl_core::BootDevice::Pxe,
                persistent: false,
            },
        ] {
            assert_eq!(limit_of(action, t), (Duration::from_secs(2), true));
        }
        assert_eq!(
            limit_of(FleetAction::STATUS, None),
            (crate::DEFAULT_DEADLINE, false)
        );
        assert_eq!(
            limit_of(FleetAction::Power(FleetPowerAction::Reboot), None),
            (hwctl_core::power::DEFAULT_POWER_TIMEOUT, false)
        );
    }
}
