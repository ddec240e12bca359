/** Types of `jq-web` (which ships none): a promise of the loaded jq module. */
declare module 'jq-web' {
  export interface JqWeb {
    /** Runs `filter` on the JSON text `input` like the jq CLI; returns stdout (throws on a non-zero exit). */
    raw(input: string, filter: string, flags?: string[]): string | undefined;
    /** Runs `filter` on a value; several outputs are concatenated into one array (lossy). */
    json(input: unknown, filter: string): unknown;
  }
  const jq: Promise<JqWeb>;
  export default jq;
}
