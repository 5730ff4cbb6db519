/** The extension's entry in desktop VS Code (Node extension host). */
export { activate, deactivate } from './activation';
