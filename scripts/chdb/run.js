// Runs statements on a current ClickHouse engine in-process (chDB, npm package `chdb`), for the check that
// our SQL answers alike on ClickHouse 18.16 and current releases (query-api's CurrentClickHouseIT).
//
//   node scripts/chdb/run.js JOB.json RESULTS.jsonl
//
// JOB.json: {"module": "/path/to/node_modules/chdb", "dir": "/session/dir", "steps": [{"sql": "..."}, ...]}
// Each step runs in order in one session (so `USE db` carries over); RESULTS.jsonl gets one line per step:
// {"i": N, "ok": true, "result": "..."} or {"i": N, "ok": false, "error": "..."}. A failing step does not
// stop the others: the caller decides what a failure means.
'use strict';
const fs = require('fs');
const [jobFile, resultsFile] = process.argv.slice(2);
if (!jobFile || !resultsFile) {
  console.error('usage: node run.js JOB.json RESULTS.jsonl');
  process.exit(2);
}
const job = JSON.parse(fs.readFileSync(jobFile, 'utf8'));
const { Session } = require(job.module);
const session = new Session(job.dir);
const out = fs.openSync(resultsFile, 'w');
job.steps.forEach((step, i) => {
  let line;
  try {
    const result = session.query(step.sql, 'TabSeparated');
    line = { i, ok: true, result: typeof result === 'string' ? result : String(result) };
  } catch (e) {
    line = { i, ok: false, error: String(e && e.message ? e.message : e) };
  }
  fs.writeSync(out, JSON.stringify(line) + '\n');
});
fs.closeSync(out);
console.log('chdb ' + session.query('SELECT version()', 'TabSeparated').trim() + ': ' + job.steps.length + ' statements');
