import type { NodeDefinition } from './node_definition.js';

/** The executables of a package: name → the module whose default export is the node definition. */
export interface NodeRegistry {
  readonly pkg: string;
  /** executable name → file URL of its module */
  readonly modules: Readonly<Record<string, string>>;
}

export async function loadDefinition(
  registry: NodeRegistry,
  exec: string,
): Promise<{ definition: NodeDefinition; moduleUrl: string }> {
  const moduleUrl = registry.modules[exec];
  if (!moduleUrl) {
    throw new Error(
      `package '${registry.pkg}' has no executable '${exec}' (it has: ${Object.keys(registry.modules).sort().join(', ')})`,
    );
  }
  const definition = ((await import(moduleUrl)) as { default?: NodeDefinition }).default;
  if (!definition?.configure) throw new Error(`${moduleUrl} does not export a node definition as its default`);
  return { definition, moduleUrl };
}
