# One root module per site, applied with the site's own var file and backend config:
#   terraform -chdir=terraform/sites init -reconfigure -backend-config=backends/<id>.tfbackend
#   terraform -chdir=terraform/sites plan -var-file=environments/<id>.tfvars
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.4"
    }
  }

  # Filled in per site by backends/<id>.tfbackend (bucket, key, region, use_lockfile).
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  # A site's var file names its account: refuse to touch any other one.
  allowed_account_ids = [var.automation_account_id]

  default_tags {
    tags = {
      "podline:site" = var.site_id
      "managed-by"   = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}
