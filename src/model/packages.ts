/** Names of installed Python distributions, as slimpy compares them everywhere. */

/** PEP 503: lower case, and every run of `-`, `_` and `.` as one `-` (`Foo_Bar.baz` → `foo-bar-baz`). */
export function normalizePackageName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}
