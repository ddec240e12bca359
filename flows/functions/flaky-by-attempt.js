// Fails with a retryable TransientError until the attempt number reaches `succeedOnAttempt`.
export async function handler(event) {
  if (event.attempt < event.succeedOnAttempt) {
    const err = new Error(`attempt ${event.attempt} is too early`);
    err.errorType = 'TransientError';
    throw err;
  }
  return { attempt: event.attempt };
}
