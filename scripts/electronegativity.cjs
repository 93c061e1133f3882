// Runs @doyensec/electronegativity over the app's code (main, preload and the renderer's page) and fails on any
// finding above informational. The tool requires `commander` without declaring it and expects the
// v6 API, so its require is pointed at commander@6 (installed as commander-v6).
const Module = require('node:module');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

/** Splits CSV text into records, keeping newlines that sit inside quoted fields. */
function csvRecords(text) {
  const records = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === '\n' && !quoted) {
      if (current.trim()) records.push(current.replace(/\s+/g, ' '));
      current = '';
    } else current += ch;
  }
  if (current.trim()) records.push(current.replace(/\s+/g, ' '));
  return records;
}

if (process.argv[2] === '--run') {
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, ...rest) {
    if (request === 'commander' && parent && parent.filename.includes('electronegativity')) request = 'commander-v6';
    return resolve.call(this, request, parent, ...rest);
  };
  // Its CSV writer starts the header write ('w') and the rows' append ('a') without waiting for either:
  // when the append lands first, the header overwrites the start of the rows. Make its writes synchronous.
  const fs = require('node:fs');
  fs.writeFile = (file, data, opts, cb) => {
    if (typeof opts === 'function') [cb, opts] = [opts, undefined];
    try {
      fs.writeFileSync(file, data, opts);
      cb?.(null);
    } catch (err) {
      cb?.(err);
    }
  };
  process.argv.splice(2, 1);
  require('@doyensec/electronegativity/dist/index.js');
} else {
  const fs = require('node:fs');
  const os = require('node:os');
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'electronegativity-')), 'report.csv');
  const root = path.resolve(__dirname, '..');
  // The built app, as Electron loads it: the bundled main and preload, and the page with its CSP.
  const build = spawnSync(process.execPath, [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) {
    process.stderr.write(build.stdout + build.stderr);
    process.exit(1);
  }
  // PreloadJSCheck (PRELOAD_JS_CHECK) only asks that preload scripts be reviewed: ours exposes nothing but the typed
  // Host API through contextBridge (src/preload/api.ts), with zod-checked IPC behind it.
  const excluded = ['PreloadJSCheck'];
  // Findings reviewed and accepted, matched by check and file, each with the reason.
  const reviewed = [
    {
      check: 'CSP_GLOBAL_CHECK',
      file: 'renderer/index.html',
      why: "the bundled csp-evaluator predates CSP3's 'wasm-unsafe-eval' (Chromium needs it to compile the tfjs WebAssembly) and warns that 'self' could host JSONP or uploads; app:// serves only the bundled app",
    },
  ];
  console.log(`electronegativity: excluded after review: ${excluded.join(', ')}`);
  let failed = false;
  for (const dir of ['out']) {
    const r = spawnSync(process.execPath, [__filename, '--run', '-i', path.join(root, dir), '-o', out, '-x', excluded.join(','), '-s', 'low', '-r', '-e', require('../package.json').optionalDependencies.electron.replace(/^[^0-9]*/, '')], { encoding: 'utf8' });
    process.stdout.write(r.stdout.replace(/Could not retrieve updated translations.*\n/, ''));
    if (r.status !== 0) {
      process.stderr.write(r.stderr);
      failed = true;
    }
    const text = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
    if (!text.startsWith('issue,')) {
      console.log(`electronegativity ${dir}: its report does not start with the CSV header:\n${text.slice(0, 300)}`);
      failed = true;
    }
    const rows = csvRecords(text).slice(1);
    const accepted = (row) => reviewed.find((r) => row.startsWith(`${r.check},`) && row.includes(`"${r.file}"`));
    for (const row of rows.filter(accepted)) console.log(`  reviewed: ${row.split(',')[0]} in ${accepted(row).file}: ${accepted(row).why}`);
    const serious = rows.filter((row) => !/,"?INFORMATIONAL"?,/i.test(row) && !accepted(row));
    console.log(`electronegativity ${dir}: ${rows.length} finding(s), ${serious.length} above informational and not reviewed`);
    for (const row of serious) console.log(`  ${row}`);
    if (serious.length) failed = true;
  }
  process.exit(failed ? 1 : 0);
}
