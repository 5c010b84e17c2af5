//! Protocol 6 (tfplugin6), spoken by Terraform 1.0 and later and OpenTofu.

super::service::provider_service! {
    package: tfplugin6,
    service: ProviderV6,
    get_schema: get_provider_schema,
    validate_provider: validate_provider_config / validate_provider_config,
    configure: configure_provider / configure_provider,
    stop: stop_provider / stop_provider,
    validate_resource: validate_resource_config / validate_resource_config,
    validate_data: validate_data_resource_config / validate_data_resource_config,
}
