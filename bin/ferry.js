#!/usr/bin/env node
// Kept for `node bin/ferry.js` in scripts written before bin/ferry.cjs, the entry
// package.json's "bin" and the release launcher run (it starts faster: see there).
import './ferry.cjs';
