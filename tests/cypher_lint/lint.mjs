// Lint Cypher files with Neo4j's own parser/linter (@neo4j-cypher/language-support).
// Usage: node lint.mjs FILE...   Prints one JSON object: {file: [diagnostics...]}; exit 0.
import { readFileSync } from "node:fs";
import { lintCypherQuery } from "@neo4j-cypher/language-support";

const results = {};
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  const { diagnostics } = lintCypherQuery(text, {});
  results[file] = diagnostics.map((d) => ({
    severity: d.severity, message: d.message, start: d.offsets?.start, end: d.offsets?.end,
  }));
}
process.stdout.write(JSON.stringify(results));
