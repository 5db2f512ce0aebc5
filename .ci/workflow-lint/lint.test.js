// The workflow lint's own rules, each shown to catch what it is for (node --test).
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const { projectProblems, actionlintProblems } = require("./lint.js");

const CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683";

function workflow(steps, top = "permissions: {}\n") {
  return `name: t\non: push\n${top}jobs:\n  j:\n    runs-on: ubuntu-24.04\n    steps:\n${steps}`;
}

test("a workflow that keeps every rule has no problem", () => {
  const text = workflow(`      - uses: ${CHECKOUT} # v4.2.2\n        with:\n          persist-credentials: false\n      - run: echo ok\n`);
  assert.deepStrictEqual(projectProblems(text), []);
});

test("a workflow without top-level permissions: {} is refused", () => {
  const text = workflow("      - run: echo ok\n", "permissions:\n  contents: write\n");
  assert.deepStrictEqual(projectProblems(text).map((p) => p.message),
    ["no top-level `permissions: {}`: jobs must ask for what they need"]);
});

test("an action pinned by a tag or a short SHA is refused, a local one is not", () => {
  const text = workflow([
    "      - uses: actions/setup-java@v4",
    "      - uses: 'actions/cache@1bd1e32'",
    "      - uses: ./.github/actions/local",
    ""].join("\n"));
  assert.deepStrictEqual(projectProblems(text), [
    { line: 8, message: "actions/setup-java@v4 is not pinned by a full commit SHA" },
    { line: 9, message: "actions/cache@1bd1e32 is not pinned by a full commit SHA" },
  ]);
});

test("a checkout that keeps its credentials is refused, wherever its with: is", () => {
  const kept = workflow(`      - name: checkout\n        uses: ${CHECKOUT}\n      - run: echo persist-credentials: false\n`);
  assert.deepStrictEqual(projectProblems(kept).map((p) => p.line), [9]);
  const named = workflow(`      - name: checkout\n        with:\n          persist-credentials: false\n        uses: ${CHECKOUT}\n`);
  assert.deepStrictEqual(projectProblems(named), []);
});

test("actionlint reports what is wrong in the workflow itself", async () => {
  const text = workflow("      - run: echo ${{ matrix.missing }}\n");
  const problems = await actionlintProblems(text.replace("ubuntu-24.04", "windows-2099"), "t.yml");
  assert.strictEqual(problems.length, 2, JSON.stringify(problems));
  assert.match(problems[0].message, /label "windows-2099" is unknown/);
  assert.match(problems[1].message, /property "missing" is not defined/);
});
