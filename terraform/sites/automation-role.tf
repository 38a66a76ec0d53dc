# The role the central automation user assumes in this account. Created by exactly one site per
# account (create_automation_role = true); every site adds its own policy to it, by name.

data "aws_iam_policy_document" "automation_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    # Trust the central account, but only for the automation user itself. A condition on
    # aws:PrincipalArn (rather than the user's ARN as principal) lets sites be applied before
    # the user exists.
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${var.central_account_id}:root"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:PrincipalArn"
      values   = ["arn:aws:iam::${var.central_account_id}:user/${var.automation_user_name}"]
    }
  }
}

resource "aws_iam_role" "automation" {
  count = var.create_automation_role ? 1 : 0

  name                 = var.automation_role_name
  description          = "Assumed by the central Podline automation user to feed this account's sites."
  assume_role_policy   = data.aws_iam_policy_document.automation_trust.json
  max_session_duration = 3600
}

# Sites that do not create the role read it: planning fails clearly until the creating site is applied.
data "aws_iam_role" "automation" {
  count = var.create_automation_role ? 0 : 1

  name = var.automation_role_name
}

locals {
  automation_role_name = var.create_automation_role ? aws_iam_role.automation[0].name : data.aws_iam_role.automation[0].name
  automation_role_arn  = var.create_automation_role ? aws_iam_role.automation[0].arn : data.aws_iam_role.automation[0].arn
}

# Exactly what the pipeline needs for this site, and nothing else: the site's objects, and its index.
data "aws_iam_policy_document" "automation_site" {
  source_policy_documents = [data.aws_iam_policy_document.site_objects.json]

  statement {
    sid       = "InvokeSiteIndex"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.index.arn]
  }
}

resource "aws_iam_role_policy" "automation_site" {
  name   = "podline-site-${var.site_id}"
  role   = local.automation_role_name
  policy = data.aws_iam_policy_document.automation_site.json
}
