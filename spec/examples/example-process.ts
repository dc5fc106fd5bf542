// Runs an example the way a user does: in its own process, with its own arguments, environment
// and signals. lib/ and examples/ are transpiled (without a type check: `npm test` type-checks
// first) into a scratch folder inside the repository, so the examples' imports resolve to its
// node_modules and nothing depends on, or writes to, dist/ (which the pack spec rebuilds).
import { afterAll, beforeAll } from '@jest/globals';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Guard against a hung example; not a wait: every wait below ends as soon as its line arrives. */
const DEFAULT_WAIT_MS = 15_000;

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

/** The examples, compiled to JavaScript under `.scratch/`; `remove()` deletes them. */
export class CompiledExamples {
  private constructor(readonly dir: string) {}

  static async build(): Promise<CompiledExamples> {
    await mkdir(join(root, '.scratch'), { recursive: true });
    const dir = await mkdtemp(join(root, '.scratch', 'examples-'));
    for (const folder of ['lib', 'examples']) {
      for await (const file of tsFiles(join(root, folder))) {
        const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), {
          fileName: file,
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
        });
        const out = join(dir, relative(root, file)).replace(/\.ts$/, '.js');
        await mkdir(dirname(out), { recursive: true });
        await writeFile(out, outputText);
      }
    }
    return new CompiledExamples(dir);
  }

  /** Starts `examples/<name>.js` with these arguments and exactly this environment (plus PATH). */
  start(name: string, args: string[] = [], env: Record<string, string> = {}): ExampleProcess {
    return new ExampleProcess(
      spawn(process.execPath, [join(this.dir, 'examples', `${name}.js`), ...args], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  }

  remove(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Compiles the examples before the spec file's tests and removes them after (call it at the
 * top level of a spec file); `start` runs one of them.
 */
export function useCompiledExamples(): { start: CompiledExamples['start'] } {
  let examples: CompiledExamples | undefined;
  beforeAll(async () => {
    examples = await CompiledExamples.build();
  }, 60_000);
  afterAll(async () => {
    await examples?.remove();
  });
  return {
    start: (...args) => {
      if (!examples) throw new Error('examples are compiled in beforeAll');
      return examples.start(...args);
    },
  };
}

/** A running example: its output so far, waits for lines, signals, and its exit. */
export class ExampleProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(private readonly child: ChildProcessByStdio<null, Readable, Readable>) {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      for (const w of this.waiters) w();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        this.closed = true;
        resolve({ code, signal });
        for (const w of this.waiters) w();
      }),
    );
  }

  /** Resolves with the first stdout match of `pattern`; rejects if the process exits or the guard time passes first. */
  waitFor(pattern: RegExp, timeoutMs = DEFAULT_WAIT_MS): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.stdout.match(pattern);
        if (match) finish(() => resolve(match));
        else if (this.closed) finish(() => reject(new Error(`exited before printing ${pattern}:\n${this.stdout}\n${this.stderr}`)));
      };
      const guard = setTimeout(() => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(guard);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Waits for the exit; kills the process if it has not exited within the guard time. */
  async exit(timeoutMs = DEFAULT_WAIT_MS): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const guard = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(guard);
    }
  }

  /** Waits for the exit and fails with the process's output when it ended otherwise than with `code`. */
  async exitsWith(code: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    const exit = await this.exit(timeoutMs);
    if (exit.code !== code || exit.signal !== null) {
      throw new Error(`expected exit code ${code}, got ${JSON.stringify(exit)}\n--- stdout\n${this.stdout}\n--- stderr\n${this.stderr}`);
    }
  }
}
