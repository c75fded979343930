// Builds exactly dist/index.html, dist/assets/app.js and dist/assets/app.css:
// fixed names (the daemon embeds them with include_bytes!), no hashes, no
// sourcemaps, no public dir, one JS chunk and one CSS file.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  publicDir: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    rolldownOptions: {
      output: {
        entryFileNames: "assets/app.js",
        chunkFileNames: "assets/app-[name].js",
        assetFileNames: (info) =>
          (info.names ?? []).some((n) => n.endsWith(".css")) ? "assets/app.css" : "assets/[name][extname]",
      },
    },
  },
});
