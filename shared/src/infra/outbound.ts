// Where coffre may connect: sources, S3 endpoints, webhooks, Slack, Discord and SMTP servers are
// typed in by people, and coffre runs next to cloud metadata services that hand out credentials to
// whoever asks from the machine. Link-local addresses (169.254.0.0/16, fe80::/10) and the metadata
// addresses and names of the clouds are refused, in every spelling; loopback and private ranges stay
// allowed (coffre backs up the PostgreSQL next to it). Checked when a setting is saved (a sentence
// naming the field), and again when connecting, after DNS: a name that resolves there is refused too.
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { lookup as lookupAll } from 'node:dns/promises';
import { BlockList, isIP, isIPv6 } from 'node:net';
import { PermanentError, ValidationError } from './errors.js';

const linkLocal = new BlockList();
linkLocal.addSubnet('169.254.0.0', 16, 'ipv4');
linkLocal.addSubnet('fe80::', 10, 'ipv6');
// IPv4-compatible, NAT64 and 6to4 spellings of 169.254.0.0/16 (IPv4-mapped ones BlockList matches itself).
linkLocal.addSubnet('::a9fe:0', 112, 'ipv6');
linkLocal.addSubnet('64:ff9b::a9fe:0', 112, 'ipv6');
linkLocal.addSubnet('2002:a9fe::', 32, 'ipv6');

const metadataAddresses = new BlockList();
// Alibaba Cloud; AWS's IPv6 instance metadata service.
metadataAddresses.addAddress('100.100.100.200', 'ipv4');
metadataAddresses.addAddress('64:ff9b::6464:64c8', 'ipv6');
metadataAddresses.addAddress('fd00:ec2::254', 'ipv6');

const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.com',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
  'metadata.platformequinix.com',
  'metadata.packet.net',
]);

/** Why coffre must not connect to an address, or null when it may. */
export function forbiddenAddressReason(address: string): string | null {
  const plain = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(plain);
  if (family === 0) return null;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (linkLocal.check(plain, type)) return 'a link-local address, where cloud metadata services answer';
  if (metadataAddresses.check(plain, type)) return 'the address of a cloud metadata service';
  return null;
}

/** Why coffre must not connect to a host as it is written (a name or any spelling of an address), or null. */
export function forbiddenHostReason(host: string): string | null {
  const name = host.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/\.+$/, '');
  if (METADATA_NAMES.has(name)) return 'the name of a cloud metadata service';
  return forbiddenAddressReason(numericIPv4(name) ?? name);
}

/** At save time: throws a 400 naming the field when the host may not be connected to. */
export function checkOutboundHost(host: string, field: string): void {
  const reason = forbiddenHostReason(host);
  if (!reason) return;
  // The detail names the field, so that a form shows the refusal under it.
  const refusal = `${host} is ${reason}; coffre never connects there`;
  throw new ValidationError(`${field}: ${refusal}.`, [{ path: field, message: refusal }]);
}

/** At save time, for an http(s) URL: its host. A URL that does not parse is left to the field's own rule. */
export function checkOutboundUrl(url: string, field: string): void {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return;
  }
  checkOutboundHost(host, field);
}

/** Thrown when connecting: the host is, or resolves to, an address coffre never connects to. */
export class OutboundRefusedError extends PermanentError {
  constructor(host: string, address: string | null, reason: string) {
    super(`coffre refused to connect to ${host}: ${address && address !== host ? `it resolves to ${address}, ` : 'it is '}${reason}.`, 'outbound_refused');
    this.name = 'OutboundRefusedError';
  }
}

/**
 * At connect time: the addresses of a host, every one of them allowed (a host that resolves to a
 * forbidden address among others is refused whole). Socket directories (a path) are left alone.
 */
export async function resolveOutboundHost(host: string): Promise<LookupAddress[]> {
  if (host.startsWith('/')) return [];
  const reason = forbiddenHostReason(host);
  if (reason) throw new OutboundRefusedError(host, null, reason);
  const plain = host.replace(/^\[|\]$/g, '');
  const addresses = isIP(plain) ? [{ address: plain, family: isIPv6(plain) ? 6 : 4 }] : await lookupAll(plain, { all: true });
  refuseForbidden(host, addresses);
  return addresses;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for sockets (http.Agent, net.connect): the answer of DNS, refused when any address is
 * forbidden. It sees names only; callers check literal addresses with forbiddenHostReason.
 */
export function guardedLookup(hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    try {
      refuseForbidden(hostname, addresses);
    } catch (refused) {
      return callback(refused as NodeJS.ErrnoException, []);
    }
    if ((options as LookupAllOptions).all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
}

function refuseForbidden(host: string, addresses: LookupAddress[]): void {
  for (const { address } of addresses) {
    const reason = forbiddenAddressReason(address);
    if (reason) throw new OutboundRefusedError(host, address, reason);
  }
}

/**
 * An IPv4 address in any of the spellings inet_aton accepts (2852039166, 0xa9fea9fe, 0251.0376.0251.0376,
 * 169.254.43518), as dotted decimal; null for anything else. Resolvers accept them all.
 */
export function numericIPv4(host: string): string | null {
  const parts = host.split('.');
  if (parts.length > 4 || parts.some((p) => p === '')) return null;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length > 2 ? parseInt(part.slice(2), 16) : 0;
    else if (/^0[0-7]*$/.test(part)) value = parseInt(part, 8);
    else if (/^[1-9][0-9]*$/.test(part)) value = Number(part);
    else return null;
    values.push(value);
  }
  const last = values.pop()!;
  if (values.some((v) => v > 255) || last >= 256 ** (4 - values.length)) return null;
  let number = last;
  values.forEach((v, i) => (number += v * 256 ** (3 - i)));
  return [24, 16, 8, 0].map((shift) => Math.floor(number / 2 ** shift) % 256).join('.');
}
