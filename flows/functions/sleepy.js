/**
 * Example local function that resolves after `event.ms` milliseconds (default 100), using a real
 * timer; it clears the timer when `context.signal` aborts.
 */
export function handler(event, context) {
  const ms = event && typeof event.ms === 'number' ? event.ms : 100;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      context.signal.removeEventListener('abort', onAbort);
      resolve({ slept: ms });
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(new Error('sleepy: aborted'));
    }
    context.signal.addEventListener('abort', onAbort, { once: true });
  });
}
