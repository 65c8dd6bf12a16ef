/**
 * How the count cap of the request history (`history.maxRecords`) is shared among the
 * apps: pure decisions, no database. Cutting the oldest records of all apps together let
 * one flooded app (an attacker, a crawler) push every other app's history out within
 * minutes. Instead the cap is filled level by level: every app keeps its newest record,
 * then its second newest, and so on, until maxRecords are kept (max-min fairness). An app
 * with fewer records than that level keeps all of them; the largest apps give way first.
 * Where the last level does not fit whole, the newer of those records are kept. With one
 * app this is exactly "the newest maxRecords"; the total stays bounded by maxRecords.
 */

/** An app's record count. */
export interface AppCount {
  app: string;
  count: number;
}

/** The (time, id) of one record: where an app's history is cut. */
export interface RecordKey {
  time: number;
  id: number;
}

/** Delete the records of `app` strictly older than (time, id), in (time, id) order. */
export interface HistoryCut extends RecordKey {
  app: string;
  /** How many records that deletes (as counted: records written since are newer, or another gateway pruned some). */
  excess: number;
}

/**
 * The level: each app keeps min(count, level) of its newest records, and `spare` of the
 * apps with more than `level` keep one more. Undefined when all records fit (nothing to cut).
 */
export function fairLevel(counts: readonly AppCount[], maxRecords: number): { level: number; spare: number } | undefined {
  let total = 0;
  for (const c of counts) total += c.count;
  if (total <= maxRecords) return undefined;
  // Smallest apps first: each that fits under an equal split of what is left keeps all it has.
  const sorted = counts.map((c) => c.count).sort((x, y) => x - y);
  let left = maxRecords;
  for (let i = 0; i < sorted.length; i++) {
    const apps = sorted.length - i;
    const share = Math.floor(left / apps);
    const count = sorted[i]!;
    if (count > share) return { level: share, spare: left - share * apps };
    left -= count;
  }
  // Unreachable: the counts add up to more than maxRecords, so some app exceeds its share.
  return { level: maxRecords, spare: 0 };
}

/** The apps that hold more records than the level: the ones that lose some. */
export function appsOverLevel(counts: readonly AppCount[], level: number): AppCount[] {
  return counts.filter((c) => c.count > level);
}

/**
 * Where to cut each app over the level, given its record at that rank (`atLevel`: its
 * (level+1)-th newest, 0-based offset `level`). The `spare` apps whose record there is the
 * newest keep it (cut strictly before it); the others lose it too (cut at it, inclusive:
 * before (time, id + 1), ids being whole numbers). An app that no longer has that many
 * records (another gateway pruned it meanwhile) has nothing to cut.
 */
export function historyCuts(over: readonly AppCount[], atLevel: ReadonlyMap<string, RecordKey>, level: number, spare: number): HistoryCut[] {
  const found = over.flatMap((c) => {
    const key = atLevel.get(c.app);
    return key ? [{ ...c, key }] : [];
  });
  const newestFirst = [...found].sort((x, y) => y.key.time - x.key.time || y.key.id - x.key.id);
  const keepsOneMore = new Set(newestFirst.slice(0, spare).map((f) => f.app));
  return found.map(({ app, count, key }) => {
    const keep = keepsOneMore.has(app) ? level + 1 : level;
    return { app, time: key.time, id: keepsOneMore.has(app) ? key.id : key.id + 1, excess: Math.max(1, count - keep) };
  });
}

/**
 * The cuts in groups of about `chunk` records each, for one delete statement at a time:
 * every statement seeks only its own group's apps, so 10,000 apps over the level cost
 * 10,000 seeks in all, not per chunk. An app with more than a chunk to go is a group of its own.
 */
export function cutGroups(cuts: readonly HistoryCut[], chunk: number): HistoryCut[][] {
  const groups: HistoryCut[][] = [];
  let group: HistoryCut[] = [];
  let size = 0;
  for (const cut of cuts) {
    if (group.length > 0 && size + cut.excess > chunk) {
      groups.push(group);
      group = [];
      size = 0;
    }
    group.push(cut);
    size += cut.excess;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
