/**
 * Nodes put aside after a connection failure, each until a deadline: calls skip them meanwhile, and they
 * come back by themselves (a restarted node, a blip in the network) without anyone clearing them.
 */
export class Blacklist {
  /** key → epoch ms until which the node is put aside. */
  private readonly until = new Map<string, number>();

  constructor(private readonly ttl: number) {}

  add(key: string): void {
    this.until.set(key, Date.now() + this.ttl);
  }

  delete(key: string): void {
    this.until.delete(key);
  }

  has(key: string): boolean {
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.until.delete(key);
    return false;
  }

  /** Forget every key that starts with `prefix`. */
  deletePrefix(prefix: string): void {
    for (const key of this.until.keys()) if (key.startsWith(prefix)) this.until.delete(key);
  }

  clear(): void {
    this.until.clear();
  }
}
