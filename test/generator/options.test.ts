/**
 * Option errors: an unknown option or a bad value makes the plugin exit non-zero with a message that names the
 * option and what it accepts, and protoc writes no files. Also the option parser's mapping rules.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { join } from "node:path";
import { parseOptions } from "../../src/generator/options.js";
import { GOLDEN, listFiles, protoc, tempDir } from "./support.js";

describe("plugin options", () => {
  const tmp = tempDir("options");
  after(() => tmp.remove());

  const failing: Array<[string, RegExp]> = [
    ["colour=blue", /unknown option "colour": accepted options are .*messages.*runtime_import/],
    ["messages=protobufjs", /invalid value "protobufjs" for option "messages": accepted values are ts-proto, protobuf-es/],
    ["target=java", /invalid value "java" for option "target": accepted values are ts, js, dts/],
    ["import_extension=mjs", /invalid value "mjs" for option "import_extension": accepted values are none, js, ts/],
    ["useSnakeTypeName=maybe", /invalid value "maybe" for option "useSnakeTypeName": accepted values are true, false/],
    ["onlyTypes=true", /unsupported option "onlyTypes=true": the generated codecs call ts-proto's encode/],
    ["messages=protobuf-es,fileSuffix=.pb", /option "fileSuffix" applies to messages=ts-proto only/],
    ["Mgoogle/protobuf/empty.proto=./empty", /unsupported option "Mgoogle\/protobuf\/empty\.proto=\.\/empty": ts-proto's module mapping/],
    ["runtime_import=", /invalid value "" for option "runtime_import"/],
  ];
  for (const [opt, message] of failing) {
    it(`fails on ${opt}, writes no files`, async () => {
      const out = join(tmp.dir, opt.replace(/[^a-z]/gi, "_"));
      mkdirSync(out);
      const result = await protoc(out, opt, ["greeter/v1/greeter.proto", "shop/v1/shop.proto"]);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, message);
      assert.deepEqual(listFiles(out), []);
    });
  }

  it("defaults to target=ts, ts-proto and micro-ts", () => {
    const { micro, standardParameter } = parseOptions("");
    assert.equal(standardParameter, "target=ts");
    assert.equal(micro.messages, "ts-proto");
    assert.equal(micro.runtimeImport, "micro-ts");
    assert.equal(micro.tsProto.useSnakeTypeName, true);
  });

  it("maps importSuffix onto import_extension and rejects a contradiction", () => {
    assert.equal(parseOptions("importSuffix=.js").standardParameter, "target=ts,import_extension=js");
    assert.equal(parseOptions("importSuffix=.js,import_extension=js").standardParameter, "target=ts,import_extension=js");
    assert.throws(() => parseOptions("importSuffix=.js,import_extension=none"), /disagree/);
  });

  it("skips empty entries (trailing, leading, doubled comma) as ts-proto does", () => {
    for (const parameter of ["importSuffix=.js,", ",importSuffix=.js", "importSuffix=.js,,messages=ts-proto", ","]) {
      const expected = parameter === "," ? "target=ts" : "target=ts,import_extension=js";
      assert.equal(parseOptions(parameter).standardParameter, expected, parameter);
    }
    assert.equal(parseOptions("messages=protobuf-es,,").micro.messages, "protobuf-es");
  });

  for (const opt of ["importSuffix=.js,", "import_extension=js,,"]) {
    it(`accepts ${opt} through protoc and writes what the option without the comma writes`, async () => {
      const out = join(tmp.dir, `comma_${opt.replace(/[^a-z]/gi, "_")}`);
      mkdirSync(out);
      const result = await protoc(out, opt, ["greeter/v1/greeter.proto"]);
      assert.equal(result.code, 0, result.stderr);
      const file = "greeter/v1/greeter.micro.ts";
      assert.deepEqual(listFiles(out), [file]);
      assert.equal(readFileSync(join(out, file), "utf8"), readFileSync(join(GOLDEN, "ts-proto", file), "utf8"));
    });
  }

  it("keeps protoplugin's options and reads its own", () => {
    const { micro, standardParameter } = parseOptions("target=js+dts,messages=protobuf-es,runtime_import=@acme/micro/,ts_nocheck=true");
    assert.equal(standardParameter, "target=js+dts,ts_nocheck=true");
    assert.equal(micro.messages, "protobuf-es");
    assert.equal(micro.runtimeImport, "@acme/micro");
  });
});
