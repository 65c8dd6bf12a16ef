/**
 * The path prefixes of one host, as a trie of whole segments, so the longest
 * matching prefix is found by walking the request path once: the cost of a lookup
 * grows with the depth of the path, never with the number of routes.
 *
 * It answers exactly what a scan of the prefixes longest-first would (see
 * `remainderAfterPrefix`): a prefix `/a/b/` matches `/a/b`, `/a/b/…` and `/a/b?…`;
 * of several matches the longest wins, and of equal ones the first added.
 */

interface TrieNode<E> {
  children?: Map<string, TrieNode<E>>;
  entry?: E;
  /** Order of addition of `entry`: the first added wins a tie. */
  order?: number;
}

export class PathTrie<E extends { prefix: string }> {
  private readonly root: TrieNode<E> = {};
  private added = 0;

  /** `entry.prefix` is normalised: starts and ends with `/`. An equal prefix added before keeps its place. */
  add(entry: E): void {
    let node = this.root;
    const { prefix } = entry;
    // Segments between the slashes: "/a/b/" → "a", "b"; "/" → none.
    let from = 1;
    while (from < prefix.length) {
      const slash = prefix.indexOf('/', from);
      const end = slash < 0 ? prefix.length : slash;
      const segment = prefix.slice(from, end);
      node.children ??= new Map();
      let child = node.children.get(segment);
      if (!child) node.children.set(segment, (child = {}));
      node = child;
      from = end + 1;
    }
    if (node.entry === undefined) {
      node.entry = entry;
      node.order = this.added;
    }
    this.added++;
  }

  /** The entry of the longest prefix that matches `path` (path and query), if any. */
  match(path: string): E | undefined {
    const root = this.root;
    let best: TrieNode<E> | undefined = root.entry !== undefined ? root : undefined;
    if (path.charCodeAt(0) !== 47 /* / */) return best?.entry;
    let node: TrieNode<E> | undefined = root;
    let from = 1;
    while (node.children !== undefined) {
      const slash = path.indexOf('/', from);
      const end = slash < 0 ? path.length : slash;
      const segment = path.slice(from, end);
      // A prefix without its slash followed by a query: `/a/b/` matches `/a/b?q` (and `?` may sit in a prefix too).
      for (let q = segment.indexOf('?'); q >= 0; q = segment.indexOf('?', q + 1)) best = better(best, node.children.get(segment.slice(0, q)));
      node = node.children.get(segment);
      if (node === undefined) break;
      if (node.entry !== undefined) best = better(best, node);
      if (slash < 0) break;
      from = slash + 1;
    }
    return best?.entry;
  }
}

/** The node whose prefix wins: the longer, or of equal ones the first added. */
function better<E extends { prefix: string }>(best: TrieNode<E> | undefined, node: TrieNode<E> | undefined): TrieNode<E> | undefined {
  if (node?.entry === undefined) return best;
  if (best === undefined) return node;
  const a = node.entry.prefix.length;
  const b = best.entry!.prefix.length;
  return a > b || (a === b && node.order! < best.order!) ? node : best;
}
