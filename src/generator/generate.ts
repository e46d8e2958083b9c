/**
 * Writes `<proto path>.micro.ts` for a proto file with services: per service the definition, the client
 * interface and factory, the handler interface and its registration function.
 */
import type { DescFile, DescMethod, DescService } from "@bufbuild/protobuf";
import type { GeneratedFile, ImportSymbol, Printable } from "@bufbuild/protoplugin";
import { embeddedDescriptors, reflectionDescriptors } from "./descriptors.js";
import { fieldRecordsSource } from "./fields.js";
import { httpBindings } from "./http.js";
import { messageResolver, type MessageRef } from "./messages.js";
import { methodKeys, serviceName } from "./names.js";
import { endpointNameOf } from "../proto/endpoint.js";
import type { MicroOptions } from "./options.js";
import type { Comments } from "./deps.js";
import { commentParts } from "./comments.js";

/** The file name protoc-gen-micro writes for a proto file (`greeter/v1/greeter.micro.ts`). */
export function microFileName(file: DescFile): string {
  return `${file.name}.micro.ts`;
}

/** What generation needs beside the file. */
export interface GenerateContext {
  readonly options: MicroOptions;
  readonly getComments: (desc: DescService | DescMethod) => Comments;
}

const clientCalls = {
  unary: "call",
  server_streaming: "serverStream",
  client_streaming: "clientStream",
  bidi_streaming: "bidiStream",
} as const;

/** The JSDoc text for a service or method: its proto comments (if `desc` is given), `extra`, then `@deprecated`. */
function docText(ctx: GenerateContext, desc: DescService | DescMethod | undefined, deprecated: boolean, extra?: string): string {
  const comments: Comments = desc === undefined ? {} : ctx.getComments(desc);
  const parts = commentParts(comments);
  if (extra !== undefined) parts.push(extra);
  if (deprecated) parts.push("@deprecated");
  return parts.join("\n\n");
}

