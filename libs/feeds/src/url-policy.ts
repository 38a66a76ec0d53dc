import * as dns from 'node:dns';
import { realpathSync } from 'node:fs';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PodlineError, type SiteConfig } from '@podline/config';

/**
 * What a URL taken from an untrusted source may reach. Feeds, publisher hosts and the bucket's contents are
 * untrusted (only the operator's site config is trusted), so every URL they hand us — enclosures, transcript
 * links, redirect targets — goes through this one policy:
 *
 * - http(s) only; `file:` only from a feed the operator's config itself names as `file:`, and then only for
 *   files inside that feed's folder (symlinks resolved first);
 * - no host that resolves to a loopback, private, link-local or otherwise non-public address, unless the
 *   site config says `"network": {"allowPrivateAddresses": true}`. The check is made on the address the
 *   connection really uses (at DNS lookup), so a name that resolves differently the second time gains nothing.
 */
export interface UrlPolicy {
  /** The site config's `network.allowPrivateAddresses`. */
  allowPrivateAddresses: boolean;
  /** The folder `file:` links may point into; undefined: no `file:` at all. */
  localRoot?: string;
}

/** The policy for URLs found in one podcast's feed (or in the bucket's records of its episodes). */
export function untrustedUrlPolicy(site: Pick<SiteConfig, 'network'>, feedUrl: string): UrlPolicy {
  let localRoot: string | undefined;
  if (feedUrl.startsWith('file:')) {
    try {
      localRoot = path.dirname(fileURLToPath(feedUrl));
    } catch {
      localRoot = undefined;
    }
  }
  return { allowPrivateAddresses: !!site.network?.allowPrivateAddresses, localRoot };
}

/** How to allow private addresses, for messages. */
export const ALLOW_PRIVATE_FIX = 'if this host is really yours (a feed inside your own network), set "network": {"allowPrivateAddresses": true} in site.config.json';

/** A URL refused by the policy. Never retried. */
export class RefusedUrlError extends PodlineError {
  constructor(
    message: string,
    readonly url: string,
    fix: string,
  ) {
    super(message, { fix });
  }
  get retryable(): boolean {
    return false;
  }
}

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata services)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (private)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // old site-local
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, bits, 'ipv6');
}

/** The IPv4 address inside an IPv4-mapped/compatible or NAT64 IPv6 address (`::ffff:127.0.0.1`), if any. */
function embeddedIpv4(ip: string): string | undefined {
  const m = /^(?:::ffff:(?:0:)?|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (m) return m[1];
  const hex = /^(?:::ffff:(?:0:)?|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (!hex) return undefined;
  const hi = parseInt(hex[1], 16);
  const lo = parseInt(hex[2], 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** True for loopback, private, link-local, multicast, reserved and other addresses that are not the public internet. */
export function isNonPublicAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(ip);
  if (family === 4) return blocked.check(ip, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(ip);
    if (v4) return blocked.check(v4, 'ipv4');
    return blocked.check(ip, 'ipv6');
  }
  return true; // not an address at all: refuse rather than guess
}

function privateRefusal(url: string, host: string, address: string): RefusedUrlError {
  const shown = host === address ? host : `${host} (${address})`;
  return new RefusedUrlError(`${url} points at ${shown}, a loopback, private or link-local address; refused`, url, ALLOW_PRIVATE_FIX);
}

/**
 * Check a URL before it is fetched: its scheme, its file path, and a host written as an IP address (names are
 * checked when they resolve: see `policyLookup`). Throws RefusedUrlError.
 */
export function checkUntrustedUrl(url: URL, policy: UrlPolicy, redirected = false): void {
  if (url.protocol === 'file:') {
    if (redirected) throw new RefusedUrlError(`a redirect to the local file ${url.href}; refused`, url.href, 'a server may not point Podline at this machine\'s files: tell the publisher');
    if (!policy.localRoot) {
      throw new RefusedUrlError(`${url.href} points at a local file; refused for a URL from a feed served over the network or from the bucket`, url.href, 'only a feed your site config names as file: may link local files: tell the publisher');
    }
    let file: string;
    try {
      file = realpathSync(fileURLToPath(url));
    } catch {
      file = path.resolve(fileURLToPath(url));
    }
    let root: string;
    try {
      root = realpathSync(policy.localRoot);
    } catch {
      root = path.resolve(policy.localRoot);
    }
    const rel = path.relative(root, file);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new RefusedUrlError(`${url.href} is outside the feed's folder ${policy.localRoot}; refused`, url.href, 'a local feed may link only files in its own folder: move the file there');
    }
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RefusedUrlError(`${url.href} uses ${url.protocol}, which Podline does not fetch from feeds or the bucket`, url.href, 'only http(s) URLs are fetched: tell the publisher');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!policy.allowPrivateAddresses && isIP(host) && isNonPublicAddress(host)) throw privateRefusal(url.href, host, host);
}

/**
 * A DNS lookup for http(s) requests that refuses non-public addresses (unless allowed), so the address checked
 * is the address connected to. Handles both the single-address and the `all: true` (happy eyeballs) forms.
 */
export function policyLookup(policy: UrlPolicy, url: string): LookupFunction | undefined {
  if (policy.allowPrivateAddresses) return undefined;
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    dns.lookup(hostname, options, (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => {
      if (err) return callback(err);
      const all = Array.isArray(address) ? address : [{ address, family: family ?? isIP(address) }];
      const bad = all.find((a) => isNonPublicAddress(a.address));
      if (bad) return callback(privateRefusal(url, hostname, bad.address));
      callback(null, address, family);
    });
  }) as unknown as LookupFunction;
}
