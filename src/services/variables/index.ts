/**
 * The variable service: {@link VariableManager}, {@link VariableContext},
 * {@link VariableManagerAdapter} and their types.
 *
 * @module
 */
export { VariableManager } from './variable-manager.js';
export type { VariableManagerOptions } from './variable-manager.js';
export { VariableContext } from './variable-context.js';
export type { VariableContextOptions } from './variable-context.js';
export { VariableManagerAdapter } from './adapter.js';
export type { VariableManagerAdapterOptions } from './adapter.js';
export { VARIABLE_STATE_FORMAT_VERSION } from './variable-state.js';
export type { VariableState } from './variable-state.js';
export type {
  ContextOptions,
  GetVariableOptions,
  ListVariablesOptions,
  SetVariableOptions,
  VariableEntry,
  VariableDeletedEvent,
  VariableDeletedHandler,
  VariableEvent,
  VariableEventHandler,
  VariableMetadata,
} from './types.js';
