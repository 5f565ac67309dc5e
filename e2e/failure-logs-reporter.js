/**
 * A Jest reporter for the end-to-end files: when a file has a failed test, it prints the warnings
 * and errors the services logged (e2e/logs) while that file ran, a few lines per service, so that
 * a failure in CI, where the logs are not kept, says what the services saw.
 */
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const LINES_PER_SERVICE = 8;
const MAX_CHARS = 400;

class FailureLogsReporter {
  onTestResult(_test, result) {
    if (!result.numFailingTests) return;
    const dir = join(__dirname, 'logs');
    let files = [];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.log'));
    } catch {
      return;
    }
    const from = result.perfStats.start;
    const out = [];
    for (const file of files.sort()) {
      const lines = readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .filter((line) => /"level":"(warn|error)"/.test(line))
        .filter((line) => {
          const at = Date.parse(/"time":"([^"]+)"/.exec(line)?.[1] ?? '');
          return Number.isFinite(at) && at >= from;
        });
      if (lines.length === 0) continue;
      out.push(`-- ${file}: ${lines.length} warnings and errors, the last ${LINES_PER_SERVICE}:`);
      for (const line of lines.slice(-LINES_PER_SERVICE)) out.push(line.slice(0, MAX_CHARS));
    }
    if (out.length)
      process.stderr.write(
        `\nservice logs while ${result.testFilePath.split('/').pop()} ran:\n${out.join('\n')}\n`,
      );
  }
}

module.exports = FailureLogsReporter;
