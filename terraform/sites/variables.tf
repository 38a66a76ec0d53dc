# Per-site values come from environments/<id>.tfvars (written by `nx g site`);
# the central automation identity from central.auto.tfvars (shared by every site).

variable "site_id" {
  description = "Site id, as in sites/<id>/site.config.json."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]+(-[a-z0-9]+)*$", var.site_id)) && length(var.site_id) <= 40
    error_message = "site_id must be lower-case letters, digits and single dashes (at most 40 characters)."
  }
}

variable "aws_region" {
  description = "AWS region of the site's bucket and indexing Lambda."
  type        = string
}

variable "automation_account_id" {
  description = "The site's AWS account: where its bucket, indexing Lambda and the automation role live (aws.accountId in the site config)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.automation_account_id))
    error_message = "automation_account_id must be a 12-digit AWS account id."
  }
}

variable "create_automation_role" {
  description = "Create the automation role in this account. True for exactly one site per account (the first); the others reference the role by name."
  type        = bool
}

variable "automation_role_name" {
  description = "Name of the role the central automation user assumes in this account (aws.automationRoleName in the site config)."
  type        = string
  default     = "podline-automation"
}

variable "bucket_name" {
  description = "The site's S3 bucket (storage.bucket in the site config)."
  type        = string
}

variable "bucket_prefix" {
  description = "Key prefix of the site's files inside the bucket (storage.prefix in the site config); the indexing Lambda gets it as PODLINE_PREFIX."
  type        = string
  default     = ""
}

variable "index_function_name" {
  description = "Name of the site's indexing Lambda (index.functionName in the site config)."
  type        = string
}

variable "central_account_id" {
  description = "AWS account holding the central automation user (terraform/automation)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.central_account_id))
    error_message = "central_account_id must be a 12-digit AWS account id."
  }
}

variable "automation_user_name" {
  description = "Name of the central automation IAM user: the only principal the automation role trusts."
  type        = string
  default     = "podline-automation"
}

variable "lambda_source_dir" {
  description = "Folder with the bundled indexing handler (index.js exporting `handler`, plus its node_modules). Empty: dist/search-index-lambda at the workspace root."
  type        = string
  default     = ""
}

variable "lambda_memory_mb" {
  description = "Memory of the indexing Lambda, in MB."
  type        = number
  default     = 1024
}

variable "lambda_timeout_seconds" {
  description = "Timeout of the indexing Lambda, in seconds."
  type        = number
  default     = 300
}

variable "log_retention_days" {
  description = "How long the indexing Lambda's logs are kept."
  type        = number
  default     = 30
}

variable "search_page" {
  description = "Serve the site's search page (web/) and audio (audio/) through CloudFront (web.tf). Nothing else in the bucket becomes reachable."
  type        = bool
  default     = true
}

variable "search_page_price_class" {
  description = "CloudFront price class of the search page's distribution."
  type        = string
  default     = "PriceClass_100"
}
