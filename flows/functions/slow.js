/**
 * Example local function that never finishes on its own: it waits until `context.signal` aborts
 * (the Task timed out or was cancelled), counts that it was told, and rejects.
 */
export const observed = { started: 0, aborted: 0 };

export function handler(_event, context) {
  observed.started += 1;
  return new Promise((_resolve, reject) => {
    const onAbort = () => {
      observed.aborted += 1;
      reject(new Error('slow: aborted'));
    };
    if (context.signal.aborted) onAbort();
    else context.signal.addEventListener('abort', onAbort, { once: true });
  });
}
