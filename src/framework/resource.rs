//! The traits that providers, resources and data sources implement, and the
//! requests the framework hands them. Nothing here refers to protocol types.

use std::sync::Arc;

use async_trait::async_trait;

use super::diag::Diagnostics;
use super::schema::Schema;
use crate::value::Value;

/// Capabilities that the client (Terraform or OpenTofu) announced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientCapabilities {
    /// Write-only attributes are kept out of plan and state (Terraform and
    /// OpenTofu 1.11 and later announce this).
    pub write_only_attributes_allowed: bool,
    /// The client accepts deferred actions.
    pub deferral_allowed: bool,
}

/// A cancellation signal raised when Terraform calls StopProvider.
#[derive(Clone, Debug, Default)]
pub struct StopSignal(tokio_util::sync::CancellationToken);

impl StopSignal {
    pub fn stop(&self) {
        self.0.cancel();
    }

    pub fn is_stopped(&self) -> bool {
        self.0.is_cancelled()
    }

    /// Completes when the provider is asked to stop.
    pub async fn stopped(&self) {
        self.0.cancelled().await
    }
}

/// Everything a request carries besides its payload.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub client: ClientCapabilities,
    pub stop: StopSignal,
}

pub struct ConfigureRequest {
    pub config: Value,
    pub terraform_version: String,
    pub context: RequestContext,
}

/// A provider: its configuration schema, its configuration step, and the
/// resources and data sources it registers.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// Data that `configure` produces and every later call receives: clients, settings.
    type Data: Send + Sync + 'static;

    fn schema(&self) -> Schema;

    async fn validate_config(&self, _config: &Value, _context: &RequestContext) -> Diagnostics {
        Diagnostics::new()
    }

    /// Builds the provider data, or reports why it cannot.
    async fn configure(&self, request: ConfigureRequest) -> (Option<Self::Data>, Diagnostics);

    fn resources(&self) -> Vec<Arc<dyn Resource<Self::Data>>>;

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Self::Data>>>;

    /// Ephemeral resources, which Terraform and OpenTofu 1.10 and later open
    /// during a run and never store.
    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource<Self::Data>>> {
        Vec::new()
    }
}

pub struct PlanRequest<'a, D> {
    /// Null on create.
    pub prior_state: &'a Value,
    pub config: &'a Value,
    /// The framework's plan so far: the proposed new state with defaults
    /// applied, write-only attributes null and, on create, unset computed
    /// attributes unknown. The resource adjusts it.
    pub planned: Value,
    pub prior_private: &'a [u8],
    /// Handed to apply unchanged.
    pub planned_private: Vec<u8>,
    /// Attributes whose change replaces the resource, besides the schema's `force_new` ones.
    pub requires_replace: Vec<super::diag::AttributePath>,
    pub diagnostics: Diagnostics,
    pub data: &'a D,
    pub context: &'a RequestContext,
}

pub struct ApplyRequest<'a, D> {
    /// Null on create.
    pub prior_state: &'a Value,
    /// Null on destroy.
    pub planned_state: &'a Value,
    pub config: &'a Value,
    pub planned_private: &'a [u8],
    pub data: &'a D,
    pub context: &'a RequestContext,
}

/// The result of apply, read and import steps: a new state (null when the
/// object is gone), private data for the next call, and diagnostics.
#[derive(Debug)]
pub struct StateResponse {
    pub state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

impl Default for StateResponse {
    fn default() -> Self {
        Self {
            state: Value::Null,
            private: Vec::new(),
            diagnostics: Diagnostics::new(),
        }
    }
}

impl StateResponse {
    pub fn ok(state: Value) -> Self {
        Self {
            state,
            ..Self::default()
        }
    }

    pub fn failed(diagnostics: Diagnostics) -> Self {
        Self {
            state: Value::Null,
            private: Vec::new(),
            diagnostics,
        }
    }
}

pub struct ReadRequest<'a, D> {
    pub state: &'a Value,
    pub private: &'a [u8],
    pub data: &'a D,
    pub context: &'a RequestContext,
}

pub struct ImportRequest<'a, D> {
    pub id: &'a str,
    pub data: &'a D,
    pub context: &'a RequestContext,
}

/// A managed resource type.
#[async_trait]
pub trait Resource<D>: Send + Sync {
    /// Returns the full type name, for example `sips_credential`.
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Cross-attribute checks beyond the schema's validators. The
    /// configuration may contain unknown values.
    async fn validate(&self, _config: &Value, _context: &RequestContext) -> Diagnostics {
        Diagnostics::new()
    }

    /// Adjusts the plan for create or update. Destroy plans never reach it.
    async fn plan(&self, _request: &mut PlanRequest<'_, D>) {}

    /// Checks a planned destroy of `prior_state`. Clients that announce no
    /// destroy planning (Terraform before 1.3) skip this, so `delete` must
    /// check the same.
    async fn plan_destroy(
        &self,
        _prior_state: &Value,
        _data: &D,
        _context: &RequestContext,
    ) -> Diagnostics {
        Diagnostics::new()
    }

    async fn create(&self, request: ApplyRequest<'_, D>) -> StateResponse;

    async fn update(&self, request: ApplyRequest<'_, D>) -> StateResponse;

    /// Removes the object. The framework returns a null state unless
    /// diagnostics contain an error.
    async fn delete(&self, request: ApplyRequest<'_, D>) -> Diagnostics;

    /// Refreshes the state from the remote object; a null state means it is gone.
    async fn read(&self, request: ReadRequest<'_, D>) -> StateResponse;

    /// Builds the state that a following read completes, from an import id.
    async fn import(&self, request: ImportRequest<'_, D>) -> StateResponse;

    /// Rewrites a state stored under an older schema version into the current
    /// layout, as JSON. The default accepts the stored state as it is.
    fn upgrade_state(
        &self,
        _version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        Ok(state)
    }
}

pub struct DataReadRequest<'a, D> {
    pub config: &'a Value,
    pub data: &'a D,
    pub context: &'a RequestContext,
}

/// A data source type.
#[async_trait]
pub trait DataSource<D>: Send + Sync {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    async fn validate(&self, _config: &Value, _context: &RequestContext) -> Diagnostics {
        Diagnostics::new()
    }

    async fn read(&self, request: DataReadRequest<'_, D>) -> StateResponse;
}

/// A value that exists only during one Terraform run: opened when needed,
/// handed to configuration that reads it, and never written to plan or state.
#[async_trait]
pub trait EphemeralResource<D>: Send + Sync {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    async fn validate(&self, _config: &Value, _context: &RequestContext) -> Diagnostics {
        Diagnostics::new()
    }

    /// Produces the result object. Its `state` is the result; `private` comes
    /// back on close.
    async fn open(&self, request: DataReadRequest<'_, D>) -> StateResponse;
}
