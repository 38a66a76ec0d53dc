output "bucket_name" {
  description = "The site's S3 bucket."
  value       = aws_s3_bucket.site.id
}

output "index_function_name" {
  description = "The site's indexing Lambda."
  value       = aws_lambda_function.index.function_name
}

output "automation_role_arn" {
  description = "The role the central automation user assumes for this site."
  value       = local.automation_role_arn
}

output "account_id" {
  description = "The AWS account the site was applied to."
  value       = data.aws_caller_identity.current.account_id
}

output "search_page_url" {
  description = "The listeners' search page (empty when search_page is false)."
  value       = var.search_page ? "https://${aws_cloudfront_distribution.web[0].domain_name}/web/" : ""
}
