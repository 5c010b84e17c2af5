//! Provider logs in the JSON line format that Terraform reads from a plugin's stderr.
//!
//! go-plugin, on the Terraform side, parses every stderr line that is a JSON object. It takes
//! `@level`, `@message` and `@timestamp` from it and passes every other key on as a field of
//! Terraform's own log entry, which Terraform prints under `TF_LOG` or `TF_LOG_PROVIDER`. A line
//! that does not parse, including one with a malformed `@timestamp`, is logged as plain text at
//! debug level, so each line must be one whole object.
//!
//! NOTE: go-plugin (1.4.1 in Terraform 1.0.3, and later versions by default) reads stderr through
//! a 64 KiB buffer, so a longer line arrives in pieces and is logged as plain text.
//!
//! [`HclogLayer`] writes that shape: the four `@` keys plus every field of the event and of the
//! spans around it, so fields such as `tf_rpc` or `tf_req_id` recorded on an RPC span appear on
//! every line logged inside it. The layer only formats. Callers decide what to log and must never
//! pass secrets or configuration, state or private payloads as fields.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::fmt;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Number, Value};
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::{SubscriberInitExt, TryInitError};

/// Value of `@module` on lines logged by this crate.
pub const DEFAULT_MODULE: &str = "sips";

/// Variable that sets the level of provider logs in Terraform. It takes precedence over `TF_LOG`.
pub const PROVIDER_LEVEL_VAR: &str = "TF_LOG_PROVIDER";

/// Variable that sets the level of all Terraform logs.
pub const GLOBAL_LEVEL_VAR: &str = "TF_LOG";

/// Targets of this crate's library and binary. Events from any other target (dependencies such as
/// h2, hyper, rustls or the AWS SDK) are capped at [`DEPENDENCY_MAX_LEVEL`].
const OWN_TARGETS: [&str; 2] = ["sips", "terraform_provider_sips"];

/// Most verbose level let through from dependencies. Their debug and trace output can include
/// request and response data, which may carry secrets.
const DEPENDENCY_MAX_LEVEL: LevelFilter = LevelFilter::WARN;

/// Level used when neither variable is set. Terraform discards provider lines in that case, so
/// this only shows when the provider runs outside Terraform, as in debug mode.
const UNSET_LEVEL: LevelFilter = LevelFilter::WARN;

/// Date and time part of hclog's `2006-01-02T15:04:05.000000Z07:00` layout.
const TIMESTAMP_DATE_TIME: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]");

/// Offset part of the same layout, used when the offset is not UTC (UTC is written as `Z`).
const TIMESTAMP_OFFSET: &[BorrowedFormatItem<'static>] =
    format_description!("[offset_hour sign:mandatory]:[offset_minute]");

/// Errors of log set-up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error(
        "invalid log level {value:?} in {variable}: expected trace, debug, info, warn, error, \
         off or json"
    )]
    InvalidLevel {
        variable: &'static str,
        value: String,
    },
    #[error("failed to install the global log subscriber")]
    Install(#[source] TryInitError),
}

/// Installs an [`HclogLayer`] writing to stderr as the global `tracing` subscriber, at the level
/// that [`parse_level`] derives from `TF_LOG_PROVIDER` and `TF_LOG`.
///
/// An invalid level value is not an error. Like Terraform, the layer then logs at trace level, and
/// a warning line names the bad value.
///
/// # Errors
///
/// Returns [`LoggingError::Install`] when a global subscriber is already installed.
pub fn init() -> Result<(), LoggingError> {
    let provider = std::env::var(PROVIDER_LEVEL_VAR).ok();
    let global = std::env::var(GLOBAL_LEVEL_VAR).ok();
    let (level, invalid) = match parse_level(provider.as_deref(), global.as_deref()) {
        Ok(level) => (level, None),
        Err(error) => (LevelFilter::TRACE, Some(error)),
    };

    tracing_subscriber::registry()
        .with(HclogLayer::stderr(level))
        .try_init()
        .map_err(LoggingError::Install)?;

    if let Some(error) = invalid {
        tracing::warn!(error = %error, "using trace log level");
    }
    Ok(())
}

