# A credential is imported by its secret's name or ARN. The secret must carry
# the sips:environment tag, and the provider configuration must allow that
# environment.
terraform import sips_credential.staging sips/staging/partner-1234
