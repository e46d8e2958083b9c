/**
 * `micro new <name>`: scaffold a service or API project. The work is in src/scaffold/, loaded on use.
 */
import type { CommandModule } from "yargs";

/** The parsed arguments of `micro new`. */
export interface NewArguments {
  name: string;
  type: "service" | "api" | "bot";
  namespace?: string;
  fqdn?: string;
  alias?: string;
  registry?: string;
  registry_address?: string;
  broker?: string;
  broker_address?: string;
  transport?: string;
  install: boolean;
  dir?: string;
}

export const newCommand: CommandModule<object, NewArguments> = {
  command: "new <name>",
  describe: "Create a service or API project from a template",
  builder: (y) =>
    y
      .positional("name", {
        type: "string",
        demandOption: true,
        describe: "Project name: letters, digits, -, _ and . (e.g. greeter, hello-world, com.example.srv.foo)",
      })
      .option("type", { choices: ["service", "api", "bot"] as const, default: "service" as const, describe: "Template to render" })
      .option("namespace", { type: "string", describe: "Namespace of the service name: <namespace>.<type>.<alias>" })
      .option("fqdn", { type: "string", describe: "Full name the service registers as (default: the name, or <namespace>.<type>.<alias>)" })
      .option("alias", { type: "string", describe: "Short name used for the proto package, files and identifiers" })
      .option("install", { type: "boolean", default: true, describe: "Install dependencies and generate code (--no-install skips both)" })
      .option("dir", { type: "string", describe: "Directory to create (default: ./<name>)" })
      .example("$0 new greeter", "a service in ./greeter")
      .example("$0 new greeter --type api --namespace com.example", "an API service named com.example.api.greeter")
      .example("$0 new deploy --type bot", "a bot command service micro.bot.deploy: the `deploy` command of `micro bot`")
      .example("$0 new greeter --registry etcd --registry_address 127.0.0.1:2379", "bake the registry into the project's .env") as never,
  handler: async (args) => {
    const { newProject } = await import("../../scaffold/new.js");
    await newProject({
      name: args.name,
      type: args.type,
      namespace: args.namespace,
      fqdn: args.fqdn,
      alias: args.alias,
      dir: args.dir,
      install: args.install,
      config: {
        registry: args.registry,
        registry_address: args.registry_address,
        broker: args.broker,
        broker_address: args.broker_address,
        transport: args.transport,
      },
    });
  },
};
