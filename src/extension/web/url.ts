/** Node's `url` module as @vscode/debugadapter uses it (only `URL`), for the browser bundle. */
export const URL = globalThis.URL;
export default { URL };
