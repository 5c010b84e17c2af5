//! Dispatch by type name, value decoding, and Terraform core's plan and apply
//! rules, for any protocol version.
//!
//! The protocol adaptors hand over encoded values and get encoded values back,
//! so that they stay thin and this layer owns every schema-dependent step.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use super::diag::{AttributePath, Diagnostic, Diagnostics};
use super::plan;
use super::resource::*;
use super::schema::Schema;
use super::validate::validate_block;
use crate::value::{self, Type, Value};

/// An encoded value as Terraform sends it: msgpack, or JSON as a fallback.
/// Both empty means null.
#[derive(Clone, Debug, Default)]
pub struct Dynamic {
    pub msgpack: Vec<u8>,
    pub json: Vec<u8>,
}

/// A stored state as UpgradeResourceState receives it.
#[derive(Clone, Debug, Default)]
pub struct RawState {
    pub json: Vec<u8>,
    pub flatmap: HashMap<String, String>,
}

pub struct Schemas {
    pub provider: Schema,
    pub resources: BTreeMap<String, Schema>,
    pub data_sources: BTreeMap<String, Schema>,
    pub ephemeral_resources: BTreeMap<String, Schema>,
}

#[derive(Debug, Default)]
pub struct PlanResult {
    pub planned_state: Vec<u8>,
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, Default)]
pub struct StateResult {
    pub state: Vec<u8>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug)]
pub struct ImportedResource {
    pub type_name: String,
    pub state: Vec<u8>,
    pub private: Vec<u8>,
}

/// Serves one provider: owns its registrations and its configured data.
pub struct ProviderServer<P: Provider> {
    provider: P,
    resources: HashMap<&'static str, Arc<dyn Resource<P::Data>>>,
    data_sources: HashMap<&'static str, Arc<dyn DataSource<P::Data>>>,
    ephemeral_resources: HashMap<&'static str, Arc<dyn EphemeralResource<P::Data>>>,
    data: OnceLock<P::Data>,
    stop: StopSignal,
}

