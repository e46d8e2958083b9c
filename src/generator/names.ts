/**
 * The TypeScript names protoc-gen-micro gives to services and methods.
 *
 * - Services are PascalCase (`greeter_handler` → `GreeterHandler`): `GreeterHandler`, `GreeterHandlerClient`,
 *   `newGreeterHandlerClient`, `GreeterHandlerHandler`, `registerGreeterHandlerHandler`.
 * - Methods are lowerCamelCase (`SayHello`, `say_hello` → `sayHello`). A method key that cannot be a class
 *   method (`constructor`) gets a trailing `_` (`constructor_`); so does a key that repeats an earlier one
 *   (`Delete` and `delete` → `delete`, `delete_`). The same key is used in the definition, client and handler.
 */
import type { DescService } from "@bufbuild/protobuf";

/** Split on `_` and non-identifier characters, upper-case the letter after each split (protobuf's camel case). */
function camel(name: string): string {
  let out = "";
  let upper = false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const lower = c >= 97 && c <= 122;
    const identifier = lower || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 36;
    if (!identifier) {
      upper = out.length > 0;
      continue;
    }
    out += upper && lower ? String.fromCharCode(c - 32) : name[i];
    upper = false;
  }
  return out;
}

/** `greeter_handler` → `GreeterHandler`. */
export function serviceName(name: string): string {
  const c = camel(name);
  return c.length === 0 ? "Service" : c.charAt(0).toUpperCase() + c.substring(1);
}

/** Keys that cannot be a class method name. */
const reservedMethodKeys = new Set(["constructor"]);

/** The method keys of a service, in declaration order (see the file comment for the rules). */
export function methodKeys(service: DescService): string[] {
  const taken = new Set<string>();
  return service.methods.map((method) => {
    const c = camel(method.name);
    let key = c.length === 0 ? "method" : /^[0-9]/.test(c) ? `_${c}` : c.charAt(0).toLowerCase() + c.substring(1);
    if (reservedMethodKeys.has(key)) key += "_";
    while (taken.has(key)) key += "_";
    taken.add(key);
    return key;
  });
}
