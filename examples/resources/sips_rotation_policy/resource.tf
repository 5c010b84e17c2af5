# SRS's rules: a rotation is due after 90 days and mandatory after 180.
resource "sips_rotation_policy" "standard" {
  name = "standard"
}

# A stricter policy: rotate monthly, expire after 90 days, keep the previous
# secret valid for 3 days while applications switch, and warn two weeks
# before the mandatory deadline.
resource "sips_rotation_policy" "strict" {
  name              = "strict"
  rotate_after_days = 30
  max_age_days      = 90
  overlap_days      = 3
  warn_before_days  = 14
  enforcement       = "error"
}
