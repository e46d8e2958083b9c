/**
 * The package's `proto/` folder holds google/api/annotations.proto and google/api/http.proto, so a proto with
 * `google.api.http` rules compiles with only that folder added (protoc `-I`, or a module in buf.yaml as the
 * README shows).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { packageRoot } from "../../src/scaffold/package-root.js";

const run = promisify(execFile);
const bin = (name: string): string => join(packageRoot, "node_modules", ".bin", name);

const SHOP = `syntax = "proto3";
package shop.v1;
import "google/api/annotations.proto";
service ShopService {
  rpc GetItem(GetItemRequest) returns (Item) {
    option (google.api.http) = { get: "/v1/items/{id}" additional_bindings { post: "/v1/items:get" body: "*" } };
  }
}
message GetItemRequest { string id = 1; }
message Item { string id = 1; }
`;

async function project(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "micro-proto-"));
  await mkdir(join(dir, "proto", "shop", "v1"), { recursive: true });
  await writeFile(join(dir, "proto", "shop", "v1", "shop.proto"), SHOP);
  return dir;
}

test("protoc -I <package>/proto compiles a proto with google.api.http rules; the option has googleapis' field numbers", async () => {
  const dir = await project();
  try {
    const out = join(dir, "set.bin");
    await run(bin("protoc"), ["-I", join(dir, "proto"), "-I", join(packageRoot, "proto"), "--include_imports", `--descriptor_set_out=${out}`, "shop/v1/shop.proto"]);
    const set = fromBinary(FileDescriptorSetSchema, new Uint8Array(await (await import("node:fs/promises")).readFile(out)));
    const http = set.file.find((f) => f.name === "google/api/http.proto")!;
    const rule = http.messageType.find((m) => m.name === "HttpRule")!;
    const numbers = Object.fromEntries(rule.field.map((f) => [f.name, f.number]));
    assert.deepEqual(numbers, { selector: 1, get: 2, put: 3, post: 4, delete: 5, patch: 6, custom: 8, body: 7, response_body: 12, additional_bindings: 11 });
    const ext = set.file.find((f) => f.name === "google/api/annotations.proto")!.extension[0]!;
    assert.equal(ext.name, "http");
    assert.equal(ext.number, 72295728);
    assert.equal(ext.extendee, ".google.protobuf.MethodOptions");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("buf build with the README's buf.yaml (modules proto and node_modules/micro-ts/proto) compiles a proto with google.api.http rules", async () => {
  const dir = await project();
  try {
    await mkdir(join(dir, "node_modules"));
    await symlink(packageRoot, join(dir, "node_modules", "micro-ts"));
    await writeFile(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\n  - path: node_modules/micro-ts/proto\n");
    const out = join(dir, "image.bin");
    await run(bin("buf"), ["build", "-o", out], { cwd: dir, timeout: 120_000 });
    assert.ok((await readdir(dir)).includes("image.bin"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
