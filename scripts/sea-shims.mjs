// Injected into the single executable's CommonJS bundle (scripts/build-binary.mjs, esbuild `inject` + `define`).
//
// - `import.meta.url` of the bundled ESM dependencies (yargs calls createRequire(import.meta.url)): a URL next to the
//   executable, as the ESM build had.
// - `Intl.Segmenter` (string-width and others create one when their module loads): V8 cannot put an Intl object into
//   a startup snapshot, so the modules get this stand-in, which creates the real segmenter on first use at run time
//   (and a throw-away one while the snapshot is being built, e.g. by the warm-up in plugin/main.ts).
const building = require('node:v8').startupSnapshot.isBuildingSnapshot();

export const __seaMetaUrl = require('node:url').pathToFileURL(process.execPath).href + '/main.cjs';

export const __SeaSegmenter = class Segmenter {
  constructor(...args) {
    this.args = args;
  }
  get real() {
    if (building) return new globalThis['Intl']['Segmenter'](...this.args);
    return (this.cached ??= new globalThis['Intl']['Segmenter'](...this.args));
  }
  segment(text) {
    return this.real.segment(text);
  }
  resolvedOptions() {
    return this.real.resolvedOptions();
  }
  static supportedLocalesOf(...args) {
    return globalThis['Intl']['Segmenter'].supportedLocalesOf(...args);
  }
};
