// Docs on hover (issue 12, item 5): every exported declaration carries its own TSDoc, so an
// editor shows it where the symbol is used. A file-header comment says why the file exists; it
// does not reach a hover, because it documents no symbol. Checked: exported functions, classes,
// interfaces, types, constants and enums; the public members of exported classes (constructors
// that take arguments included, and parameter properties); every member of an exported
// interface or object type (lru-cache style: each option documented where it is declared).
//
// Every layer of lib/ is checked (the generated containerd protos are .proto files, not .ts).
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Folders (every .ts file below them) and single files. */
const CHECKED_FOLDERS = ['lib/api', 'lib/cache', 'lib/manager', 'lib/profiles', 'lib/wait', 'lib/node', 'lib/util', 'lib/testing'];
/** Files left out of the check while their docs are being written: none now, every file is checked. */
const NOT_YET = new Set<string>([]);

function tsFiles(dir: string): string[] {
  if (dir.endsWith('.ts')) return [dir];
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') && !NOT_YET.has(path) ? [path] : [];
  });
}

/** The TSDoc block directly attached to `node` (TypeScript keeps it in `jsDoc`). */
function hasDoc(node: ts.Node): boolean {
  const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc ?? [];
  return docs.some((doc) => (typeof doc.comment === 'string' ? doc.comment.trim() !== '' : (doc.comment?.length ?? 0) > 0) || (doc.tags?.length ?? 0) > 0);
}

function isExported(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

function isPublic(node: ts.Node): boolean {
  const modifiers = ts.canHaveModifiers(node) ? (ts.getModifiers(node) ?? []) : [];
  if (modifiers.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword)) return false;
  const name = (node as { name?: ts.Node }).name;
  return !(name && ts.isPrivateIdentifier(name));
}

function nameOf(node: ts.Node, source: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const name = (node as { name?: ts.Node }).name;
  return name ? name.getText(source) : ts.SyntaxKind[node.kind];
}

/** `file: name` of every exported declaration or member in `path` without TSDoc. */
function undocumented(path: string): string[] {
  const source = ts.createSourceFile(path, readFileSync(join(root, path), 'utf8'), ts.ScriptTarget.Latest, true);
  const missing: string[] = [];
  const require = (node: ts.Node, what: string) => {
    if (!hasDoc(node)) missing.push(`${relative(root, join(root, path))}: ${what}`);
  };
  const members = (owner: string, list: ts.NodeArray<ts.TypeElement>) => {
    for (const member of list) if (!ts.isIndexSignatureDeclaration(member)) require(member, `${owner}.${nameOf(member, source)}`);
  };
  for (const statement of source.statements) {
    if (!isExported(statement)) continue;
    if (ts.isVariableStatement(statement)) {
      const names = statement.declarationList.declarations.map((d) => d.name.getText(source)).join(', ');
      require(statement, names);
      continue;
    }
    const name = nameOf(statement, source);
    require(statement, name);
    if (ts.isInterfaceDeclaration(statement)) members(name, statement.members);
    if (ts.isTypeAliasDeclaration(statement) && ts.isTypeLiteralNode(statement.type)) members(name, statement.type.members);
    if (ts.isClassDeclaration(statement)) {
      for (const member of statement.members) {
        if (ts.isClassStaticBlockDeclaration(member) || ts.isSemicolonClassElement(member) || !isPublic(member)) continue;
        if (ts.isConstructorDeclaration(member)) {
          if (member.parameters.length > 0) require(member, `${name}.constructor`);
          for (const param of member.parameters) {
            const modifiers = ts.getModifiers(param) ?? [];
            if (modifiers.length > 0 && isPublic(param)) require(param, `${name}.${param.name.getText(source)}`);
          }
          continue;
        }
        // Overloads: one doc on the first signature serves them all.
        if (
          ts.isMethodDeclaration(member) &&
          member.body &&
          statement.members.some((m) => m !== member && ts.isMethodDeclaration(m) && !m.body && nameOf(m, source) === nameOf(member, source))
        )
          continue;
        require(member, `${name}.${nameOf(member, source)}`);
      }
    }
  }
  return missing;
}

describe('TSDoc on every exported declaration', () => {
  it.each(CHECKED_FOLDERS)('documents every exported declaration and member in %s', (folder) => {
    expect(tsFiles(folder).flatMap(undocumented)).toEqual([]);
  });

  it('reports a declaration documented only by its file header, and an undocumented option', () => {
    const probe = 'spec/package/fixtures/undocumented.ts';
    expect(undocumented(probe)).toEqual([`${probe}: WidgetOptions.size`, `${probe}: Widget`, `${probe}: Widget.constructor`, `${probe}: Widget.grow`]);
  });
});
