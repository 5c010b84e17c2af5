terraform {
  required_providers {
    sips = {
      source  = "srs/sips"
      version = "~> 0.1"
    }
  }
}

# The provider of a staging pipeline: it may manage staging credentials only,
# so a mistake in this configuration cannot reach production.
provider "sips" {
  environments = ["staging"]
  name_prefix  = "sips"

  default_tags = {
    team = "integrations"
  }

  audit_log_path = "/var/log/sips/audit.jsonl"

  aws {
    region = "eu-west-1"

    assume_role {
      role_arn     = "arn:aws:iam::123456789012:role/sips-staging-terraform"
      session_name = "sips-staging-ci"
    }
  }
}
