/** The engine worker's script (dist/web/engine.js): an EngineEndpoint on the worker's own message port. */
import { EngineEndpoint } from './engineEndpoint';
import type { FromEngine, MessagePort } from './engineProtocol';

const scope = globalThis as unknown as MessagePort<unknown, FromEngine>;
const endpoint = new EngineEndpoint((m) => scope.postMessage(m));
scope.onmessage = (event) => endpoint.receive(event.data);
