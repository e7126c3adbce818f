#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (one intra-op thread) on .npy inputs and writes each output
// as OUTDIR/<name>.npy; with --bench SECONDS prints {"median_ms","p90_ms","runs","peak_rss_mb"}.
//   node ort_run.js MODEL.onnx --input NAME=FILE.npy ... [--out DIR] [--bench S] [--threads N]
// With --serve it stays up for interleaved benchmarks: each line "run K" (K runs) or "run_for S"
// (runs for S seconds) on stdin answers one line {"ms":[...]} on stdout; "rss" answers the peak
// resident memory; "quit" (or end of input) exits.
'use strict';
const path = require('path');
const ort = require('onnxruntime-node');
const { readNpy, writeNpy } = require('./npy');

// Peak resident memory in MiB: VmHWM (ru_maxrss survives exec, so a child of a big process would
// report its parent's peak).
function peakRssMb() {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch (e) {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS / 1024;
}

function parseArgs(argv) {
  const args = { model: null, inputs: {}, out: null, bench: 0, threads: 1 };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--input') {
      const [name, file] = argv[++i].split('=');
      args.inputs[name] = file;
    } else if (a === '--out') args.out = argv[++i];
    else if (a === '--bench') args.bench = Number(argv[++i]);
    else if (a === '--threads') args.threads = Number(argv[++i]);
    else if (a === '--serve') args.serve = true;
    else if (!args.model) args.model = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!args.model) throw new Error('usage: ort_run.js MODEL.onnx --input NAME=FILE.npy ... [--out DIR] [--bench S]');
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(args.model, {
    intraOpNumThreads: args.threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = {};
  for (const [name, file] of Object.entries(args.inputs)) {
    const t = readNpy(file);
    feeds[name] = new ort.Tensor(t.type, t.data, t.shape);
  }
  if (args.serve) {
    await session.run(feeds);
    const readline = require('readline');
    const rl = readline.createInterface({ input: process.stdin });
    console.log(JSON.stringify({ ready: true }));
    for await (const line of rl) {
      const [cmd, count] = line.trim().split(/\s+/);
      if (cmd === 'quit') break;
      if (cmd === 'rss') {
        console.log(JSON.stringify({ peak_rss_mb: peakRssMb() }));
        continue;
      }
      // "run K": K runs; "run_for S": runs for S seconds (at least one).
      const ms = [];
      const start = process.hrtime.bigint();
      const budget = cmd === 'run_for' ? Number(count) : 0;
      for (let i = 0; cmd === 'run_for' ? (i === 0 || Number(process.hrtime.bigint() - start) / 1e9 < budget) : i < Number(count || 1); ++i) {
        const t0 = process.hrtime.bigint();
        await session.run(feeds);
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      console.log(JSON.stringify({ ms }));
    }
    rl.close();
    return;
  }
  if (args.bench > 0) {
    await session.run(feeds);
    const times = [];
    const start = process.hrtime.bigint();
    do {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    } while (Number(process.hrtime.bigint() - start) / 1e9 < args.bench || times.length < 3);
    times.sort((a, b) => a - b);
    const pick = (q) => times[Math.min(times.length - 1, Math.round(q * (times.length - 1)))];
    const rss = peakRssMb();
    console.log(JSON.stringify({ median_ms: pick(0.5), p90_ms: pick(0.9), runs: times.length, peak_rss_mb: rss }));
    return;
  }
  const results = await session.run(feeds);
  for (const name of session.outputNames) {
    const t = results[name];
    if (args.out) writeNpy(path.join(args.out, name.replace(/\//g, '_') + '.npy'), t.type, t.dims, t.data);
  }
}

main().catch((e) => {
  console.error(`ort_run: ${e.message}`);
  process.exit(1);
});
