/**
 * Example local function for FC:InvokeFunction (`functionName: greet`).
 * event: { name?: string } → { greeting, functionName }
 */
export async function handler(event, context) {
  const name = event && typeof event.name === 'string' ? event.name : 'world';
  return { greeting: `Hello, ${name}!`, functionName: context.functionName };
}
