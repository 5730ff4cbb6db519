/** The extension's entry in VS Code for the Web (browser extension host, no Node APIs). */
export { activate, deactivate } from './activation';
