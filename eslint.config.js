// Lint rules, including the import boundaries of docs/architecture.md:
// the core never imports a module, the client only the daemon's pure wire leaves.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const restrict = (patterns) => ({ "no-restricted-imports": ["error", { patterns }] });

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
  {
    files: ["daemon/core/**/*.ts"],
    rules: restrict([{ group: ["**/modules/**"], message: "core/ is mechanism: it never imports a module" }]),
  },
  {
    files: ["client/**/*.ts"],
    rules: restrict([
      {
        regex: "daemon/(?!core/(protocol|framing|errors|suggest)\\.js$|config\\.js$)",
        message: "the client may import only daemon/core/{protocol,framing,errors,suggest}.ts and daemon/config.ts",
      },
    ]),
  },
  {
    files: ["**/*.test.ts", "test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
    },
  },
  {
    files: ["eslint.config.js"],
    ...tseslint.configs.disableTypeChecked,
  },
);
