//! hwctl's log lines: tracing-subscriber's default format, plus the node a fleet
//! task works on.
//!
//! `hwctl fleet` runs each node's operation under a node label ([`with_node`]); an
//! event logged inside it is printed as if inside a span `node{node=NAME}`
//! (`2026-12-01T07:00:00.000000Z  WARN node{node=blade-7}: hwctl_core::retry: …`),
//! so a retry's WARN names its node. A real span cost ~4k instructions per node
//! even when nothing was logged (issue 16); the label costs a task-local scope
//! and is only read when an event is actually printed. A line that names its node
//! already (a driver's `node=` field, as hwctl-wol's WARN has for library users,
//! or a printed span's) gets no label: the node is named once.

use std::fmt;
use std::sync::Arc;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{DefaultFields, Format, Full, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent};
use tracing_subscriber::registry::LookupSpan;

use crate::inventory::InventoryNode;

/// The node a task works on: the inventory and the entry's index in it.
#[derive(Clone)]
pub(crate) struct NodeLabel {
    nodes: Arc<[InventoryNode]>,
    at: usize,
}

impl NodeLabel {
    /// The label of `nodes[at]` (its `name`).
    pub(crate) fn new(nodes: Arc<[InventoryNode]>, at: usize) -> Self {
        Self { nodes, at }
    }

    fn name(&self) -> Option<&str> {
        self.nodes.get(self.at).map(|n| n.name.as_str())
    }
}

tokio::task_local! {
    /// The node the running task works on (fleet), if any.
    static NODE: NodeLabel;
}

/// `future` with its log lines naming `label`'s node (module docs): tokio's
/// task-local scope itself, not an `async fn` around it, whose state would hold
/// `future` once more (and copy it when it starts).
pub(crate) fn with_node<F: Future>(label: NodeLabel, future: F) -> impl Future<Output = F::Output> {
    NODE.scope(label, future)
}

/// The event format: [`Format<Full>`] as is, with `node{node=NAME}: ` after the
/// level when the event is logged under a [`with_node`] label (where tracing's
/// own span names are printed: the same text a `node` span printed).
pub(crate) struct NodeFormat<T = SystemTime> {
    inner: Format<Full, T>,
    /// `inner` with colours forced on and off, for a labelled line rendered
    /// into a buffer first (whose writer has no colour setting of its own).
    coloured: Format<Full, T>,
    plain: Format<Full, T>,
}

impl NodeFormat {
    /// The default format (timestamps of the system clock), labelled.
    pub(crate) fn new() -> Self {
        Self::from(Format::default())
    }
}

impl<T: Clone> From<Format<Full, T>> for NodeFormat<T> {
    fn from(inner: Format<Full, T>) -> Self {
        Self {
            coloured: inner.clone().with_ansi(true),
            plain: inner.clone().with_ansi(false),
            inner,
        }
    }
}

impl<S, T> FormatEvent<S, DefaultFields> for NodeFormat<T>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    T: FormatTime,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, DefaultFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let label = NODE
            .try_with(|l| l.name().map(str::to_owned))
            .ok()
            .flatten();
        // A line that names its node already (a driver's `node=` field for library
        // users, or a printed span's) names it once, not again with the label.
        let Some(name) = label.filter(|name| !names_node(ctx, event, name)) else {
            return self.inner.format_event(ctx, writer, event);
        };
        let ansi = writer.has_ansi_escapes();
        let mut line = String::new();
        let inner = if ansi { &self.coloured } else { &self.plain };
        inner.format_event(ctx, Writer::new(&mut line), event)?;
        let at = after_level(&line, event.metadata().level());
        let prefix = node_prefix(&name, ansi);
        writer.write_str(&line[..at])?;
        writer.write_str(&prefix)?;
        writer.write_str(&line[at..])
    }
}

/// Whether `event` or a span it is printed in has a field `node` whose value is
/// `name` (`warn!(node = %id, …)`, `info_span!("op", node = %id)`).
fn names_node<S>(ctx: &FmtContext<'_, S, DefaultFields>, event: &Event<'_>, name: &str) -> bool
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    struct NodeField<'a> {
        name: &'a str,
        found: bool,
    }
    impl tracing::field::Visit for NodeField<'_> {
        fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
            if field.name() == "node" && value == self.name {
                self.found = true;
            }
        }
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
            if field.name() == "node" && format!("{value:?}") == self.name {
                self.found = true;
            }
        }
    }
    let mut visitor = NodeField { name, found: false };
    event.record(&mut visitor);
    if visitor.found {
        return true;
    }
    let wanted = format!("node={name}");
    ctx.event_scope().is_some_and(|scope| {
        scope.from_root().any(|span| {
            span.extensions()
                .get::<tracing_subscriber::fmt::FormattedFields<DefaultFields>>()
                .is_some_and(|f| f.fields.split_whitespace().any(|kv| kv == wanted))
        })
    })
}

