/**
 * The one rule for a proto field's default JSON name, as protoc writes it into `json_name` (protobuf's
 * `ToJsonName`): drop every `_` and upper-case the character after it. `foo_bar` → `fooBar`, `foo__bar` →
 * `fooBar`, `field_A` → `fieldA`, `_leading` → `Leading`, `trailing_` → `trailing`, `a1_b2` → `a1B2`.
 * Shared by the generator (which descriptors to embed), the ts-proto codec (descriptors without `json_name`) and
 * the gateway (query parameters and path variables).
 */
export function protoJsonName(name: string): string {
  let out = "";
  let capNext = false;
  for (const c of name) {
    if (c === "_") capNext = true;
    else {
      // ASCII upper-casing only, as protoc's absl::ascii_toupper: digits and non-letters stay as they are.
      out += capNext && c >= "a" && c <= "z" ? c.toUpperCase() : c;
      capNext = false;
    }
  }
  return out;
}
