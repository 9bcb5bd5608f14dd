// A second line of defence against request splitting: a value written into a request head (the path, Host, the
// user agent) that holds CR, LF or NUL would end its line and let whoever chose it write headers or a second
// request of their own. The config and the API validate host names and paths first; the probes check again here,
// just before a request head is built, and refuse to send rather than send something else.

const LINE_BREAKING = /[\r\n\0]/;

/**
 * Why a request head with these values must not be sent (naming the first bad field, never echoing the value), or
 * null when every value is safe to write.
 */
export function unsafeRequestHead(fields: Readonly<Record<string, string>>): string | null {
  for (const [name, value] of Object.entries(fields)) {
    if (LINE_BREAKING.test(value)) return `refused to send the request: its ${name} contains a CR, LF or NUL character (request splitting)`;
  }
  return null;
}
