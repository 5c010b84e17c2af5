# Reads the staging credential during the run only. Terraform and OpenTofu
# 1.10 and later never write ephemeral values to plan or state.
ephemeral "sips_credential_secret" "staging" {
  name = sips_credential.staging.aws_secrets_manager.name
}
