# Every value here is generated into sites.auto.tfvars from the site configs and
# terraform/sites/central.auto.tfvars by `npx nx run tools:automation-sites`: do not edit by hand.

variable "central_account_id" {
  description = "AWS account holding the automation user (central_account_id in terraform/sites/central.auto.tfvars)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.central_account_id))
    error_message = "central_account_id must be a 12-digit AWS account id."
  }
}

variable "aws_region" {
  description = "Region for the AWS provider (IAM itself is global); also written as AWS_REGION into .env.automation."
  type        = string
  default     = "us-east-1"
}

variable "user_name" {
  description = "Name of the central automation IAM user (automation_user_name in terraform/sites/central.auto.tfvars)."
  type        = string
  default     = "podline-automation"
}

variable "sites" {
  description = "Active sites the automation may reach, by site id: the account and role name to assume."
  type = map(object({
    account_id = string
    role_name  = string
    region     = string
  }))
  default = {}
}
