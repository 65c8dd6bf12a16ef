import type { FieldProblem } from '../errors.js';

/**
 * The most problems one refusal lists. A 1 MiB body of 500,000 list items made an
 * error message of 27 MB (and an answer twice that); past the first few hundred,
 * more of the same helps nobody.
 */
export const MAX_LISTED_PROBLEMS = 200;

/** The first MAX_LISTED_PROBLEMS of `problems`, then one that counts the rest. Pure. */
export function listed(problems: FieldProblem[]): FieldProblem[] {
  if (problems.length <= MAX_LISTED_PROBLEMS) return problems;
  const more = problems.length - MAX_LISTED_PROBLEMS;
  return [...problems.slice(0, MAX_LISTED_PROBLEMS), { path: '(more)', message: `${more} more problem${more === 1 ? '' : 's'} not listed; fix these first` }];
}
