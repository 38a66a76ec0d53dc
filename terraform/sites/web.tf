# The listeners' search page (written to <prefix>web/ by the index target) and the episodes' audio
# (<prefix>audio/), served from the private bucket through CloudFront. Nothing else in the bucket is
# reachable: CloudFront only routes web/ and audio/, and the bucket policy (bucket.tf) lets this
# distribution read only those two prefixes.
#
# Range requests: CloudFront passes Range to S3 and caches the ranges; nothing the page reads by range is
# compressed (a compressed response has no byte offsets of the file).
# Compression: the page's script is stored brotli-compressed (web/assets/*.br, with
# Content-Encoding: br on the object), so CloudFront passes them on as stored; index.html and site.json are
# compressed by CloudFront (gzip or brotli, as the browser accepts); the index and the audio never are. CORS: any origin may read, with
# Accept-Ranges and Content-Range exposed, so a page on another host can still open the index.
# Caching: content-hashed files (web/assets/*, web/index-<hash>.sqlite) are immutable for a year;
# web/index.html and web/site.json (which names the current hashed files) are revalidated after a minute.

locals {
  web_count = var.search_page ? 1 : 0
  # The bucket keys of the page and of the audio, under the site's prefix.
  web_public_prefixes = ["${var.bucket_prefix}web/", "${var.bucket_prefix}audio/"]
  origin_id           = "site-bucket"
}

resource "aws_cloudfront_origin_access_control" "site" {
  count                             = local.web_count
  name                              = "podline-${var.site_id}"
  description                       = "Podline search page of ${var.site_id}: reads web/ and audio/ of the site bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# "/" goes to the page; "/web/" is web/index.html (S3's REST endpoint has no index documents);
# any other path is not public.
resource "aws_cloudfront_function" "route" {
  count   = local.web_count
  name    = "podline-${var.site_id}-route"
  runtime = "cloudfront-js-2.0"
  comment = "Podline: page routing, nothing outside web/ and audio/"
  publish = true
  code    = <<-JS
    function handler(event) {
      var uri = event.request.uri;
      if (uri === "/" || uri === "/web") {
        return { statusCode: 302, statusDescription: "Found", headers: { location: { value: "/web/" } } };
      }
      if (uri.indexOf("/web/") !== 0 && uri.indexOf("/audio/") !== 0) {
        return { statusCode: 404, statusDescription: "Not Found" };
      }
      if (uri.charAt(uri.length - 1) === "/") event.request.uri = uri + "index.html";
      return event.request;
    }
  JS
}

# How long CloudFront keeps each kind of file (seconds): min, default, max.
locals {
  cache_ttls = {
    immutable = { min = 86400, default = 31536000, max = 31536000, compress = false, comment = "Content-hashed page files: a year" }
    short     = { min = 0, default = 60, max = 60, compress = true, comment = "web/index.html and web/site.json name the current index: a minute" }
    audio     = { min = 0, default = 3600, max = 86400, compress = false, comment = "Episode audio: an hour" }
  }
}

resource "aws_cloudfront_cache_policy" "web" {
  for_each    = var.search_page ? local.cache_ttls : {}
  name        = "podline-${var.site_id}-${each.key}"
  comment     = each.value.comment
  min_ttl     = each.value.min
  default_ttl = each.value.default
  max_ttl     = each.value.max

  # No cookies, headers or query strings in the key (Range is handled by CloudFront). Accept-Encoding only
  # where CloudFront compresses (index.html, site.json): precompressed assets are the same for everyone.
  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_gzip   = each.value.compress
    enable_accept_encoding_brotli = each.value.compress
    cookies_config {
      cookie_behavior = "none"
    }
    headers_config {
      header_behavior = "none"
    }
    query_strings_config {
      query_string_behavior = "none"
    }
  }
}

# CORS and Cache-Control as the browser sees them (the bucket's objects carry no Cache-Control).
resource "aws_cloudfront_response_headers_policy" "web" {
  for_each = var.search_page ? {
    immutable = "public, max-age=31536000, immutable"
    short     = "public, max-age=60, must-revalidate"
    audio     = "public, max-age=3600"
  } : {}
  name    = "podline-${var.site_id}-${each.key}"
  comment = "Podline search page: CORS for range reads, Cache-Control ${each.value}"

  cors_config {
    access_control_allow_credentials = false
    access_control_max_age_sec       = 86400
    origin_override                  = true

    access_control_allow_headers {
      items = ["Range"]
    }
    access_control_allow_methods {
      items = ["GET", "HEAD", "OPTIONS"]
    }
    access_control_allow_origins {
      items = ["*"]
    }
    access_control_expose_headers {
      items = ["Accept-Ranges", "Content-Range", "Content-Length", "ETag"]
    }
  }

  custom_headers_config {
    items {
      header   = "Cache-Control"
      value    = each.value
      override = true
    }
  }

  security_headers_config {
    content_type_options {
      override = true
    }
    referrer_policy {
      referrer_policy = "same-origin"
      override        = true
    }
  }
}

resource "aws_cloudfront_distribution" "web" {
  count           = local.web_count
  enabled         = true
  is_ipv6_enabled = true
  comment         = "Podline search page of ${var.site_id}"
  price_class     = var.search_page_price_class
  http_version    = "http2and3"

  origin {
    origin_id                = local.origin_id
    domain_name              = aws_s3_bucket.site.bucket_regional_domain_name
    origin_path              = var.bucket_prefix == "" ? "" : "/${trimsuffix(var.bucket_prefix, "/")}"
    origin_access_control_id = aws_cloudfront_origin_access_control.site[0].id
  }

  # Content-hashed assets (the script; pages of format 1 also had a worker and a wasm): stored brotli-compressed (Content-Encoding: br), immutable.
  ordered_cache_behavior {
    path_pattern               = "/web/assets/*"
    target_origin_id           = local.origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = false
    cache_policy_id            = aws_cloudfront_cache_policy.web["immutable"].id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.web["immutable"].id
  }

  # The web index, read by range: never compressed, immutable (its name is its content hash).
  ordered_cache_behavior {
    path_pattern               = "/web/index-*.sqlite"
    target_origin_id           = local.origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = false
    cache_policy_id            = aws_cloudfront_cache_policy.web["immutable"].id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.web["immutable"].id
  }

  # index.html and site.json.
  ordered_cache_behavior {
    path_pattern               = "/web/*"
    target_origin_id           = local.origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = aws_cloudfront_cache_policy.web["short"].id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.web["short"].id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.route[0].arn
    }
  }

  # The bucket's copy of each episode (the file that was transcribed), streamed by range.
  ordered_cache_behavior {
    path_pattern               = "/audio/*"
    target_origin_id           = local.origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = false
    cache_policy_id            = aws_cloudfront_cache_policy.web["audio"].id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.web["audio"].id
  }

  # Everything else: the routing function answers (a redirect for "/", 404 otherwise).
  default_cache_behavior {
    target_origin_id       = local.origin_id
    viewer_protocol_policy = "redirect-to-https"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    compress               = false
    cache_policy_id        = aws_cloudfront_cache_policy.web["short"].id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.route[0].arn
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = true
  }
}
