/**
 * Loaded before every test file: a Node warning (a deprecation, a library
 * warning on stderr) fails the run instead of scrolling past in the output.
 * A test that provokes one on purpose captures it (issue 16: quiet tests).
 */
process.on("warning", (warning) => {
  throw new Error(`a Node warning was printed during the tests: ${warning.name}: ${warning.message}`);
});
