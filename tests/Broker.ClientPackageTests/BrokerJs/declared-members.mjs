// Lists what the package's declarations declare, as JSON on stdout, read with the TypeScript compiler
// API (not a text search): the module's exported values, and for each exported class every property and
// method of its instance type, inherited ones included, with a flag for members declared in broker.d.ts
// itself (the rest come from lib, e.g. Error's). Usage: node declared-members.mjs <path to broker.d.ts>.
import ts from 'typescript';

const file = process.argv[2];
const program = ts.createProgram([file], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts'] });
const checker = program.getTypeChecker();
const source = program.getSourceFile(file);
const module = checker.getSymbolAtLocation(source);
if (!module) throw new Error(`${file} is not a module`);

const exports = [];
const classes = {};
for (const symbol of checker.getExportsOfModule(module)) {
  if (!(symbol.flags & ts.SymbolFlags.Value)) continue; // types and interfaces have no runtime twin
  exports.push(symbol.name);
  if (!(symbol.flags & ts.SymbolFlags.Class)) continue;
  const instance = checker.getDeclaredTypeOfSymbol(symbol);
  classes[symbol.name] = checker.getPropertiesOfType(instance).map((member) => ({
    name: member.name,
    own: (member.declarations ?? []).some((d) => d.getSourceFile() === source),
  }));
}
console.log(JSON.stringify({ exports: exports.sort(), classes }));
