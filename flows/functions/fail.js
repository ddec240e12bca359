/**
 * Example local function that always fails. The thrown error's `errorType` becomes the error
 * name flows match in Retry/Catch (`Errors: [ValidationError]`).
 */
export function handler(event) {
  const error = new Error(`invalid input: ${JSON.stringify(event)}`);
  error.errorType = 'ValidationError';
  throw error;
}
