//! The `Provider` gRPC service, written once for both protocol versions.
//!
//! tfplugin5 and tfplugin6 differ only in the names of six RPCs and their
//! messages, so a macro stamps out the service for each generated package.
//! Each RPC decodes its request, calls the framework, and encodes the response;
//! no provider logic lives here.

macro_rules! provider_service {
    (
        package: $pb:ident,
        service: $service:ident,
        get_schema: $get_schema:ident,
        validate_provider: $validate_provider_rpc:ident / $validate_provider:ident,
        configure: $configure_rpc:ident / $configure:ident,
        stop: $stop_rpc:ident / $stop:ident,
        validate_resource: $validate_resource_rpc:ident / $validate_resource:ident,
        validate_data: $validate_data_rpc:ident / $validate_data:ident $(,)?
    ) => {
        use std::sync::Arc;

        use tonic::{Request, Response, Status};
        use tracing::Instrument;

        use $crate::framework::{Provider, ProviderServer};
        use $crate::protocol::convert::$pb::*;
        use $crate::protocol::generated::$pb::{self as pb, provider_server};

        type Answer<T> = Result<Response<T>, Status>;

        /// The `Provider` service of this protocol version over a framework server.
        pub struct $service<P: Provider> {
            server: Arc<ProviderServer<P>>,
        }

        impl<P: Provider> $service<P> {
            pub fn new(server: Arc<ProviderServer<P>>) -> Self {
                Self { server }
            }

            pub fn into_service(self) -> provider_server::ProviderServer<Self> {
                provider_server::ProviderServer::new(self)
                    .max_decoding_message_size($crate::protocol::MAX_MESSAGE_BYTES)
                    .max_encoding_message_size($crate::protocol::MAX_MESSAGE_BYTES)
            }
        }

        #[tonic::async_trait]
        impl<P: Provider> provider_server::Provider for $service<P> {
            async fn get_metadata(
                &self,
                _request: Request<pb::get_metadata::Request>,
            ) -> Answer<pb::get_metadata::Response> {
                let schemas = self.server.schemas();
                Ok(Response::new(pb::get_metadata::Response {
                    server_capabilities: Some(server_capabilities()),
                    resources: schemas
                        .resources
                        .keys()
                        .map(|name| pb::get_metadata::ResourceMetadata {
                            type_name: name.clone(),
                        })
                        .collect(),
                    data_sources: schemas
                        .data_sources
                        .keys()
                        .map(|name| pb::get_metadata::DataSourceMetadata {
                            type_name: name.clone(),
                        })
                        .collect(),
                    ..Default::default()
                }))
            }

            async fn $get_schema(
                &self,
                _request: Request<pb::get_provider_schema::Request>,
            ) -> Answer<pb::get_provider_schema::Response> {
                let span = $crate::protocol::rpc_span(stringify!($get_schema), "");
                let _entered = span.enter();
                let schemas = self.server.schemas();
                Ok(Response::new(pb::get_provider_schema::Response {
                    provider: Some(schema_out(&schemas.provider)),
                    resource_schemas: schemas
                        .resources
                        .iter()
                        .map(|(n, s)| (n.clone(), schema_out(s)))
                        .collect(),
                    data_source_schemas: schemas
                        .data_sources
                        .iter()
                        .map(|(n, s)| (n.clone(), schema_out(s)))
                        .collect(),
                    server_capabilities: Some(server_capabilities()),
                    ephemeral_resource_schemas: schemas
                        .ephemeral_resources
                        .iter()
                        .map(|(n, s)| (n.clone(), schema_out(s)))
                        .collect(),
                    ..Default::default()
                }))
            }

            async fn get_resource_identity_schemas(
                &self,
                _request: Request<pb::get_resource_identity_schemas::Request>,
            ) -> Answer<pb::get_resource_identity_schemas::Response> {
                Ok(Response::new(Default::default()))
            }

            async fn $validate_provider_rpc(
                &self,
                request: Request<pb::$validate_provider::Request>,
            ) -> Answer<pb::$validate_provider::Response> {
                let request = request.into_inner();
                let config = dynamic_in(request.config);
                let diagnostics = self
                    .server
                    .validate_provider_config(&config, Default::default())
                    .instrument($crate::protocol::rpc_span(
                        stringify!($validate_provider_rpc),
                        "",
                    ))
                    .await;
                Ok(Response::new(pb::$validate_provider::Response {
                    diagnostics: diagnostics_out(diagnostics),
                    ..Default::default()
                }))
            }

            async fn $configure_rpc(
                &self,
                request: Request<pb::$configure::Request>,
            ) -> Answer<pb::$configure::Response> {
                let request = request.into_inner();
                let config = dynamic_in(request.config);
                let client = client_in(request.client_capabilities);
                let diagnostics = self
                    .server
                    .configure(&config, request.terraform_version, client)
                    .instrument($crate::protocol::rpc_span(stringify!($configure_rpc), ""))
                    .await;
                Ok(Response::new(pb::$configure::Response {
                    diagnostics: diagnostics_out(diagnostics),
                }))
            }

            async fn $stop_rpc(
                &self,
                _request: Request<pb::$stop::Request>,
            ) -> Answer<pb::$stop::Response> {
                let _entered = $crate::protocol::rpc_span(stringify!($stop_rpc), "").entered();
                tracing::info!("stopping in-flight operations at Terraform's request");
                self.server.stop();
                Ok(Response::new(pb::$stop::Response {
                    error: String::new(),
                }))
            }

            async fn $validate_resource_rpc(
                &self,
                request: Request<pb::$validate_resource::Request>,
            ) -> Answer<pb::$validate_resource::Response> {
                let request = request.into_inner();
                let span = $crate::protocol::rpc_span(
                    stringify!($validate_resource_rpc),
                    &request.type_name,
                );
                let config = dynamic_in(request.config);
                let client = client_in(request.client_capabilities);
                let diagnostics = self
                    .server
                    .validate_resource_config(&request.type_name, &config, client)
                    .instrument(span)
                    .await;
                Ok(Response::new(pb::$validate_resource::Response {
                    diagnostics: diagnostics_out(diagnostics),
                }))
            }

            async fn upgrade_resource_state(
                &self,
                request: Request<pb::upgrade_resource_state::Request>,
            ) -> Answer<pb::upgrade_resource_state::Response> {
                let request = request.into_inner();
                let _entered =
                    $crate::protocol::rpc_span("upgrade_resource_state", &request.type_name)
                        .entered();
                let raw = raw_state_in(request.raw_state);
                let result =
                    self.server
                        .upgrade_resource_state(&request.type_name, request.version, &raw);
                Ok(Response::new(pb::upgrade_resource_state::Response {
                    upgraded_state: dynamic_out(result.state),
                    diagnostics: diagnostics_out(result.diagnostics),
                }))
            }

            async fn read_resource(
                &self,
                request: Request<pb::read_resource::Request>,
            ) -> Answer<pb::read_resource::Response> {
                let request = request.into_inner();
                let span = $crate::protocol::rpc_span("read_resource", &request.type_name);
                let state = dynamic_in(request.current_state);
                let client = client_in(request.client_capabilities);
                let result = self
                    .server
                    .read_resource(&request.type_name, &state, &request.private, client)
                    .instrument(span)
                    .await;
                Ok(Response::new(pb::read_resource::Response {
                    new_state: dynamic_out(result.state),
                    diagnostics: diagnostics_out(result.diagnostics),
                    private: result.private,
                    ..Default::default()
                }))
            }

            async fn plan_resource_change(
                &self,
                request: Request<pb::plan_resource_change::Request>,
            ) -> Answer<pb::plan_resource_change::Response> {
                let request = request.into_inner();
                let span = $crate::protocol::rpc_span("plan_resource_change", &request.type_name);
                let result = self
                    .server
                    .plan_resource_change(
                        &request.type_name,
                        &dynamic_in(request.prior_state),
                        &dynamic_in(request.proposed_new_state),
                        &dynamic_in(request.config),
                        &request.prior_private,
                        client_in(request.client_capabilities),
                    )
                    .instrument(span)
                    .await;
                Ok(Response::new(pb::plan_resource_change::Response {
                    planned_state: dynamic_out(result.planned_state),
                    requires_replace: result.requires_replace.iter().map(path_out).collect(),
                    planned_private: result.planned_private,
                    diagnostics: diagnostics_out(result.diagnostics),
                    ..Default::default()
                }))
            }

            async fn apply_resource_change(
                &self,
                request: Request<pb::apply_resource_change::Request>,
            ) -> Answer<pb::apply_resource_change::Response> {
                let request = request.into_inner();
                let span = $crate::protocol::rpc_span("apply_resource_change", &request.type_name);
                let result = self
                    .server
                    .apply_resource_change(
                        &request.type_name,
                        &dynamic_in(request.prior_state),
                        &dynamic_in(request.planned_state),
                        &dynamic_in(request.config),
                        &request.planned_private,
                        Default::default(),
                    )
                    .instrument(span)
                    .await;
                Ok(Response::new(pb::apply_resource_change::Response {
                    new_state: dynamic_out(result.state),
                    private: result.private,
                    diagnostics: diagnostics_out(result.diagnostics),
                    ..Default::default()
                }))
            }

            async fn import_resource_state(
                &self,
                request: Request<pb::import_resource_state::Request>,
            ) -> Answer<pb::import_resource_state::Response> {
                let request = request.into_inner();
                let span = $crate::protocol::rpc_span("import_resource_state", &request.type_name);
                let client = client_in(request.client_capabilities);
                let (imported, diagnostics) = self
                    .server
                    .import_resource_state(&request.type_name, &request.id, client)
                    .instrument(span)
                    .await;
                Ok(Response::new(pb::import_resource_state::Response {
                    imported_resources: imported
                        .into_iter()
                        .map(|resource| pb::import_resource_state::ImportedResource {
                            type_name: resource.type_name,
                            state: dynamic_out(resource.state),
                            private: resource.private,
                            ..Default::default()
                        })
                        .collect(),
                    diagnostics: diagnostics_out(diagnostics),
                    ..Default::default()
                }))
            }

            async fn $validate_data_rpc(
                &self,
                request: Request<pb::$validate_data::Request>,
            ) -> Answer<pb::$validate_data::Response> {
                let request = request.into_inner();
                let span =
                    $crate::protocol::rpc_span(stringify!($validate_data_rpc), &request.type_name);
                let config = dynamic_in(request.config);
                let diagnostics = self
                    .server
                    .validate_data_source_config(&request.type_name, &config, Default::default())
                    .instrument(span)
                    .await;
                Ok(Response::new(pb::$validate_data::Response {
                    diagnostics: diagnostics_out(diagnostics),
                }))
            }

            async fn validate_ephemeral_resource_config(
                &self,
                request: Request<pb::validate_ephemeral_resource_config::Request>,
            ) -> Answer<pb::validate_ephemeral_resource_config::Response> {
                let request = request.into_inner();
                let span = $crate::protocol::rpc_span(
                    "validate_ephemeral_resource_config",
                    &request.type_name,
                );
                let config = dynamic_in(request.config);
                let diagnostics = self
                    .server
                    .validate_ephemeral_config(&request.type_name, &config)
                    .instrument(span)
                    .await;
                Ok(Response::new(
                    pb::validate_ephemeral_resource_config::Response {
                        diagnostics: diagnostics_out(diagnostics),
                    },
                ))
            }

            async fn open_ephemeral_resource(
                &self,
                request: Request<pb::open_ephemeral_resource::Request>,
            ) -> Answer<pb::open_ephemeral_resource::Response> {
                let request = request.into_inner();
                let span =
                    $crate::protocol::rpc_span("open_ephemeral_resource", &request.type_name);
                let config = dynamic_in(request.config);
                let client = client_in(request.client_capabilities);
                let result = self
                    .server
                    .open_ephemeral(&request.type_name, &config, client)
                    .instrument(span)
                    .await;
                Ok(Response::new(pb::open_ephemeral_resource::Response {
                    diagnostics: diagnostics_out(result.diagnostics),
                    result: dynamic_out(result.state),
                    private: Some(result.private),
                    ..Default::default()
                }))
            }

            async fn close_ephemeral_resource(
                &self,
                _request: Request<pb::close_ephemeral_resource::Request>,
            ) -> Answer<pb::close_ephemeral_resource::Response> {
                // Opening holds nothing open, so closing has nothing to release.
                Ok(Response::new(Default::default()))
            }

            async fn read_data_source(
                &self,
                request: Request<pb::read_data_source::Request>,
            ) -> Answer<pb::read_data_source::Response> {
                let request = request.into_inner();
                let span = $crate::protocol::rpc_span("read_data_source", &request.type_name);
                let config = dynamic_in(request.config);
                let client = client_in(request.client_capabilities);
                let result = self
                    .server
                    .read_data_source(&request.type_name, &config, client)
                    .instrument(span)
                    .await;
                Ok(Response::new(pb::read_data_source::Response {
                    state: dynamic_out(result.state),
                    diagnostics: diagnostics_out(result.diagnostics),
                    ..Default::default()
                }))
            }
        }

        /// Capabilities announced to the client: destroy plans reach the
        /// provider, so that a resource can object to a destroy at plan time.
        fn server_capabilities() -> pb::ServerCapabilities {
            pb::ServerCapabilities {
                plan_destroy: true,
                ..Default::default()
            }
        }
    };
}

pub(crate) use provider_service;
