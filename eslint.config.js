// Lint rules, including the import boundaries of docs/architecture.md:
// the core never imports a module, the client only the daemon's pure wire leaves.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const restrict = (patterns) => ({ "no-restricted-imports": ["error", { patterns }] });
const NO_MODULES = { group: ["**/modules/**"], message: "core/ is mechanism: it never imports a module" };
const NO_YAML = { group: ["yaml", "js-yaml"], message: "only model/document.ts uses a YAML package (one adapter to swap when yaml 3 drops getIn/setIn)" };
const NO_GIT = { group: ["simple-git", "node:child_process"], message: "only store/git-process.ts starts processes (git, and the store's hooks)" };
const NO_IO = {
  group: ["node:fs", "node:fs/promises", "node:net", "node:child_process", "chokidar", "**/store/**"],
  message: "model/ is pure: no I/O",
};

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "var/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-eval": "error",
      "no-new-func": "error",
    },
  },
  // Later, more specific blocks replace earlier ones for the same files, so each lists all its rules.
  { files: ["daemon/**/*.ts"], rules: restrict([NO_YAML, NO_GIT]) },
  { files: ["daemon/core/**/*.ts"], rules: restrict([NO_MODULES, NO_YAML, NO_GIT]) },
  { files: ["daemon/modules/composition/model/**/*.ts"], ignores: ["**/*.test.ts"], rules: restrict([NO_IO, NO_YAML, NO_GIT]) },
  { files: ["daemon/modules/composition/model/document.ts"], rules: restrict([NO_IO, NO_GIT]) },
  { files: ["daemon/modules/composition/store/git-process.ts"], rules: restrict([NO_YAML]) },
  {
    files: ["client/**/*.ts"],
    rules: restrict([
      {
        regex: "daemon/(?!core/(protocol|framing|errors|suggest|comparison)\\.js$|(config|package-info|foreground)\\.js$)",
        message:
          "the client may import only daemon/core/{protocol,framing,errors,suggest,comparison}.ts, daemon/config.ts, daemon/package-info.ts, and daemon/foreground.ts (pat run: the daemon in pat's own process)",
      },
    ]),
  },
  {
    files: ["**/*.test.ts", "test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      // Tests reach into whatever they test.
      "no-restricted-imports": "off",
    },
  },
  {
    files: ["eslint.config.js"],
    ...tseslint.configs.disableTypeChecked,
  },
);
