/**
 * Commands as services: every service registered under the bot namespace (`micro.bot.deploy`) that
 * implements `micro.bot.v1.Command` is the command `deploy`. The set follows the registry's watch, so a
 * command appears when its service starts and goes away when it stops; `Help` is asked once per service
 * version and kept until the service changes.
 */
import { logger } from "../../runtime/logger/index.js";
import type { Registry, Watcher } from "../../runtime/registry/index.js";
import { fromError } from "../../runtime/errors/index.js";
import { newCommandClient } from "../command/gen/micro/bot/v1/command.micro.js";
import type { Client } from "../../runtime/client/index.js";
import { codeBlock } from "../format.js";
import type { BotCommand, CommandContext } from "./command.js";

const log = logger("bot");

interface Known {
  service: string;
  help?: { usage: string; description: string };
}

export class ServiceCommands {
  private readonly known = new Map<string, Known>();
  private watcher: Watcher | undefined;
  private readonly prefix: string;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly client: Client,
    namespace: string,
    private readonly timeout: number,
  ) {
    this.prefix = `${namespace}.`;
  }

  /** The command a service name stands for, or undefined when it is outside the namespace. */
  commandName(service: string): string | undefined {
    if (!service.startsWith(this.prefix)) return undefined;
    const name = service.slice(this.prefix.length);
    return /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name) ? name.toLowerCase() : undefined;
  }

  /** Read what is registered now, then follow the watch. */
  async start(): Promise<void> {
    this.watcher = this.registry.watch();
    for (const s of await this.registry.listServices()) await this.refresh(s.name);
    this.loop = (async () => {
      try {
        for await (const event of this.watcher!) await this.refresh(event.service.name);
      } catch (error) {
        log.warn({ err: fromError(error).detail }, "bot: the registry watch ended; service commands no longer follow it");
      }
    })();
  }

  private async refresh(service: string): Promise<void> {
    const name = this.commandName(service);
    if (name === undefined) return;
    let live = false;
    try {
      live = (await this.registry.getService(service)).some((r) => r.nodes.length > 0);
    } catch (error) {
      log.warn({ service, err: fromError(error).detail }, "bot: cannot read a command service from the registry");
      return;
    }
    if (live) {
      if (!this.known.has(name)) log.info({ command: name, service }, "bot: command service appeared");
      this.known.set(name, { service }); // a change asks Help again
    } else if (this.known.delete(name)) log.info({ command: name, service }, "bot: command service went away");
  }

  async stop(): Promise<void> {
    this.watcher?.stop();
    await this.loop;
  }

  /** The service commands registered now. */
  async commands(): Promise<BotCommand[]> {
    const out: BotCommand[] = [];
    for (const [name, known] of [...this.known].sort(([a], [b]) => a.localeCompare(b))) {
      known.help ??= await this.help(known.service);
      out.push(this.command(name, known));
    }
    return out;
  }

  /** The command `name`, when a service provides it. */
  async find(name: string): Promise<BotCommand | undefined> {
    const known = this.known.get(name.toLowerCase());
    if (!known) return undefined;
    return this.command(name.toLowerCase(), known);
  }

  private async help(service: string): Promise<{ usage: string; description: string }> {
    try {
      const rsp = await newCommandClient(service, this.client).help({}, { timeout: this.timeout, retries: 0 });
      return { usage: rsp.usage, description: rsp.description };
    } catch (error) {
      return { usage: "", description: `(Help failed: ${fromError(error).detail})` };
    }
  }

  private command(name: string, known: Known): BotCommand {
    return {
      name,
      usage: known.help?.usage || name,
      description: known.help?.description ?? "",
      acting: true,
      source: known.service,
      run: async (message, context: CommandContext) => {
        const rsp = await newCommandClient(known.service, this.client).exec(
          { args: message.words.slice(1), user: context.user, channel: context.channel },
          { timeout: context.timeout },
        );
        if (rsp.error) return `:x: ${name}: ${rsp.error}`;
        return rsp.result.includes("\n") ? codeBlock(rsp.result) : rsp.result;
      },
    };
  }
}
