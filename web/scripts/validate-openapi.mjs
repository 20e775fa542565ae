#!/usr/bin/env node
// Validates an OpenAPI 3.1 document (JSON or YAML) against the official schema.
// Usage: node web/scripts/validate-openapi.mjs FILE
// Exit 0 and "openapi: valid (N paths)" when valid; errors on stderr and exit 1 otherwise
// (also for a document that is valid but not 3.1, or whose internal $refs do not resolve);
// exit 2 for bad usage.
import { Validator } from "@seriousme/openapi-schema-validator";

const file = process.argv[2];
if (!file || process.argv.length > 3) {
  console.error("usage: node web/scripts/validate-openapi.mjs FILE.json");
  process.exit(2);
}

function fail(lines) {
  for (const line of lines) console.error(`openapi: ${line}`);
  process.exit(1);
}

const validator = new Validator();
let result;
try {
  result = await validator.validate(file);
} catch (err) {
  fail([`cannot read ${file}: ${err.message}`]);
}

if (!result.valid) {
  const errors = Array.isArray(result.errors) ? result.errors : [result.errors];
  fail([
    `${file} is invalid (${errors.length} error${errors.length === 1 ? "" : "s"})`,
    ...errors.map((e) =>
      typeof e === "object" && e !== null
        ? `  ${e.instancePath || "/"}: ${e.message}${e.params ? " " + JSON.stringify(e.params) : ""}`
        : `  ${e}`,
    ),
  ]);
}

if (validator.version !== "3.1") {
  fail([`${file} is OpenAPI ${validator.version}, expected 3.1.x`]);
}

try {
  validator.resolveRefs();
} catch (err) {
  fail([`${file}: ${err.message}`]);
}

const paths = Object.keys(validator.specification.paths ?? {}).length;
console.log(`openapi: valid (${paths} paths)`);