/// Derives the level from the values of `TF_LOG_PROVIDER` and `TF_LOG`, with the rules of
/// Terraform 1.0.3 to 1.15 (`internal/logging/logging.go`).
///
/// A non-empty `TF_LOG_PROVIDER` wins over `TF_LOG`. Values compare case-insensitively: `trace`,
/// `debug`, `info`, `warn`, `error`, `off`, and `json`, which means trace. Terraform shows no
/// provider lines when both are unset or empty, and this returns warn for that case so that a
/// provider started by hand still reports problems. Terraform falls back to trace on an invalid
/// value, and the error returned here lets the caller do the same and log a warning.
///
/// # Errors
///
/// Returns [`LoggingError::InvalidLevel`] for a value outside the list above.
pub fn parse_level(
    provider_value: Option<&str>,
    global_value: Option<&str>,
) -> Result<LevelFilter, LoggingError> {
    let (variable, value) = match (provider_value, global_value) {
        (Some(value), _) if !value.is_empty() => (PROVIDER_LEVEL_VAR, value),
        (_, Some(value)) if !value.is_empty() => (GLOBAL_LEVEL_VAR, value),
        _ => return Ok(UNSET_LEVEL),
    };

    match value.to_ascii_lowercase().as_str() {
        "trace" | "json" => Ok(LevelFilter::TRACE),
        "debug" => Ok(LevelFilter::DEBUG),
        "info" => Ok(LevelFilter::INFO),
        "warn" => Ok(LevelFilter::WARN),
        "error" => Ok(LevelFilter::ERROR),
        "off" => Ok(LevelFilter::OFF),
        _ => Err(LoggingError::InvalidLevel {
            variable,
            value: value.to_owned(),
        }),
    }
}

/// A `tracing` layer that writes each event as one hclog JSON object per line.
///
/// Keys: `@level` (`trace`, `debug`, `info`, `warn` or `error`), `@message`, `@module`,
/// `@timestamp` in hclog's `2006-01-02T15:04:05.000000Z07:00` layout, then the fields of the
/// enclosing spans from the outermost in, then the event's own fields. A later field replaces an
/// earlier one of the same name. A field whose name starts with `@` is written as `_@name` so it
/// cannot replace one of the four keys that go-plugin reads.
pub struct HclogLayer<W> {
    make_writer: W,
    level: LevelFilter,
    module: String,
    clock: fn() -> OffsetDateTime,
}

impl HclogLayer<fn() -> io::Stderr> {
    /// Creates a layer that writes to stderr.
    pub fn stderr(level: LevelFilter) -> Self {
        Self::new(io::stderr as fn() -> io::Stderr, level)
    }
}

