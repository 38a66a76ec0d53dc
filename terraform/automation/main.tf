resource "aws_iam_user" "automation" {
  name = var.user_name
}

resource "aws_iam_access_key" "automation" {
  user = aws_iam_user.automation.name
}

locals {
  # Several sites in one account share one role: list each role once.
  site_role_arns = sort(distinct([
    for site in values(var.sites) : "arn:aws:iam::${site.account_id}:role/${site.role_name}"
  ]))
}

# The user may do one thing: assume the automation roles of the listed sites.
data "aws_iam_policy_document" "assume_site_roles" {
  count = length(local.site_role_arns) > 0 ? 1 : 0

  statement {
    sid       = "AssumeSiteAutomationRoles"
    actions   = ["sts:AssumeRole"]
    resources = local.site_role_arns
  }
}

resource "aws_iam_user_policy" "assume_site_roles" {
  count = length(local.site_role_arns) > 0 ? 1 : 0

  name   = "podline-assume-site-roles"
  user   = aws_iam_user.automation.name
  policy = data.aws_iam_policy_document.assume_site_roles[0].json
}
