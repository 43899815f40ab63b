// Validates Kubernetes manifests offline against the API's schemas, with
// unknown fields rejected:
//  1. kubernetes-models' validators (generated from Kubernetes' OpenAPI
//     schemas; @kubernetes-models/prometheus-operator for PodMonitor):
//     types, required fields, formats (quantities, int-or-string, ...);
//  2. TypeScript's excess-property check against the same packages' type
//     declarations: every field of every object must exist in the schema
//     (the validators alone accept unknown fields).
//   node validate.mjs FILE.yaml...     (exit 0 valid, 1 invalid)
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const nm = process.env.KP_NODE_MODULES || path.join(here, "node_modules");
const require = createRequire(path.join(nm, "x.js"));
const yaml = require("js-yaml");

function modelPath(apiVersion, kind) {
  if (apiVersion === "v1") return `kubernetes-models/v1/${kind}`;
  if (apiVersion.startsWith("monitoring.coreos.com/"))
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

let failed = 0;
const docs = [];
for (const file of process.argv.slice(2)) {
  yaml.loadAll(fs.readFileSync(file, "utf8"), (d) => {
    if (d) docs.push({ file, d });
  });
}
const ts = [];
for (const [i, { file, d }] of docs.entries()) {
  const where = `${path.basename(file)}: ${d.kind} ${d.metadata?.name}`;
  let mod;
  try {
    mod = require(modelPath(d.apiVersion, d.kind));
  } catch (e) {
    console.log(`FAIL ${where}: no schema for ${d.apiVersion} ${d.kind}`);
    failed++;
    continue;
  }
  try {
    new mod[d.kind](d).validate();
    console.log(`ok   ${where}: schema`);
  } catch (e) {
    console.log(`FAIL ${where}: ${e.message}`);
    failed++;
  }
  ts.push(`import type { I${d.kind} as T${i} } from "${modelPath(d.apiVersion, d.kind)}";`);
  ts.push(`// ${where}\nexport const d${i}: T${i} = ${JSON.stringify(d, null, 2)};`);
}
// strict fields: tsc on the documents typed as their kinds
const dir = fs.mkdtempSync(path.join(process.env.TMPDIR || "/tmp", "kp-tsc-"));
try {
  fs.writeFileSync(path.join(dir, "manifests.ts"), ts.join("\n") + "\n");
  fs.symlinkSync(nm, path.join(dir, "node_modules"));
  const tsc = require("typescript");
  const program = tsc.createProgram([path.join(dir, "manifests.ts")], {
    strict: true, noEmit: true, skipLibCheck: true, types: [],
    module: tsc.ModuleKind.CommonJS, moduleResolution: tsc.ModuleResolutionKind.Node10,
  });
  const diags = tsc.getPreEmitDiagnostics(program);
  for (const dg of diags) {
    const msg = tsc.flattenDiagnosticMessageText(dg.messageText, "\n");
    let at = "";
    if (dg.file && dg.start !== undefined) {
      const { line } = dg.file.getLineAndCharacterOfPosition(dg.start);
      const text = dg.file.text.split("\n");
      let doc = "";
      for (let l = line; l >= 0; l--) if (text[l].startsWith("// ")) { doc = text[l].slice(3); break; }
      at = `${doc}: ${text[line].trim()} `;
    }
    console.log(`FAIL ${at}${msg.split("\n")[0]}`);
    failed++;
  }
  if (diags.length === 0) console.log(`ok   ${docs.length} documents: no field outside the schemas (tsc)`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
