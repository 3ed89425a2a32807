# Bash completion for d2b-console. Load it with:  source scripts/d2b-console-completion.bash
# (or copy it to ~/.local/share/bash-completion/completions/d2b-console).
# tests/test_packaging.py checks that these options match the CLI's.

_d2b_console() {
    local cur prev
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    case "$prev" in
        --stage)
            mapfile -t COMPREPLY < <(compgen -W "prepare staging analytics export" -- "$cur")
            return ;;
        --config)
            compopt -o filenames
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return ;;
        --load-dimensions)
            compopt -o dirnames
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            return ;;
        --reprocess)
            mapfile -t COMPREPLY < <(compgen -W "missing failed all" -- "$cur")
            return ;;
        --demo-scale|--backfill)
            return ;;
    esac
    mapfile -t COMPREPLY < <(compgen -W "--run-all --stage --resume --dry-run --backfill --reprocess --status --load-dimensions --config --json --demo-scale --version --help" -- "$cur")
}

complete -F _d2b_console d2b-console
