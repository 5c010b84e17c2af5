# Import a rotation policy by its name. The imported state holds the default
# rules; the next plan shows any difference to the configuration as an update.
terraform import sips_rotation_policy.standard standard
