# Quick start: a rotation policy and one credential per environment, kept in
# AWS Secrets Manager. scripts/quickstart.sh runs it against a local emulator.

terraform {
  required_providers {
    sips = {
      source  = "srs/sips"
      version = "0.1.0"
    }
  }
}

variable "aws_endpoint" {
  description = "Secrets Manager endpoint; the quick start points it at a local emulator."
  type        = string
  default     = null
}

variable "staging_secret_file" {
  description = "File holding the staging client secret."
  type        = string
}

variable "production_secret_file" {
  description = "File holding the production client secret."
  type        = string
}

provider "sips" {
  environments = ["staging", "production"]

  aws {
    region                = "eu-west-1"
    endpoint              = var.aws_endpoint
    use_instance_metadata = false
  }
}

resource "sips_rotation_policy" "standard" {
  name              = "standard"
  rotate_after_days = 90
  max_age_days      = 180
  overlap_days      = 7
}

resource "sips_credential" "staging" {
  environment        = "staging"
  client_id          = "quickstart-staging"
  client_secret_file = var.staging_secret_file
  rotation_policy    = sips_rotation_policy.standard.rules

  aws_secrets_manager {
    description = "SIPS staging credential of the quick start"
  }
}

resource "sips_credential" "production" {
  environment        = "production"
  client_id          = "quickstart-production"
  client_secret_file = var.production_secret_file
  rotation_policy    = sips_rotation_policy.standard.rules

  aws_secrets_manager {
    description = "SIPS production credential of the quick start"
  }
}

output "staging" {
  description = "Public facts of the staging credential."
  value = {
    client_id  = sips_credential.staging.client_id
    secret     = sips_credential.staging.aws_secrets_manager[0].name
    version_id = sips_credential.staging.version_id
    rotate_by  = sips_credential.staging.rotate_by
    expires_at = sips_credential.staging.expires_at
  }
}

output "production" {
  description = "Public facts of the production credential."
  value = {
    client_id  = sips_credential.production.client_id
    secret     = sips_credential.production.aws_secrets_manager[0].name
    version_id = sips_credential.production.version_id
    rotate_by  = sips_credential.production.rotate_by
    expires_at = sips_credential.production.expires_at
  }
}
