// Bundles src/index.js into one browser script that sets the global `ShopRealtime`.
// Usage: node build.mjs [outfile]   (default dist/shop-realtime.js)
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outfile = path.resolve(process.argv[2] || path.join(here, "dist", "shop-realtime.js"));

await build({
  entryPoints: [path.join(here, "src", "index.js")],
  outfile,
  bundle: true,
  format: "iife",
  globalName: "ShopRealtime",
  platform: "browser",
  target: "chrome110",
  minify: false,
  // Some dependencies still say `global`; no buffer/process polyfill is needed (mqtt's browser
  // build ships its own).
  define: { global: "globalThis" },
  logLevel: "warning",
});
console.log(`built ${outfile}`);
