# The site's indexing Lambda, packaged from libs/search-index's bundled handler.
# Its S3 access is limited to the site's bucket.

locals {
  lambda_source_dir = var.lambda_source_dir != "" ? var.lambda_source_dir : "${path.module}/../../dist/search-index-lambda"
}

data "archive_file" "index" {
  type        = "zip"
  source_dir  = local.lambda_source_dir
  output_path = "${path.module}/.build/${var.site_id}-index.zip"
}

data "aws_iam_policy_document" "lambda_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "index" {
  name               = "podline-index-exec-${var.site_id}"
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_iam_role_policy" "index_bucket" {
  name   = "podline-index-bucket-${var.site_id}"
  role   = aws_iam_role.index.id
  policy = data.aws_iam_policy_document.site_objects.json
}

resource "aws_iam_role_policy_attachment" "index_logs" {
  role       = aws_iam_role.index.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_cloudwatch_log_group" "index" {
  name              = "/aws/lambda/${var.index_function_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "index" {
  function_name    = var.index_function_name
  role             = aws_iam_role.index.arn
  runtime          = "nodejs20.x"
  handler          = "index.handler"
  architectures    = ["x86_64"]
  filename         = data.archive_file.index.output_path
  source_code_hash = data.archive_file.index.output_base64sha256
  memory_size      = var.lambda_memory_mb
  timeout          = var.lambda_timeout_seconds

  environment {
    variables = {
      PODLINE_SITE_ID = var.site_id
      PODLINE_BUCKET  = aws_s3_bucket.site.id
      PODLINE_PREFIX  = var.bucket_prefix
    }
  }

  depends_on = [
    aws_cloudwatch_log_group.index,
    aws_iam_role_policy.index_bucket,
    aws_iam_role_policy_attachment.index_logs,
  ]
}
