/** Small argument coercions shared by the subcommands. */
export function parseSize(text: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/i.exec(text.trim());
  if (!m) throw new Error(`expected WIDTHxHEIGHT (e.g. 768x576), got "${text}"`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

export function parseHostPort(text: string, defaultPort = 7878): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`expected HOST[:PORT], got "${text}"`);
  return { host: m[1] ?? m[2], port: m[3] ? Number(m[3]) : defaultPort };
}
