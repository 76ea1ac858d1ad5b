/**
 * `pat completion bash|zsh|fish`: the scripts a shell sources. Each only
 * hands the words typed to `pat __complete` and shows what it prints
 * (completion.ts decides); a first line `:file` or `:dir` asks for the
 * shell's own file-name completion.
 */
import { UsageError } from "./args.js";
import { EXIT, type Cli } from "./context.js";
import { DIR_DIRECTIVE, FILE_DIRECTIVE } from "./completion.js";

const BASH = `# bash completion for pat (patternd). Load it with: source <(pat completion bash)
_pat_complete() {
  local words=() word i
  # bash splits words at : and = (COMP_WORDBREAKS), which event names and path=value hold: join them back.
  for ((i = 1; i <= COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if ((\${#words[@]} > 0)) && [[ $word == [:=] || \${COMP_WORDS[i-1]} == [:=] ]]; then
      words[\${#words[@]}-1]+=$word
    else
      words+=("$word")
    fi
  done
  local cur=\${words[\${#words[@]}-1]}
  local candidates=()
  mapfile -t candidates < <("\${COMP_WORDS[0]}" __complete "\${words[@]}" 2>/dev/null)
  case \${candidates[0]-} in
    ${FILE_DIRECTIVE}) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    ${DIR_DIRECTIVE}) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
  esac
  # Readline replaces only what follows the last : or = of the word.
  if [[ $cur == *[:=]* ]]; then
    local head=\${cur%"\${cur##*[:=]}"}
    candidates=("\${candidates[@]#"$head"}")
  fi
  COMPREPLY=("\${candidates[@]}")
}
complete -F _pat_complete pat patternd
`;

const ZSH = `#compdef pat patternd
# zsh completion for pat (patternd). Load it with: source <(pat completion zsh)  (after compinit)
_pat() {
  local -a candidates
  candidates=("\${(@f)$("\${words[1]}" __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  candidates=(\${candidates:#})
  case \${candidates[1]-} in
    ${FILE_DIRECTIVE}) _files ;;
    ${DIR_DIRECTIVE}) _files -/ ;;
    *) (( \${#candidates} )) && compadd -Q -- "\${candidates[@]}" ;;
  esac
}
if (( $+functions[compdef] )); then
  compdef _pat pat patternd
fi
`;

const FISH = `# fish completion for pat (patternd). Load it with: pat completion fish | source
function __pat_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    set -l program $words[1]
    set -e words[1]
    set -l candidates ($program __complete $words $current 2>/dev/null)
    switch "$candidates[1]"
        case ${FILE_DIRECTIVE}
            __fish_complete_path $current
        case ${DIR_DIRECTIVE}
            __fish_complete_directories $current
        case '*'
            printf '%s\\n' $candidates
    end
end
complete -c pat -f -a '(__pat_complete)'
complete -c patternd -f -a '(__pat_complete)'
`;

export const COMPLETION_SCRIPTS: Readonly<Record<string, string>> = { bash: BASH, zsh: ZSH, fish: FISH };

export function printCompletionScript(cli: Cli): Promise<number> {
  const { positionals, pairs } = cli.argv;
  const shell = positionals[0];
  if (pairs.length > 0 || positionals.length !== 1 || shell === undefined || !Object.hasOwn(COMPLETION_SCRIPTS, shell)) {
    throw new UsageError(`pat completion needs one shell: bash, zsh or fish, e.g. source <(pat completion bash)`);
  }
  process.stdout.write(COMPLETION_SCRIPTS[shell]!);
  return Promise.resolve(EXIT.ok);
}
