// Preloaded into a benchmarked CLI process (node --import): writes the process's peak
// resident memory (KiB) to $LAMBDA_IMAGE_RSS_OUT when it exits. Replaces GNU time's %M,
// so the benchmark needs nothing outside Node.
import { writeFileSync } from 'node:fs';

const out = process.env.LAMBDA_IMAGE_RSS_OUT;
if (out) process.on('exit', () => writeFileSync(out, String(process.resourceUsage().maxRSS)));
