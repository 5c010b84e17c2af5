resource "sips_rotation_policy" "standard" {
  name = "standard"
}

# Lists the rotation status of every production credential and exposes
# whether all of them are within SRS's limits.
data "sips_compliance_report" "production" {
  environment     = "production"
  rotation_policy = sips_rotation_policy.standard.rules
}

output "production_compliant" {
  value = data.sips_compliance_report.production.compliant
}

output "production_status_counts" {
  value = data.sips_compliance_report.production.status_counts
}
