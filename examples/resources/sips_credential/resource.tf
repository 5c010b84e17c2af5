resource "sips_rotation_policy" "standard" {
  name = "standard"
}

# A staging credential. A CI step writes the secret to a file on a temporary
# file system before Terraform runs; the state keeps only the path and a
# salted fingerprint. With Terraform or OpenTofu 1.11 and later, set
# client_secret_wo instead, or use client_secret_env to name an environment
# variable.
resource "sips_credential" "staging" {
  environment        = "staging"
  client_id          = "partner-1234"
  client_secret_file = "/run/secrets/sips-staging-client-secret"
  rotation_policy    = sips_rotation_policy.standard.rules

  aws_secrets_manager {
    description = "SIPS staging credential of the payments integration"

    tags = {
      team = "payments"
    }
  }
}
