# The central automation identity, applied once (after the sites) with its own backend config:
#   terraform -chdir=terraform/automation init -backend-config=automation.tfbackend
#   terraform -chdir=terraform/automation plan
# sites.auto.tfvars is loaded automatically; regenerate it with `npx nx run tools:automation-sites`.
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }

  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  # The user must live in the account every site's automation role trusts.
  allowed_account_ids = [var.central_account_id]

  default_tags {
    tags = {
      "podline:component" = "automation"
      "managed-by"        = "terraform"
    }
  }
}
