# A rotation policy is imported by its name.
terraform import sips_rotation_policy.standard standard
