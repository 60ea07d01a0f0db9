// ROS 2 name rules (rcl): expansion of relative and private names, validation, and remapping.

const TOKEN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function validateNodeName(name: string): void {
  if (!TOKEN.test(name))
    throw new Error(`invalid node name '${name}': use letters, digits and underscores, not starting with a digit`);
}

export function normalizeNamespace(ns: string | undefined): string {
  if (!ns || ns === '/') return '/';
  const full = ns.startsWith('/') ? ns : '/' + ns;
  const trimmed = full.replace(/\/+$/, '');
  for (const token of trimmed.slice(1).split('/')) {
    if (!TOKEN.test(token)) throw new Error(`invalid namespace '${ns}': '${token}' is not a valid name token`);
  }
  return trimmed;
}

export function joinNamespace(parent: string, child: string | undefined): string {
  if (!child) return normalizeNamespace(parent);
  if (child.startsWith('/')) return normalizeNamespace(child);
  const p = normalizeNamespace(parent);
  return normalizeNamespace(p === '/' ? '/' + child : `${p}/${child}`);
}

export function fullyQualifiedNodeName(namespace: string, name: string): string {
  const ns = normalizeNamespace(namespace);
  return ns === '/' ? `/${name}` : `${ns}/${name}`;
}

/** Expand a topic name as rcl does: '~' is the node's private namespace, relative names join the namespace. */
export function expandTopicName(topic: string, nodeName: string, namespace: string): string {
  if (!topic) throw new Error('empty topic name');
  const ns = normalizeNamespace(namespace);
  let full: string;
  if (topic === '~' || topic.startsWith('~/')) full = fullyQualifiedNodeName(ns, nodeName) + topic.slice(1);
  else if (topic.startsWith('/')) full = topic;
  else full = ns === '/' ? `/${topic}` : `${ns}/${topic}`;
  const tokens = full.slice(1).split('/');
  if (full.endsWith('/') || tokens.some((t) => !TOKEN.test(t))) {
    throw new Error(`invalid topic name '${topic}' (expanded to '${full}')`);
  }
  return full;
}

export interface RemapRule {
  from: string;
  to: string;
}

/**
 * Apply remap rules to a fully qualified topic name. Rules are expanded in the node's namespace
 * before matching, and the first match wins, as in rcl.
 */
export function remapTopic(fullName: string, rules: readonly RemapRule[], nodeName: string, namespace: string): string {
  for (const rule of rules) {
    if (rule.from.startsWith('__')) continue; // __node, __ns are node-name remaps, handled at creation
    if (expandTopicName(rule.from, nodeName, namespace) === fullName)
      return expandTopicName(rule.to, nodeName, namespace);
  }
  return fullName;
}
