/**
 * The documentation a newcomer follows: every link in the README and docs/ leads somewhere, and every
 * topic file is reachable from both indexes (the README's table and docs/README.md).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { ROOT } from "./harness";

const DOCS = path.join(ROOT, "docs");
const pages = [
  "README.md",
  ...readdirSync(DOCS)
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const read = (page: string) => readFileSync(path.join(ROOT, page), "utf8");

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens (code fences skipped). */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (heading) {
      anchors.add(
        heading[1]
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\- ]/gu, "")
          .replace(/ /g, "-"),
      );
    }
  }
  return anchors;
}

/** Relative links of a page, outside code: [text](target). */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/.test(t));
}

describe("documentation", () => {
  it.each(pages)("%s: every relative link names an existing file and heading", (page) => {
    const broken = linksOf(read(page)).filter((target) => {
      const [file, anchor] = target.split("#");
      const resolved = file ? path.join(path.dirname(path.join(ROOT, page)), file) : path.join(ROOT, page);
      if (!existsSync(resolved)) return true;
      return anchor !== undefined && resolved.endsWith(".md") && !anchorsOf(readFileSync(resolved, "utf8")).has(anchor);
    });
    expect(broken).toEqual([]);
  });

  it("lists every docs/ page in docs/README.md and in the README's documentation table", () => {
    const topics = readdirSync(DOCS).filter((f) => f.endsWith(".md") && f !== "README.md");
    const index = linksOf(read("docs/README.md")).map((t) => t.split("#")[0]);
    const front = linksOf(read("README.md")).map((t) => t.split("#")[0]);
    expect(topics.filter((f) => !index.includes(f))).toEqual([]);
    expect(topics.filter((f) => !front.includes(`docs/${f}`))).toEqual([]);
  });
});
