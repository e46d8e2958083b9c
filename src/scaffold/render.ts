/**
 * Renders a template (one folder, or layers: templates/common under templates/<type>): every file is
 * copied, `*.hbs` files (and every file name) go through handlebars first. Output goes to a temporary sibling of the target (same filesystem), renamed into place
 * when complete, so a failure never leaves half a project behind.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, rename, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, sep } from "node:path";
import Handlebars from "handlebars";

// Helpers templates may use: `{{json value}}` (a JSON literal), `{{#if (isString value)}}`.
Handlebars.registerHelper("json", (value: unknown) => JSON.stringify(value));
Handlebars.registerHelper("isString", (value: unknown) => typeof value === "string");

/** Files listed relative to the project root, with `/` separators, sorted. */
export type FileList = string[];

async function walk(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path, base)));
    else if (entry.isFile()) out.push(relative(base, path));
  }
  return out.sort();
}

/**
 * The output path of a template file: handlebars in the name rendered, `.hbs` dropped, and a leading `_`
 * turned into `.` (`_gitignore` → `.gitignore`: npm leaves dot files such as .gitignore out of packages).
 */
export function outputPath(templatePath: string, context: object): string {
  const rendered = templatePath
    .split(sep)
    .map((part) => Handlebars.compile(part, { noEscape: true, strict: true })(context))
    .map((part) => (part.startsWith("_") ? `.${part.slice(1)}` : part))
    .join("/");
  return rendered.endsWith(".hbs") ? rendered.slice(0, -4) : rendered;
}

/**
 * The files a template renders to, without writing anything. A template is one folder or a list of layers
 * (e.g. the shared `common` layer, then the project type's own); a file in a later layer replaces the file
 * of the same path in an earlier one. A `.hbs` file that renders to nothing but white space is left out.
 * @throws Error when a template refers to a name the context lacks.
 */
export async function renderFiles(template: string | readonly string[], context: object): Promise<Map<string, Buffer | string>> {
  const sources = new Map<string, string>();
  for (const layer of typeof template === "string" ? [template] : template) {
    for (const path of await walk(layer)) sources.set(path, layer);
  }
  const files = new Map<string, Buffer | string>();
  for (const path of [...sources.keys()].sort()) {
    const raw = await readFile(join(sources.get(path)!, path));
    const target = outputPath(path, context);
    if (path.endsWith(".hbs")) {
      try {
        const text = Handlebars.compile(raw.toString("utf8"), { noEscape: true, strict: true })(context);
        // A template that renders to nothing is a file this project type does not have (e.g. buf.gen.yaml for a bot).
        if (text.trim() !== "") files.set(target, text);
      } catch (cause) {
        throw new Error(`template ${path}: ${(cause as Error).message}`, { cause });
      }
    } else {
      files.set(target, raw);
    }
  }
  return files;
}

/** Whether `dir` does not exist or is an empty directory. */
export async function isFreeTarget(dir: string): Promise<boolean> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) return false;
    return (await readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw error;
  }
}

/**
 * Render a template (one folder, or layers: see {@link renderFiles}) into `targetDir`, which must not exist or be empty.
 * @returns the files written, relative to `targetDir`, sorted.
 * @throws Error when the target is taken (nothing written) or rendering fails (nothing left behind).
 */
export async function renderProject(template: string | readonly string[], targetDir: string, context: object): Promise<FileList> {
  if (!(await isFreeTarget(targetDir))) {
    throw new Error(`${targetDir} already exists and is not empty: choose another name or --dir, or remove it first`);
  }
  const files = await renderFiles(template, context);
  const parent = dirname(targetDir);
  await mkdir(parent, { recursive: true });
  // A sibling on the same filesystem, so the final rename is atomic.
  const temp = await mkdtemp(join(parent, `.${basename(targetDir)}.micro-new-`));
  try {
    for (const [path, content] of files) {
      const full = join(temp, path);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, content);
    }
    if (!(await isFreeTarget(targetDir))) {
      throw new Error(`${targetDir} was created by someone else while rendering; nothing was written`);
    }
    if (existsSync(targetDir)) {
      // An empty directory that exists (perhaps the shell's working directory) is kept, not replaced:
      // move the rendered entries into it, and take them out again if a move fails.
      const moved: string[] = [];
      try {
        for (const entry of await readdir(temp)) {
          await rename(join(temp, entry), join(targetDir, entry));
          moved.push(entry);
        }
      } catch (error) {
        await Promise.all(moved.map((entry) => rm(join(targetDir, entry), { recursive: true, force: true })));
        throw error;
      }
      await rmdir(temp);
    } else {
      await rename(temp, targetDir);
    }
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  return [...files.keys()].sort();
}

/** The file list drawn as a tree, for printing. */
export function formatTree(root: string, files: readonly string[]): string {
  type Node = Map<string, Node>;
  const tree: Node = new Map();
  for (const file of files) {
    let node = tree;
    for (const part of file.split("/")) {
      if (!node.has(part)) node.set(part, new Map());
      node = node.get(part)!;
    }
  }
  const lines = [root];
  const draw = (node: Node, prefix: string) => {
    const entries = [...node.entries()].sort(([a, an], [b, bn]) => Number(bn.size > 0) - Number(an.size > 0) || a.localeCompare(b));
    entries.forEach(([name, child], i) => {
      const last = i === entries.length - 1;
      lines.push(`${prefix}${last ? "└── " : "├── "}${name}${child.size ? "/" : ""}`);
      if (child.size) draw(child, prefix + (last ? "    " : "│   "));
    });
  };
  draw(tree, "");
  return lines.join("\n");
}
