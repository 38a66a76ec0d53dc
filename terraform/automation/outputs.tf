output "user_arn" {
  description = "ARN of the central automation user."
  value       = aws_iam_user.automation.arn
}

output "site_role_arns" {
  description = "The roles the automation user may assume."
  value       = local.site_role_arns
}

# terraform -chdir=terraform/automation output -raw env_automation > .env.automation
output "env_automation" {
  description = "The lines of .env.automation: credentials of the automation user for the scheduled run."
  sensitive   = true
  value       = <<-EOT
    AWS_ACCESS_KEY_ID=${aws_iam_access_key.automation.id}
    AWS_SECRET_ACCESS_KEY=${aws_iam_access_key.automation.secret}
    AWS_REGION=${var.aws_region}
    PODLINE_AUTOMATION_USER_ARN=${aws_iam_user.automation.arn}
  EOT
}