/// Where the text after the level starts in a line of the full format (the
/// timestamp holds no letters of a level's name): just past the space that
/// follows the level (and its colour's reset). The line's end when not found.
fn after_level(line: &str, level: &tracing::Level) -> usize {
    line.find(level.as_str())
        .and_then(|i| line[i..].find(' ').map(|j| i + j + 1))
        .unwrap_or(line.len())
}

/// `node{node=NAME}: ` as tracing-subscriber prints a span with one field: the
/// span's name and braces bold, the field's name italic, `=` and `:` dimmed,
/// when colours are on.
fn node_prefix(name: &str, ansi: bool) -> String {
    if ansi {
        format!(
            "\x1b[1mnode\x1b[0m\x1b[1m{{\x1b[0m\x1b[3mnode\x1b[0m\x1b[2m=\x1b[0m{name}\
             \x1b[1m}}\x1b[0m\x1b[2m:\x1b[0m "
        )
    } else {
        format!("node{{node={name}}}: ")
    }
}

/// Checks the format against tracing-subscriber's own rendering of a `node` span
/// (with and without colours), so a change in either shows.
#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::sync::Mutex;
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Buf {
            self.clone()
        }
    }

    impl Buf {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn inventory(name: &str) -> Arc<[InventoryNode]> {
        Arc::from(vec![InventoryNode {
            name: name.to_owned(),
            ..InventoryNode::default()
        }])
    }

    /// The line through `NodeFormat` under a label, and tracing's own with a span.
    async fn both(ansi: bool, level: tracing::Level) -> (String, String) {
        let ours = Buf::default();
        let theirs = Buf::default();
        let sub_ours = tracing_subscriber::fmt()
            .with_ansi(ansi)
            .event_format(NodeFormat::from(Format::default().without_time()))
            .with_writer(ours.clone())
            .with_max_level(tracing::Level::TRACE)
            .finish();
        let sub_theirs = tracing_subscriber::fmt()
            .with_ansi(ansi)
            .event_format(Format::default().without_time())
            .with_writer(theirs.clone())
            .with_max_level(tracing::Level::TRACE)
            .finish();
        let log = move || match level {
            tracing::Level::WARN => tracing::warn!(n = 3, "a failure; retrying in 200 ms"),
            _ => tracing::info!(n = 3, "a failure; retrying in 200 ms"),
        };
        {
            let _g = tracing::subscriber::set_default(sub_ours);
            with_node(NodeLabel::new(inventory("blade-7"), 0), async { log() }).await;
            // Outside any label: the line as tracing prints it.
            log();
        }
        {
            let _g = tracing::subscriber::set_default(sub_theirs);
            tracing::warn_span!("node", node = %"blade-7").in_scope(log);
            log();
        }
        (ours.text(), theirs.text())
    }

    #[tokio::test]
    async fn a_labelled_line_is_the_line_a_node_span_printed() {
        for ansi in [false, true] {
            for level in [tracing::Level::WARN, tracing::Level::INFO] {
                let (ours, theirs) = both(ansi, level).await;
                assert_eq!(ours, theirs, "ansi {ansi}");
                assert!(ours.contains("blade-7"), "{ours}");
            }
        }
    }

    /// An event (or a span around it) that names the node itself gets no label:
    /// the node is named once (Wake-on-LAN's WARN in a fleet read `node{node=w1}:
    /// … node=w1`). Another node's name in the field keeps the label.
    #[tokio::test]
    async fn a_line_naming_its_node_is_not_labelled_again() {
        let out = Buf::default();
        let sub = tracing_subscriber::fmt()
            .with_ansi(false)
            .event_format(NodeFormat::from(Format::default().without_time()))
            .with_writer(out.clone())
            .with_max_level(tracing::Level::TRACE)
            .finish();
        {
            let _g = tracing::subscriber::set_default(sub);
            with_node(NodeLabel::new(inventory("w1"), 0), async {
                tracing::warn!(node = %"w1", "cannot power off");
                tracing::info_span!("op", node = %"w1").in_scope(|| tracing::warn!("in a span"));
                tracing::warn!(node = %"other", "another node");
                tracing::warn!("plain");
            })
            .await;
        }
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(lines[0].matches("w1").count(), 1, "{text}");
        assert_eq!(lines[1].matches("w1").count(), 1, "{text}");
        assert!(
            lines[2].contains("node{node=w1}") && lines[2].contains("node=other"),
            "{text}"
        );
        assert!(lines[3].contains("node{node=w1}: "), "{text}");
    }

    #[test]
    fn with_the_timestamp_the_label_follows_the_level() {
        let line = "2026-12-01T07:00:00.000000Z  WARN hwctl_core::retry: x";
        let at = after_level(line, &tracing::Level::WARN);
        assert_eq!(&line[at..], "hwctl_core::retry: x");
        assert_eq!(
            node_prefix("b", false) + &line[at..],
            "node{node=b}: hwctl_core::retry: x"
        );
    }
}
