// Copy the front-end packages the pages use from node_modules into static/vendor/ (see vendor.json).
// Run from the repository root after `npm ci`: `npm run vendor`.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const manifest = JSON.parse(readFileSync(join(here, "vendor.json"), "utf8"));
const target = join(here, "static", "vendor");
let missing = 0;
for (const [to, from] of Object.entries(manifest.files)) {
  const source = join(root, from);
  if (!existsSync(source)) {
    console.error(`缺少 ${from}：请先运行 npm ci`);
    missing += 1;
    continue;
  }
  mkdirSync(dirname(join(target, to)), { recursive: true });
  copyFileSync(source, join(target, to));
}
if (missing) process.exit(1);
writeFileSync(join(target, ".stamp"), new Date().toISOString() + "\n");
console.log(`前端依赖已复制到 ${target}（${Object.keys(manifest.files).length} 个文件）`);
