import type { HclDocument } from './hcl';
import { SITES_MODULE_DIR } from './layout';

/** Where the search page's CloudFront distribution is declared. */
export const SEARCH_PAGE_TF = `${SITES_MODULE_DIR}/web.tf`;

export interface SearchPageProblem {
  message: string;
  fix: string;
}

type Block = Record<string, unknown>;
const blocks = (v: unknown): Block[] => (Array.isArray(v) ? (v as Block[]) : v && typeof v === 'object' ? [v as Block] : []);
const PUBLIC = ['/web/', '/audio/'];

/**
 * What the search page's CloudFront setup must keep true: only web/ and audio/ are reachable, nothing read by
 * range is compressed, range headers are exposed to other origins, and hashed files are cached as immutable
 * while index.html and site.json are not.
 */
export function checkSearchPageTf(doc: HclDocument): SearchPageProblem[] {
  const out: SearchPageProblem[] = [];
  const resource = (doc.resource ?? {}) as Record<string, Record<string, unknown>>;
  const locals = blocks(doc.locals).reduce<Block>((a, b) => ({ ...a, ...b }), {});
  const prefixes = (locals.web_public_prefixes as string[] | undefined) ?? [];
  if (!prefixes.length || prefixes.some((p) => !/^\$\{var\.bucket_prefix\}(web|audio)\/$/.test(p))) {
    out.push({ message: `local.web_public_prefixes is ${JSON.stringify(prefixes)}: CloudFront would read more of the bucket than the page and the audio`, fix: 'keep it to ["${var.bucket_prefix}web/", "${var.bucket_prefix}audio/"]' });
  }
  const dist = blocks(resource.aws_cloudfront_distribution?.web)[0];
  if (!dist) return [...out, { message: 'declares no aws_cloudfront_distribution "web"', fix: 'restore web.tf from version control' }];
  const behaviors = blocks(dist.ordered_cache_behavior);
  for (const b of behaviors) {
    const pattern = String(b.path_pattern ?? '');
    if (!PUBLIC.some((p) => pattern.startsWith(p))) out.push({ message: `a cache behavior serves ${pattern}: only /web/ and /audio/ may be public`, fix: 'remove that ordered_cache_behavior' });
    if ((pattern.endsWith('.sqlite') || pattern.startsWith('/audio/')) && b.compress !== false) {
      out.push({ message: `${pattern} is compressed: range reads need the file's own byte offsets`, fix: `set compress = false in the ${pattern} behavior` });
    }
  }
  for (const needed of ['/web/index-*.sqlite', '/web/assets/*', '/web/*', '/audio/*']) {
    if (!behaviors.some((b) => b.path_pattern === needed)) out.push({ message: `has no cache behavior for ${needed}`, fix: `add an ordered_cache_behavior with path_pattern = "${needed}"` });
  }
  if (!blocks(blocks(dist.default_cache_behavior)[0]?.function_association).length) {
    out.push({ message: 'the default cache behavior has no routing function: any key of the bucket policy would be reachable', fix: 'associate aws_cloudfront_function.route (viewer-request) with default_cache_behavior' });
  }
  const policies = (resource.aws_cloudfront_response_headers_policy?.web ?? []) as Block[];
  const exposed = blocks(blocks(blocks(policies)[0]?.cors_config)[0]?.access_control_expose_headers)[0]?.items as string[] | undefined;
  for (const h of ['Accept-Ranges', 'Content-Range']) {
    if (!exposed?.includes(h)) out.push({ message: `CORS does not expose ${h}: a page on another origin could not read the index by range`, fix: `add "${h}" to access_control_expose_headers` });
  }
  const text = JSON.stringify(policies);
  if (!text.includes('immutable') || !/max-age=60\b/.test(text)) {
    out.push({ message: 'Cache-Control is not "immutable" for hashed files and short for index.html/site.json', fix: 'keep the immutable and short response headers policies' });
  }
  return out;
}
