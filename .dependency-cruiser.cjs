/**
 * The rooms of src/ and the one rule between them: a room imports only from rooms below it
 * (docs/architecture.md). `npm run lint` runs this; CI fails on a cycle or an upward import.
 */
const ROOMS = [
  ['model', '^src/model/'],
  ['dockerfile', '^src/dockerfile/'],
  ['engine', '^src/engine/'],
  ['measure', '^src/measure/'],
  ['slim', '^src/slim/'],
  ['smoke', '^src/smoke/'],
  ['report', '^src/report/'],
  ['history', '^src/history/'],
  ['pipeline', '^src/pipeline/'],
  ['run', '^src/(session|runner-event|inputs|cancel|state|cli-flags)\\.ts$'],
  ['front ends', '^src/(main|cli|index|post)\\.ts$'],
];
// dockerfile and engine share a rank: neither imports the other.
const RANK = { model: 0, dockerfile: 1, engine: 1, measure: 2, slim: 3, smoke: 4, report: 5 };
const rank = (name, index) => RANK[name] ?? index;

const upward = ROOMS.flatMap(([name, path], index) => {
  const above = ROOMS.filter(([other], j) => rank(other, j) > rank(name, index));
  if (above.length === 0) return [];
  return [
    {
      name: `no-upward-import-from-${name.replace(' ', '-')}`,
      comment: `${name} is below ${above.map(([other]) => other).join(', ')}: it must not import from them.`,
      severity: 'error',
      from: { path },
      to: { path: above.map(([, p]) => p) },
    },
  ];
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: the rooms must form a one-way chain.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'same-rank-rooms-stay-apart',
      comment: 'dockerfile and engine are independent: measure and the pipeline combine them.',
      severity: 'error',
      from: { path: '^src/(dockerfile|engine)/' },
      to: { path: '^src/(dockerfile|engine)/', pathNot: '^src/$1/' },
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