/** Generate the file's content into `f`; the caller drops it when nothing was printed. */
export function generateFile(f: GeneratedFile, file: DescFile, selfImportPath: string, ctx: GenerateContext): void {
  if (file.services.length === 0) return;
  const { options } = ctx;
  const rt = (name: string): ImportSymbol => f.import(name, options.runtimeImport, true);
  // Globals the signatures use, reserved as local names so that an imported message of the same name is aliased.
  const PromiseT = f.import("Promise", selfImportPath, true);
  const AsyncIterableT = f.import("AsyncIterable", selfImportPath, true);
  const resolve = messageResolver(f, options);
  // ts-proto: the file's descriptors, once per file, for the runtime's strict proto3 JSON (./descriptors.ts).
  let descriptors: ImportSymbol | undefined;
  if (options.messages === "ts-proto") {
    descriptors = f.import("descriptors", selfImportPath, true);
    f.print("/** Descriptors of the messages below, for strict proto3 JSON (base64 `google.protobuf.FileDescriptorSet`). */");
    f.print("const ", descriptors, " = ", f.string(embeddedDescriptors(file)), ";");
    f.print();
  }
  // Both libraries: the whole file and its imports, for gRPC server reflection (./descriptors.ts).
  const fileDescriptors = f.import("fileDescriptors", selfImportPath, true);
  f.print("/** This file and the files it imports (base64 `google.protobuf.FileDescriptorSet`), for gRPC server reflection. */");
  f.print("const ", fileDescriptors, " = ", f.string(reflectionDescriptors(file)), ";");
  f.print();

  for (const service of file.services) {
    const name = serviceName(service.name);
    const keys = methodKeys(service);
    const serviceDeprecated = service.deprecated;
    const refs = new Map<DescMethod, { input: MessageRef; output: MessageRef }>();
    for (const m of service.methods) refs.set(m, { input: resolve(m.input), output: resolve(m.output) });
    const doc = (text: string, indent = ""): Printable => (text.length > 0 ? [f.jsDoc(text, indent), "\n"] : "");

    // The definition.
    f.print(doc(docText(ctx, service, serviceDeprecated, `Service definition of \`${service.typeName}\`.`)), f.export("const", name), " = {");
    f.print("  name: ", f.string(service.name), ",");
    f.print("  fullName: ", f.string(service.typeName), ",");
    f.print("  fileDescriptors: ", fileDescriptors, ",");
    f.print("  methods: {");
    service.methods.forEach((m, i) => {
      const ref = refs.get(m)!;
      // The `as MessageCodec<T>` states the codec's type in the source, so declaration files (target=dts, or
      // tsc with isolated declarations) carry the message types without resolving the imports.
      const codec = (r: MessageRef, desc: typeof m.input): Printable => [
        ...r.codec,
        `, ${fieldRecordsSource(desc)}`,
        ...(descriptors !== undefined ? [", ", descriptors] : []),
        ") as ",
        rt("MessageCodec"),
        "<",
        r.type,
        ">",
      ];
      f.print("    ", keys[i], ": {");
      f.print("      name: ", f.string(m.name), ",");
      f.print("      kind: ", f.string(m.methodKind), ",");
      f.print("      input: ", codec(ref.input, m.input), ",");
      f.print("      output: ", codec(ref.output, m.output), ",");
      const http = httpBindings(m);
      if (http.length > 0) {
        f.print("      http: [");
        for (const b of http) {
          const parts = [`method: ${JSON.stringify(b.method)}`, `path: ${JSON.stringify(b.path)}`];
          if (b.body !== undefined) parts.push(`body: ${JSON.stringify(b.body)}`);
          if (b.responseBody !== undefined) parts.push(`responseBody: ${JSON.stringify(b.responseBody)}`);
          f.print("        { ", parts.join(", "), " },");
        }
        f.print("      ],");
      }
      const idempotency = m.idempotency === 1 ? "NO_SIDE_EFFECTS" : m.idempotency === 2 ? "IDEMPOTENT" : undefined;
      if (idempotency !== undefined) f.print("      idempotency: ", f.string(idempotency), ",");
      if (m.deprecated) f.print("      deprecated: true,");
      f.print("    },");
    });
    f.print("  },");
    f.print("} as const satisfies ", rt("ServiceDefinition"), ";");
    f.print();

    // The client.
    const clientName = `${name}Client`;
    f.print(doc(docText(ctx, service, serviceDeprecated, `Client of \`${service.typeName}\`; create one with {@link new${clientName}}.`)), f.export("interface", clientName), " {");
    service.methods.forEach((m, i) => {
      const { input, output } = refs.get(m)!;
      f.print(doc(docText(ctx, m, m.deprecated), "  "), "  ", keys[i], clientSignature(m, input.type, output.type, rt("CallOptions"), PromiseT, AsyncIterableT), ";");
    });
    f.print("}");
    f.print();
    f.print(
      doc(docText(ctx, undefined, serviceDeprecated, `A {@link ${clientName}} that calls \`${service.typeName}\` in the service registered as \`service\`, through \`client\`.`)),
      f.export("function", `new${clientName}`),
      // Unused parameters of a service without methods are marked as such (for noUnusedParameters).
      service.methods.length > 0 ? "(service: string, client: " : "(_service: string, _client: ",
      rt("Client"),
      "): ",
      clientName,
      " {",
    );
    f.print("  return {");
    service.methods.forEach((m, i) => {
      const streamingIn = m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming";
      const arg = streamingIn ? "requests" : "request";
      f.print("    ", keys[i], "(", arg, ", options) {");
      f.print(
        "      return client.",
        clientCalls[m.methodKind],
        "({ service, endpoint: ",
        f.string(endpointNameOf(service.name, m.name)),
        ", method: ",
        name,
        ".methods.",
        keys[i],
        ", path: ",
        f.string(`/${service.typeName}/${m.name}`),
        " }, ",
        arg,
        ", options);",
      );
      f.print("    },");
    });
    f.print("  };");
    f.print("}");
    f.print();

    // The handler.
    const handlerName = `${name}Handler`;
    f.print(doc(docText(ctx, service, serviceDeprecated, `What a server implements for \`${service.typeName}\`; register it with {@link register${handlerName}}.`)), f.export("interface", handlerName), " {");
    service.methods.forEach((m, i) => {
      const { input, output } = refs.get(m)!;
      f.print(doc(docText(ctx, m, m.deprecated), "  "), "  ", keys[i], handlerSignature(m, input.type, output.type, rt("Context"), PromiseT, AsyncIterableT), ";");
    });
    f.print("}");
    f.print();
    f.print(
      doc(docText(ctx, undefined, serviceDeprecated, `Serve \`${service.typeName}\` with \`handler\` on \`server\`.`)),
      f.export("function", `register${handlerName}`),
      "(server: ",
      rt("Server"),
      ", handler: ",
      handlerName,
      ", options?: ",
      rt("HandlerOptions"),
      "): void {",
    );
    f.print("  server.handle(", name, ", handler, options);");
    f.print("}");
    if (service !== file.services[file.services.length - 1]) f.print();
  }
}

function clientSignature(m: DescMethod, input: ImportSymbol, output: ImportSymbol, callOptions: ImportSymbol, P: ImportSymbol, AI: ImportSymbol): Printable {
  switch (m.methodKind) {
    case "unary":
      return ["(request: ", input, ", options?: ", callOptions, "): ", P, "<", output, ">"];
    case "server_streaming":
      return ["(request: ", input, ", options?: ", callOptions, "): ", AI, "<", output, ">"];
    case "client_streaming":
      return ["(requests: ", AI, "<", input, ">, options?: ", callOptions, "): ", P, "<", output, ">"];
    case "bidi_streaming":
      return ["(requests: ", AI, "<", input, ">, options?: ", callOptions, "): ", AI, "<", output, ">"];
  }
}

function handlerSignature(m: DescMethod, input: ImportSymbol, output: ImportSymbol, context: ImportSymbol, P: ImportSymbol, AI: ImportSymbol): Printable {
  switch (m.methodKind) {
    case "unary":
      return ["(request: ", input, ", context: ", context, "): ", P, "<", output, "> | ", output];
    case "server_streaming":
      return ["(request: ", input, ", context: ", context, "): ", AI, "<", output, ">"];
    case "client_streaming":
      return ["(requests: ", AI, "<", input, ">, context: ", context, "): ", P, "<", output, "> | ", output];
    case "bidi_streaming":
      return ["(requests: ", AI, "<", input, ">, context: ", context, "): ", AI, "<", output, ">"];
  }
}
