// Validates an AsyncAPI document (and the files it references) with @asyncapi/parser.
// Prints one JSON line per diagnostic; exits 1 when there is an error (severity 0).
import { Parser, fromFile } from '@asyncapi/parser';

const parser = new Parser();
let failed = false;
for (const path of process.argv.slice(2)) {
  const { document, diagnostics } = await fromFile(parser, path).parse();
  for (const d of diagnostics) {
    console.log(JSON.stringify({ file: path, severity: d.severity, code: d.code,
                                 path: d.path.join('.'), message: d.message }));
  }
  failed ||= !document || diagnostics.some((d) => d.severity === 0);
}
process.exit(failed ? 1 : 0);
