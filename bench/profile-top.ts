/**
 * `npx tsx bench/profile-top.ts <file.cpuprofile> [N]`: where the busy time of a V8 CPU profile
 * (as written by `node --cpu-prof`) goes. Prints the N (default 30) functions with the most self
 * time, self time by area (flowrun's src/, each package, Node's internals, GC), and the
 * inclusive time of flowrun's own functions. Percentages are of the non-idle samples.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const file = process.argv[2];
const top = Number(process.argv[3] ?? 30);
if (!file) {
  console.error('usage: npx tsx bench/profile-top.ts <file.cpuprofile> [N]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

function where(url: string): string {
  if (url === '') return '';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (pkg) return `${pkg[1]}/${pkg[2]}`;
  const own = /\/((?:src|bench|dist)\/.*)$/.exec(url);
  if (own) return own[1] as string;
  return url;
}
function area(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : 'native';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/(?:src|dist)\/([^/]+)\//.exec(url);
  return own ? `flowrun src/${own[1]}` : url;
}
const label = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}`.trim();

const self = new Map<string, number>();
const areas = new Map<string, number>();
const inclusive = new Map<string, number>();
let busy = 0;
for (const id of profile.samples) {
  const node = nodes.get(id);
  if (!node || node.callFrame.functionName === '(idle)') continue;
  busy++;
  self.set(label(node), (self.get(label(node)) ?? 0) + 1);
  const a = area(node.callFrame.url, node.callFrame.functionName);
  areas.set(a, (areas.get(a) ?? 0) + 1);
  const seen = new Set<string>();
  for (let cur: ProfileNode | undefined = node; cur; cur = nodes.get(parent.get(cur.id) ?? -1)) {
    if (!/\/(src|dist)\//.test(cur.callFrame.url) || /node_modules/.test(cur.callFrame.url)) continue;
    const l = label(cur);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + 1);
  }
}
const pct = (n: number): string => `${((n / busy) * 100).toFixed(1).padStart(5)}%`;
const print = (title: string, m: Map<string, number>, n: number): void => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(v)}  ${k}`);
};
console.log(`${profile.samples.length} samples, ${busy} busy (${((busy / profile.samples.length) * 100).toFixed(1)}%); percentages of busy samples`);
print('self time by function', self, top);
print('self time by area', areas, 15);
print("inclusive time of flowrun's functions", inclusive, 20);
