//! Protocol 5 (tfplugin5), spoken by Terraform 0.12 and later and OpenTofu.
//!
//! PrepareProviderConfig's `prepared_config` stays empty: Terraform 0.15 and
//! later ignore it.

super::service::provider_service! {
    package: tfplugin5,
    service: ProviderV5,
    get_schema: get_schema,
    validate_provider: prepare_provider_config / prepare_provider_config,
    configure: configure / configure,
    stop: stop / stop,
    validate_resource: validate_resource_type_config / validate_resource_type_config,
    validate_data: validate_data_source_config / validate_data_source_config,
}