impl<W> HclogLayer<W>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    /// Creates a layer that writes to `make_writer`, for example a buffer in tests.
    ///
    /// Events of this crate pass at `level` or below. Events of other crates pass at warn or below
    /// even when `level` is more verbose.
    pub fn new(make_writer: W, level: LevelFilter) -> Self {
        Self {
            make_writer,
            level,
            module: DEFAULT_MODULE.to_owned(),
            clock: OffsetDateTime::now_utc,
        }
    }

    /// Sets `@module` for this crate's events. Other crates' events get `<module>.<crate>`.
    pub fn with_module(mut self, module: impl Into<String>) -> Self {
        self.module = module.into();
        self
    }

    /// Replaces the clock that stamps `@timestamp`.
    pub fn with_clock(mut self, clock: fn() -> OffsetDateTime) -> Self {
        self.clock = clock;
        self
    }

    /// Decides from the callsite alone, so `tracing` can cache the result per callsite.
    fn accepts(&self, metadata: &Metadata<'_>) -> bool {
        let own = is_own_target(metadata.target());
        if own && metadata.is_span() {
            // Spans of this crate stay enabled at every level because they carry the fields
            // (tf_rpc, tf_req_id, ...) that a warning or error inside them must show.
            return true;
        }

        let max_level = if own {
            self.level
        } else {
            self.level.min(DEPENDENCY_MAX_LEVEL)
        };
        *metadata.level() <= max_level
    }

    fn module_for(&self, target: &str) -> String {
        if is_own_target(target) {
            return self.module.clone();
        }
        let crate_name = target.split("::").next().unwrap_or(target);
        format!("{}.{crate_name}", self.module)
    }

    fn format_line<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>) -> Vec<u8>
    where
        S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    {
        let mut fields = FieldMap::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(span_fields) = span.extensions().get::<SpanFields>() {
                    fields.extend(span_fields.0.clone());
                }
            }
        }

        let mut event_fields = FieldMap::new();
        event.record(&mut FieldVisitor(&mut event_fields));
        let message = match event_fields.remove("message") {
            Some(Value::String(text)) => text,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        fields.extend(event_fields);

        let mut line: FieldMap = fields
            .into_iter()
            .map(|(name, value)| {
                if name.starts_with('@') {
                    (format!("_{name}"), value)
                } else {
                    (name, value)
                }
            })
            .collect();
        let metadata = event.metadata();
        line.insert("@level".into(), level_name(*metadata.level()).into());
        line.insert("@message".into(), message.into());
        line.insert("@module".into(), self.module_for(metadata.target()).into());
        // go-plugin accepts a line without a timestamp but demotes one with a malformed timestamp.
        if let Some(timestamp) = format_timestamp((self.clock)()) {
            line.insert("@timestamp".into(), timestamp.into());
        }

        // serde_json fails only on non-string map keys, which this map cannot have.
        let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

impl<S, W> Layer<S> for HclogLayer<W>
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        self.accepts(metadata)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = FieldMap::new();
        attrs.record(&mut FieldVisitor(&mut fields));
        span.extensions_mut().insert(SpanFields(fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
            values.record(&mut FieldVisitor(fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let line = self.format_line(event, &ctx);
        let mut writer = self.make_writer.make_writer_for(event.metadata());
        // One write per line keeps lines whole when threads log at once. A failed write to stderr
        // has nowhere to be reported, so it is dropped.
        let _ = writer.write_all(&line);
    }
}

/// Formats `time` in hclog's `2006-01-02T15:04:05.000000Z07:00` layout, with microseconds and `Z`
/// for UTC or a `+hh:mm` / `-hh:mm` offset. Returns `None` for years outside 0 to 9999, which the
/// layout cannot hold.
pub fn format_timestamp(time: OffsetDateTime) -> Option<String> {
    // Go parses the layout's year as exactly four digits without a sign.
    if !(0..=9999).contains(&time.year()) {
        return None;
    }
    let mut text = time.format(TIMESTAMP_DATE_TIME).ok()?;
    if time.offset().is_utc() {
        text.push('Z');
    } else {
        text.push_str(&time.format(TIMESTAMP_OFFSET).ok()?);
    }
    Some(text)
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

fn is_own_target(target: &str) -> bool {
    OWN_TARGETS.iter().any(|own| {
        target
            .strip_prefix(own)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

type FieldMap = BTreeMap<String, Value>;

/// Fields recorded on a span so far, kept in the span's extensions.
struct SpanFields(FieldMap);

/// Converts `tracing` field values to JSON values of the matching kind.
struct FieldVisitor<'map>(&'map mut FieldMap);

impl FieldVisitor<'_> {
    fn insert(&mut self, field: &Field, value: Value) {
        self.0.insert(field.name().to_owned(), value);
    }
}

impl Visit for FieldVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinity, so those are written as strings.
        let json = Number::from_f64(value).map_or_else(|| value.to_string().into(), Value::Number);
        self.insert(field, json);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, value.into());
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        let json = i64::try_from(value).map_or_else(|_| value.to_string().into(), Value::from);
        self.insert(field, json);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let json = u64::try_from(value).map_or_else(|_| value.to_string().into(), Value::from);
        self.insert(field, json);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.insert(field, value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn StdError + 'static)) {
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        self.insert(field, text.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.insert(field, format!("{value:?}").into());
    }
}

/// Log lines captured in memory, for tests that inspect what was logged.
#[derive(Clone, Default)]
pub struct CapturedLogs {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl CapturedLogs {
    /// Creates an empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a subscriber whose [`HclogLayer`] writes into this capture. Install it with
    /// `tracing::subscriber::with_default` or `set_default`.
    pub fn subscriber(&self, level: LevelFilter) -> impl Subscriber + Send + Sync + 'static {
        let capture = self.clone();
        let make_writer = move || capture.clone();
        tracing_subscriber::registry().with(HclogLayer::new(make_writer, level))
    }

    /// Returns everything written so far.
    pub fn text(&self) -> String {
        let buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&buffer).into_owned()
    }

    /// Parses every line written so far as a JSON object.
    ///
    /// # Panics
    ///
    /// Panics when a line is not a JSON object, since that breaks the format Terraform reads.
    pub fn lines(&self) -> Vec<serde_json::Map<String, Value>> {
        self.text()
            .lines()
            .map(|line| match serde_json::from_str(line) {
                Ok(Value::Object(object)) => object,
                _ => panic!("log line is not a JSON object: {line:?}"),
            })
            .collect()
    }
}

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let mut buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use serde_json::{Map, Value, json};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    use time::macros::datetime;
    use tracing::level_filters::LevelFilter;
    use tracing_subscriber::layer::SubscriberExt;

    use super::{CapturedLogs, HclogLayer, LoggingError, format_timestamp, parse_level};

    fn capture(level: LevelFilter, emit: impl FnOnce()) -> Vec<Map<String, Value>> {
        let logs = CapturedLogs::new();
        tracing::subscriber::with_default(logs.subscriber(level), emit);
        logs.lines()
    }

    fn capture_with_clock(clock: fn() -> OffsetDateTime, emit: impl FnOnce()) -> String {
        let logs = CapturedLogs::new();
        let writer_logs = logs.clone();
        let layer =
            HclogLayer::new(move || writer_logs.clone(), LevelFilter::TRACE).with_clock(clock);
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, emit);
        logs.text()
    }

    #[test]
    fn every_level_has_hclog_name() {
        let lines = capture(LevelFilter::TRACE, || {
            tracing::trace!("t");
            tracing::debug!("d");
            tracing::info!("i");
            tracing::warn!("w");
            tracing::error!("e");
        });

        let levels: Vec<_> = lines.iter().map(|line| line["@level"].clone()).collect();
        assert_eq!(levels, ["trace", "debug", "info", "warn", "error"]);
        let messages: Vec<_> = lines.iter().map(|line| line["@message"].clone()).collect();
        assert_eq!(messages, ["t", "d", "i", "w", "e"]);
    }

    #[test]
    fn line_has_reserved_keys() {
        let lines = capture(LevelFilter::TRACE, || {
            tracing::info!(count = 3, "configured")
        });

        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["@level"], "info");
        assert_eq!(line["@message"], "configured");
        assert_eq!(line["@module"], "sips");
        assert!(line["@timestamp"].is_string());
        assert_eq!(line["count"], 3);
        assert_eq!(line.len(), 5, "unexpected keys in {line:?}");
    }

    #[test]
    fn message_with_format_arguments() {
        let lines = capture(LevelFilter::TRACE, || tracing::info!("read {} entries", 2));

        assert_eq!(lines[0]["@message"], "read 2 entries");
        assert!(!lines[0].contains_key("message"));
    }

    #[test]
    fn span_fields_on_every_event() {
        let lines = capture(LevelFilter::TRACE, || {
            let span = tracing::info_span!(
                "rpc",
                tf_rpc = "PlanResourceChange",
                tf_resource_type = "sips_credential",
                tf_req_id = "8b6a0a52",
            );
            let _entered = span.enter();
            tracing::debug!("first");
            tracing::warn!("second");
        });

        assert_eq!(lines.len(), 2);
        for line in &lines {
            assert_eq!(line["tf_rpc"], "PlanResourceChange");
            assert_eq!(line["tf_resource_type"], "sips_credential");
            assert_eq!(line["tf_req_id"], "8b6a0a52");
        }
    }

    #[test]
    fn nested_span_fields_merge() {
        let lines = capture(LevelFilter::TRACE, || {
            let outer = tracing::info_span!("rpc", tf_rpc = "ApplyResourceChange", scope = "outer");
            let _outer = outer.enter();
            let inner = tracing::debug_span!("store", store = "aws", scope = "inner");
            let _inner = inner.enter();
            tracing::info!(store = "event", "written");
        });

        let line = &lines[0];
        assert_eq!(line["tf_rpc"], "ApplyResourceChange");
        assert_eq!(line["scope"], "inner");
        assert_eq!(line["store"], "event");
    }

    #[test]
    fn span_field_recorded_later() {
        let lines = capture(LevelFilter::TRACE, || {
            let span = tracing::info_span!("rpc", tf_req_id = tracing::field::Empty);
            let _entered = span.enter();
            tracing::info!("before");
            span.record("tf_req_id", "42");
            tracing::info!("after");
        });

        assert!(!lines[0].contains_key("tf_req_id"));
        assert_eq!(lines[1]["tf_req_id"], "42");
    }

    #[test]
    fn span_fields_end_with_span() {
        let lines = capture(LevelFilter::TRACE, || {
            tracing::info_span!("rpc", tf_rpc = "ReadResource").in_scope(|| tracing::info!("in"));
            tracing::info!("out");
        });

        assert_eq!(lines[0]["tf_rpc"], "ReadResource");
        assert!(!lines[1].contains_key("tf_rpc"));
    }

    #[test]
    fn level_filter_drops_verbose_events() {
        let lines = capture(LevelFilter::WARN, || {
            tracing::trace!("t");
            tracing::debug!("d");
            tracing::info!("i");
            tracing::warn!("w");
            tracing::error!("e");
        });

        let messages: Vec<_> = lines.iter().map(|line| line["@message"].clone()).collect();
        assert_eq!(messages, ["w", "e"]);
    }

    #[test]
    fn off_level_writes_nothing() {
        let lines = capture(LevelFilter::OFF, || tracing::error!("e"));

        assert!(lines.is_empty());
    }

    #[test]
    fn filtered_span_still_adds_fields() {
        let lines = capture(LevelFilter::ERROR, || {
            let span = tracing::trace_span!("rpc", tf_rpc = "ReadDataSource");
            let _entered = span.enter();
            tracing::error!("failed");
        });

        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["tf_rpc"], "ReadDataSource");
    }

    #[test]
    fn dependency_events_capped_at_warn() {
        let lines = capture(LevelFilter::TRACE, || {
            tracing::debug!(target: "h2::codec", "frame");
            tracing::info!(target: "aws_smithy_runtime", "request");
            tracing::warn!(target: "h2::proto::connection", "reset");
            tracing::debug!(target: "sips::stores", "own");
        });

        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["@message"], "reset");
        assert_eq!(lines[0]["@module"], "sips.h2");
        assert_eq!(lines[1]["@message"], "own");
        assert_eq!(lines[1]["@module"], "sips");
    }

    #[test]
    fn binary_target_counts_as_own() {
        let lines = capture(LevelFilter::TRACE, || {
            tracing::debug!(target: "terraform_provider_sips", "main");
            tracing::debug!(target: "sipsx", "other crate");
        });

        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["@module"], "sips");
    }

    #[test]
    fn module_name_configurable() {
        let logs = CapturedLogs::new();
        let writer_logs = logs.clone();
        let layer = HclogLayer::new(move || writer_logs.clone(), LevelFilter::TRACE)
            .with_module("sips-test");
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("own");
            tracing::warn!(target: "rustls::conn", "dependency");
        });

        let lines = logs.lines();
        assert_eq!(lines[0]["@module"], "sips-test");
        assert_eq!(lines[1]["@module"], "sips-test.rustls");
    }

    #[test]
    fn timestamp_utc_layout() {
        fn clock() -> OffsetDateTime {
            datetime!(2026-03-04 05:06:07.000008 UTC)
        }
        let text = capture_with_clock(clock, || tracing::info!("x"));

        assert!(
            text.contains(r#""@timestamp":"2026-03-04T05:06:07.000008Z""#),
            "{text}"
        );
    }

    #[test]
    fn timestamp_offset_layout() {
        assert_eq!(
            format_timestamp(datetime!(2026-12-31 23:59:59.999999999 -5:30)).as_deref(),
            Some("2026-12-31T23:59:59.999999-05:30")
        );
        assert_eq!(
            format_timestamp(datetime!(2026-01-02 03:04:05 +1)).as_deref(),
            Some("2026-01-02T03:04:05.000000+01:00")
        );
    }

    #[test]
    fn timestamp_out_of_range_year() {
        fn clock() -> OffsetDateTime {
            datetime!(2026-01-01 0:00 UTC).replace_year(-1).unwrap()
        }
        let text = capture_with_clock(clock, || tracing::info!("x"));
        let line: Map<String, Value> = serde_json::from_str(&text).unwrap();

        assert_eq!(format_timestamp(clock()), None);
        assert_eq!(line["@message"], "x");
        assert!(!line.contains_key("@timestamp"), "{text}");
    }

    #[test]
    fn timestamp_from_real_clock_parses() {
        let lines = capture(LevelFilter::TRACE, || tracing::info!("x"));
        let timestamp = lines[0]["@timestamp"].as_str().unwrap();

        // `2026-03-04T05:06:07.000008Z`: 27 characters, exactly six fractional digits.
        assert_eq!(timestamp.len(), 27, "{timestamp}");
        assert_eq!(&timestamp[19..20], ".");
        assert!(timestamp[20..26].bytes().all(|byte| byte.is_ascii_digit()));
        assert!(timestamp.ends_with('Z'));
        assert!(OffsetDateTime::parse(timestamp, &Rfc3339).is_ok());
    }

    #[test]
    fn special_characters_escaped() {
        let awkward = concat!(
            "quote \" backslash \\ newline \n tab \t ",
            "nul \0 escape \u{1b} bell \u{7} é ✓"
        );
        let logs = CapturedLogs::new();
        tracing::subscriber::with_default(logs.subscriber(LevelFilter::TRACE), || {
            tracing::info!(detail = awkward, "{awkward}");
        });

        let text = logs.text();
        assert_eq!(text.matches('\n').count(), 1, "one line expected: {text:?}");
        assert!(text.ends_with('\n'));
        assert!(!text.trim_end().chars().any(|c| c.is_control()), "{text:?}");
        let lines = logs.lines();
        assert_eq!(lines[0]["@message"], awkward);
        assert_eq!(lines[0]["detail"], awkward);
    }

    #[test]
    fn reserved_field_names_renamed() {
        let lines = capture(LevelFilter::TRACE, || {
            tracing::info!("@message" = 5, "@level" = "bogus", "real");
        });

        let line = &lines[0];
        assert_eq!(line["@message"], "real");
        assert_eq!(line["@level"], "info");
        assert_eq!(line["_@message"], 5);
        assert_eq!(line["_@level"], "bogus");
    }

    #[derive(Debug)]
    struct Inner;

    impl fmt::Display for Inner {
        fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("connection refused")
        }
    }

    impl std::error::Error for Inner {}

    #[derive(Debug)]
    struct Outer(Inner);

    impl fmt::Display for Outer {
        fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("store request failed")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn field_types_keep_json_kind() {
        let error = Outer(Inner);
        let lines = capture(LevelFilter::TRACE, || {
            tracing::info!(
                signed = -4_i64,
                unsigned = 7_u64,
                flag = true,
                ratio = 0.5_f64,
                not_a_number = f64::NAN,
                small_wide = 9_i128,
                huge = u128::MAX,
                text = "plain",
                shown = %"display",
                debugged = ?vec![1, 2],
                error = &error as &(dyn std::error::Error + 'static),
                "typed"
            );
        });

        let line = &lines[0];
        assert_eq!(line["signed"], json!(-4));
        assert_eq!(line["unsigned"], json!(7));
        assert_eq!(line["flag"], json!(true));
        assert_eq!(line["ratio"], json!(0.5));
        assert_eq!(line["not_a_number"], json!("NaN"));
        assert_eq!(line["small_wide"], json!(9));
        assert_eq!(line["huge"], json!(u128::MAX.to_string()));
        assert_eq!(line["text"], json!("plain"));
        assert_eq!(line["shown"], json!("display"));
        assert_eq!(line["debugged"], json!("[1, 2]"));
        assert_eq!(
            line["error"],
            json!("store request failed: connection refused")
        );
    }

    #[test]
    fn parse_level_table() {
        let cases: [(Option<&str>, Option<&str>, LevelFilter); 12] = [
            (None, None, LevelFilter::WARN),
            (Some(""), Some(""), LevelFilter::WARN),
            (None, Some("trace"), LevelFilter::TRACE),
            (None, Some("DEBUG"), LevelFilter::DEBUG),
            (None, Some("Info"), LevelFilter::INFO),
            (None, Some("warn"), LevelFilter::WARN),
            (None, Some("error"), LevelFilter::ERROR),
            (None, Some("OFF"), LevelFilter::OFF),
            (None, Some("json"), LevelFilter::TRACE),
            (Some("JSON"), None, LevelFilter::TRACE),
            (Some("error"), Some("trace"), LevelFilter::ERROR),
            (Some(""), Some("debug"), LevelFilter::DEBUG),
        ];

        for (provider, global, expected) in cases {
            let level = parse_level(provider, global).unwrap();
            assert_eq!(
                level, expected,
                "TF_LOG_PROVIDER={provider:?} TF_LOG={global:?}"
            );
        }
    }

    #[test]
    fn parse_level_rejects_unknown() {
        let error = parse_level(Some("verbose"), Some("debug")).unwrap_err();

        assert!(matches!(
            &error,
            LoggingError::InvalidLevel { variable: "TF_LOG_PROVIDER", value } if value == "verbose"
        ));
        assert_eq!(
            error.to_string(),
            "invalid log level \"verbose\" in TF_LOG_PROVIDER: expected trace, debug, info, warn, \
             error, off or json"
        );
    }

    #[test]
    fn parse_level_names_global_variable() {
        let error = parse_level(None, Some("loud")).unwrap_err();

        assert!(matches!(
            error,
            LoggingError::InvalidLevel {
                variable: "TF_LOG",
                ..
            }
        ));
    }

    #[test]
    fn concurrent_lines_stay_whole() {
        let logs = CapturedLogs::new();
        let subscriber = logs.subscriber(LevelFilter::TRACE);
        let dispatch = tracing::Dispatch::new(subscriber);

        std::thread::scope(|scope| {
            for thread in 0..4 {
                let dispatch = dispatch.clone();
                scope.spawn(move || {
                    tracing::dispatcher::with_default(&dispatch, || {
                        for index in 0..50 {
                            tracing::info!(thread, index, padding = "x".repeat(500), "line");
                        }
                    });
                });
            }
        });

        assert_eq!(logs.lines().len(), 200);
    }
}