impl<P: Provider> ProviderServer<P> {
    pub fn new(provider: P) -> Self {
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| (r.type_name(), r))
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| (d.type_name(), d))
            .collect();
        let ephemeral_resources = provider
            .ephemeral_resources()
            .into_iter()
            .map(|e| (e.type_name(), e))
            .collect();
        Self {
            provider,
            resources,
            data_sources,
            ephemeral_resources,
            data: OnceLock::new(),
            stop: StopSignal::default(),
        }
    }

    fn context(&self, client: ClientCapabilities) -> RequestContext {
        RequestContext {
            client,
            stop: self.stop.clone(),
        }
    }

    pub fn schemas(&self) -> Schemas {
        Schemas {
            provider: self.provider.schema(),
            resources: self
                .resources
                .iter()
                .map(|(n, r)| (n.to_string(), r.schema()))
                .collect(),
            data_sources: self
                .data_sources
                .iter()
                .map(|(n, d)| (n.to_string(), d.schema()))
                .collect(),
            ephemeral_resources: self
                .ephemeral_resources
                .iter()
                .map(|(n, e)| (n.to_string(), e.schema()))
                .collect(),
        }
    }

    pub async fn validate_ephemeral_config(
        &self,
        type_name: &str,
        config: &Dynamic,
    ) -> Diagnostics {
        let ephemeral = match self.ephemeral_resource(type_name) {
            Ok(ephemeral) => ephemeral,
            Err(diagnostics) => return diagnostics,
        };
        let schema = ephemeral.schema();
        let config = match decode(config, &schema) {
            Ok(config) => config,
            Err(diagnostics) => return diagnostics,
        };
        let client = ClientCapabilities::default();
        let mut diagnostics = validate_block(&schema.block, &config, client);
        diagnostics.extend(ephemeral.validate(&config, &self.context(client)).await);
        diagnostics
    }

    /// Opens an ephemeral resource. The result is encoded for Terraform and
    /// never logged.
    pub async fn open_ephemeral(
        &self,
        type_name: &str,
        config: &Dynamic,
        client: ClientCapabilities,
    ) -> StateResult {
        let ephemeral = match self.ephemeral_resource(type_name) {
            Ok(ephemeral) => ephemeral,
            Err(diagnostics) => {
                return StateResult {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let schema = ephemeral.schema();
        let (config, data) = match (decode(config, &schema), self.configured_data()) {
            (Ok(config), Ok(data)) => (config, data),
            (Err(diagnostics), _) | (_, Err(diagnostics)) => {
                return StateResult {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let context = self.context(client);
        let request = DataReadRequest {
            config: &config,
            data,
            context: &context,
        };
        let response = ephemeral.open(request).await;
        encoded(
            &response.state,
            &schema,
            response.private,
            response.diagnostics,
        )
    }

    fn ephemeral_resource(
        &self,
        type_name: &str,
    ) -> Result<&Arc<dyn EphemeralResource<P::Data>>, Diagnostics> {
        self.ephemeral_resources
            .get(type_name)
            .ok_or_else(|| unknown_type("ephemeral resource", type_name))
    }

    pub async fn validate_provider_config(
        &self,
        config: &Dynamic,
        client: ClientCapabilities,
    ) -> Diagnostics {
        let schema = self.provider.schema();
        let config = match decode(config, &schema) {
            Ok(config) => config,
            Err(diagnostics) => return diagnostics,
        };
        let mut diagnostics = validate_block(&schema.block, &config, client);
        let context = self.context(client);
        diagnostics.extend(self.provider.validate_config(&config, &context).await);
        diagnostics
    }

    pub async fn configure(
        &self,
        config: &Dynamic,
        terraform_version: String,
        client: ClientCapabilities,
    ) -> Diagnostics {
        let config = match decode(config, &self.provider.schema()) {
            Ok(config) => config,
            Err(diagnostics) => return diagnostics,
        };
        let request = ConfigureRequest {
            config,
            terraform_version,
            context: self.context(client),
        };
        let (data, diagnostics) = self.provider.configure(request).await;
        if let Some(data) = data {
            // Terraform configures a provider instance once; a second call keeps the first data.
            let _ = self.data.set(data);
        }
        diagnostics
    }

    pub fn stop(&self) {
        self.stop.stop();
    }

    pub async fn validate_resource_config(
        &self,
        type_name: &str,
        config: &Dynamic,
        client: ClientCapabilities,
    ) -> Diagnostics {
        let resource = match self.resource(type_name) {
            Ok(resource) => resource,
            Err(diagnostics) => return diagnostics,
        };
        let schema = resource.schema();
        let config = match decode(config, &schema) {
            Ok(config) => config,
            Err(diagnostics) => return diagnostics,
        };
        let mut diagnostics = validate_block(&schema.block, &config, client);
        diagnostics.extend(resource.validate(&config, &self.context(client)).await);
        diagnostics
    }

    pub async fn validate_data_source_config(
        &self,
        type_name: &str,
        config: &Dynamic,
        client: ClientCapabilities,
    ) -> Diagnostics {
        let data_source = match self.data_source(type_name) {
            Ok(data_source) => data_source,
            Err(diagnostics) => return diagnostics,
        };
        let schema = data_source.schema();
        let config = match decode(config, &schema) {
            Ok(config) => config,
            Err(diagnostics) => return diagnostics,
        };
        let mut diagnostics = validate_block(&schema.block, &config, client);
        diagnostics.extend(data_source.validate(&config, &self.context(client)).await);
        diagnostics
    }

    /// Reads a stored state, JSON from any schema version, into the current
    /// schema. Attributes that the current schema no longer has are dropped.
    pub fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        raw: &RawState,
    ) -> StateResult {
        let resource = match self.resource(type_name) {
            Ok(resource) => resource,
            Err(diagnostics) => {
                return StateResult {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let schema = resource.schema();
        if raw.json.is_empty() {
            let diagnostics = if raw.flatmap.is_empty() {
                Diagnostics::new()
            } else {
                Diagnostic::error(
                    "Unsupported state format",
                    "The stored state is in the flatmap format of Terraform 0.11 and earlier, \
                     which this provider never wrote. Remove the resource from state and import it.",
                )
                .into()
            };
            return StateResult {
                diagnostics,
                ..Default::default()
            };
        }
        let upgraded = serde_json::from_slice(&raw.json)
            .map_err(|error| decode_failure(&format!("stored state is not JSON: {error}")))
            .and_then(|json| resource.upgrade_state(version, json));
        let value = upgraded.and_then(|json| {
            let bytes = serde_json::to_vec(&json).unwrap_or_default();
            value::json::decode_lenient(&bytes, &schema.block.implied_type())
                .map_err(|error| decode_failure(&error.to_string()))
        });
        match value {
            Ok(value) => encoded(&value, &schema, Vec::new(), Diagnostics::new()),
            Err(diagnostics) => StateResult {
                diagnostics,
                ..Default::default()
            },
        }
    }

    pub async fn read_resource(
        &self,
        type_name: &str,
        state: &Dynamic,
        private: &[u8],
        client: ClientCapabilities,
    ) -> StateResult {
        let (resource, schema, data) = match self.configured_resource(type_name) {
            Ok(found) => found,
            Err(diagnostics) => {
                return StateResult {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let state = match decode(state, &schema) {
            Ok(state) => state,
            Err(diagnostics) => {
                return StateResult {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        if state.is_null() {
            return encoded(&Value::Null, &schema, private.to_vec(), Diagnostics::new());
        }
        let context = self.context(client);
        let request = ReadRequest {
            state: &state,
            private,
            data,
            context: &context,
        };
        let mut response = resource.read(request).await;
        plan::null_write_only(&schema.block, &mut response.state);
        encoded(
            &response.state,
            &schema,
            response.private,
            response.diagnostics,
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn plan_resource_change(
        &self,
        type_name: &str,
        prior_state: &Dynamic,
        proposed_new_state: &Dynamic,
        config: &Dynamic,
        prior_private: &[u8],
        client: ClientCapabilities,
    ) -> PlanResult {
        let (resource, schema, data) = match self.configured_resource(type_name) {
            Ok(found) => found,
            Err(diagnostics) => {
                return PlanResult {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let decoded = (|| {
            Ok::<_, Diagnostics>((
                decode(prior_state, &schema)?,
                decode(proposed_new_state, &schema)?,
                decode(config, &schema)?,
            ))
        })();
        let (prior, proposed, config) = match decoded {
            Ok(values) => values,
            Err(diagnostics) => {
                return PlanResult {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        if proposed.is_null() {
            // A destroy plan, which clients call only because the provider
            // announces plan_destroy (Terraform 1.3 and later): the resource may
            // object, and otherwise there is nothing to decide.
            let context = self.context(client);
            let diagnostics = resource.plan_destroy(&prior, data, &context).await;
            return PlanResult {
                planned_state: encode_or_empty(&Value::Null, &schema),
                planned_private: prior_private.to_vec(),
                diagnostics,
                ..Default::default()
            };
        }

        let mut planned = proposed;
        plan::apply_defaults(&schema.block, &config, &mut planned);
        plan::null_write_only(&schema.block, &mut planned);
        if prior.is_null() {
            plan::mark_computed_unknown(&schema.block, &config, &mut planned);
        }

        let context = self.context(client);
        let mut request = PlanRequest {
            prior_state: &prior,
            config: &config,
            planned,
            prior_private,
            planned_private: prior_private.to_vec(),
            requires_replace: Vec::new(),
            diagnostics: Diagnostics::new(),
            data,
            context: &context,
        };
        resource.plan(&mut request).await;

        let PlanRequest {
            mut planned,
            planned_private,
            mut requires_replace,
            mut diagnostics,
            ..
        } = request;
        plan::null_write_only(&schema.block, &mut planned);
        if !prior.is_null() {
            requires_replace.extend(plan::replaced_paths(&schema.block, &prior, &planned));
        }
        diagnostics.extend(plan::check_planned_against_config(
            &schema.block,
            &config,
            &planned,
        ));
        let planned_state = match encode(&planned, &schema) {
            Ok(bytes) => bytes,
            Err(error) => {
                diagnostics.extend(error);
                Vec::new()
            }
        };
        PlanResult {
            planned_state,
            requires_replace,
            planned_private,
            diagnostics,
        }
    }

    pub async fn apply_resource_change(
        &self,
        type_name: &str,
        prior_state: &Dynamic,
        planned_state: &Dynamic,
        config: &Dynamic,
        planned_private: &[u8],
        client: ClientCapabilities,
    ) -> StateResult {
        let (resource, schema, data) = match self.configured_resource(type_name) {
            Ok(found) => found,
            Err(diagnostics) => {
                return StateResult {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let decoded = (|| {
            Ok::<_, Diagnostics>((
                decode(prior_state, &schema)?,
                decode(planned_state, &schema)?,
                decode(config, &schema)?,
            ))
        })();
        let (prior, planned, config) = match decoded {
            Ok(values) => values,
            Err(diagnostics) => {
                return StateResult {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let context = self.context(client);
        let request = ApplyRequest {
            prior_state: &prior,
            planned_state: &planned,
            config: &config,
            planned_private,
            data,
            context: &context,
        };

        if planned.is_null() {
            let diagnostics = resource.delete(request).await;
            // On a failed delete the object still exists, so the prior state stays.
            let state = if diagnostics.has_errors() {
                prior.clone()
            } else {
                Value::Null
            };
            return encoded(&state, &schema, planned_private.to_vec(), diagnostics);
        }
        let mut response = if prior.is_null() {
            resource.create(request).await
        } else {
            resource.update(request).await
        };
        if response.diagnostics.has_errors() && response.state.is_null() && !prior.is_null() {
            // A failed update leaves the object in place: a null state would tell
            // Terraform it is gone.
            response.state = prior.clone();
            response.private = planned_private.to_vec();
        }
        plan::null_write_only(&schema.block, &mut response.state);
        if !response.diagnostics.has_errors() {
            response
                .diagnostics
                .extend(plan::check_wholly_known(&response.state));
        }
        encoded(
            &response.state,
            &schema,
            response.private,
            response.diagnostics,
        )
    }

    pub async fn import_resource_state(
        &self,
        type_name: &str,
        id: &str,
        client: ClientCapabilities,
    ) -> (Vec<ImportedResource>, Diagnostics) {
        let (resource, schema, data) = match self.configured_resource(type_name) {
            Ok(found) => found,
            Err(diagnostics) => return (Vec::new(), diagnostics),
        };
        let context = self.context(client);
        let response = resource
            .import(ImportRequest {
                id,
                data,
                context: &context,
            })
            .await;
        if response.diagnostics.has_errors() {
            return (Vec::new(), response.diagnostics);
        }
        let result = encoded(
            &response.state,
            &schema,
            response.private,
            response.diagnostics,
        );
        let imported = ImportedResource {
            type_name: type_name.to_owned(),
            state: result.state,
            private: result.private,
        };
        (vec![imported], result.diagnostics)
    }

    pub async fn read_data_source(
        &self,
        type_name: &str,
        config: &Dynamic,
        client: ClientCapabilities,
    ) -> StateResult {
        let data_source = match self.data_source(type_name) {
            Ok(data_source) => data_source,
            Err(diagnostics) => {
                return StateResult {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let schema = data_source.schema();
        let (config, data) = match (decode(config, &schema), self.configured_data()) {
            (Ok(config), Ok(data)) => (config, data),
            (Err(diagnostics), _) | (_, Err(diagnostics)) => {
                return StateResult {
                    diagnostics,
                    ..Default::default()
                };
            }
        };
        let context = self.context(client);
        let response = data_source
            .read(DataReadRequest {
                config: &config,
                data,
                context: &context,
            })
            .await;
        encoded(&response.state, &schema, Vec::new(), response.diagnostics)
    }

    fn resource(&self, type_name: &str) -> Result<&Arc<dyn Resource<P::Data>>, Diagnostics> {
        self.resources
            .get(type_name)
            .ok_or_else(|| unknown_type("resource", type_name))
    }

    fn data_source(&self, type_name: &str) -> Result<&Arc<dyn DataSource<P::Data>>, Diagnostics> {
        self.data_sources
            .get(type_name)
            .ok_or_else(|| unknown_type("data source", type_name))
    }

    fn configured_data(&self) -> Result<&P::Data, Diagnostics> {
        self.data.get().ok_or_else(|| {
            Diagnostic::error(
                "Provider not configured",
                "Terraform called the provider before configuring it, or the provider \
                 configuration failed. Fix the errors reported for the provider block first.",
            )
            .into()
        })
    }

    #[allow(clippy::type_complexity)]
    fn configured_resource(
        &self,
        type_name: &str,
    ) -> Result<(&Arc<dyn Resource<P::Data>>, Schema, &P::Data), Diagnostics> {
        let resource = self.resource(type_name)?;
        let data = self.configured_data()?;
        Ok((resource, resource.schema(), data))
    }
}

fn unknown_type(kind: &str, type_name: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!(
            "This provider has no {kind} type {type_name:?}. Check the type name and the \
             provider version."
        ),
    )
    .into()
}

fn decode_failure(reason: &str) -> Diagnostics {
    Diagnostic::error(
        "Invalid value from Terraform",
        format!(
            "The provider could not decode a value that Terraform sent: {reason}. This points to \
             a client and provider mismatch; please report it with the Terraform version."
        ),
    )
    .into()
}

fn decode(dynamic: &Dynamic, schema: &Schema) -> Result<Value, Diagnostics> {
    let ty: Type = schema.block.implied_type();
    let result = if !dynamic.msgpack.is_empty() {
        value::msgpack::decode(&dynamic.msgpack, &ty).map_err(|e| e.to_string())
    } else if !dynamic.json.is_empty() {
        value::json::decode(&dynamic.json, &ty).map_err(|e| e.to_string())
    } else {
        Ok(Value::Null)
    };
    result.map_err(|reason| decode_failure(&reason))
}

fn encode(value: &Value, schema: &Schema) -> Result<Vec<u8>, Diagnostics> {
    value::msgpack::encode(value, &schema.block.implied_type()).map_err(|error| {
        Diagnostic::error(
            "Provider produced an invalid value",
            format!(
                "The provider built a value that does not match its schema: {error}. This is a \
                 bug in the provider; please report it."
            ),
        )
        .into()
    })
}

fn encode_or_empty(value: &Value, schema: &Schema) -> Vec<u8> {
    encode(value, schema).unwrap_or_default()
}

fn encoded(
    value: &Value,
    schema: &Schema,
    private: Vec<u8>,
    diagnostics: Diagnostics,
) -> StateResult {
    let mut diagnostics = diagnostics;
    let state = match encode(value, schema) {
        Ok(bytes) => bytes,
        Err(error) => {
            diagnostics.extend(error);
            Vec::new()
        }
    };
    StateResult {
        state,
        private,
        diagnostics,
    }
}
