/** CIDR allow-lists (`--legacy allow-from 10.0.0.0/8,192.168.1.7`) on node:net's BlockList. */
import net from 'node:net';

export class AddressList {
  private readonly list = new net.BlockList();

  constructor(readonly ranges: readonly string[]) {
    for (const range of ranges) {
      const [address, prefixText] = range.split('/');
      const family = net.isIP(address);
      if (family === 0) throw new Error(`"${range}" is not an IP address or CIDR range`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      const prefix = prefixText === undefined ? (family === 4 ? 32 : 128) : Number(prefixText);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128) || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
        throw new Error(`"${range}" has a bad prefix length`);
      }
      this.list.addSubnet(address, prefix, type);
    }
  }

  static parse(text: string): AddressList {
    const ranges = text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (ranges.length === 0) throw new Error('expected a comma-separated list of CIDR ranges');
    return new AddressList(ranges);
  }

  has(address: string | undefined): boolean {
    if (!address) return false;
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    const plain = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
    const family = net.isIP(plain);
    return family !== 0 && this.list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }
}
