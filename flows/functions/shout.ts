/**
 * Example local function written in TypeScript. `.ts` functions load only under a TypeScript
 * loader: the `flowrun` CLI (tsx) or vitest; plain `node` loads `.js`/`.mjs` functions only.
 */
interface ShoutEvent {
  text?: string;
}

export default function shout(event: ShoutEvent | null): { text: string } {
  return { text: (event?.text ?? '').toUpperCase() };
}
