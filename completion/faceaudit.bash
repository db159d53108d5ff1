# faceaudit.bash - bash completion for faceaudit (installed as
# share/bash-completion/completions/faceaudit). Commands and options are read
# from the tool's own --help, so they cannot drift from it.
_faceaudit() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local tool=${COMP_WORDS[0]} cmd=${COMP_WORDS[1]:-}
    if [ "$COMP_CWORD" -eq 1 ]; then
        local cmds
        cmds=$("$tool" --help 2>/dev/null | sed -n 's/^  faceaudit \([a-z]*\) .*/\1/p')
        mapfile -t COMPREPLY < <(compgen -W "$cmds --help --version" -- "$cur")
        return
    fi
    if [ "$cmd" = models ] && [ "$COMP_CWORD" -eq 2 ]; then
        mapfile -t COMPREPLY < <(compgen -W "fetch list" -- "$cur")
        return
    fi
    case $prev in
        --encoder) mapfile -t COMPREPLY < <(compgen -W "dlib faceapi taguchi" -- "$cur"); return ;;
        --list) mapfile -t COMPREPLY < <(compgen -W "ok no_face unreadable unsupported too_large no_identity" -- "$cur"); return ;;
    esac
    if [[ $cur == -* ]]; then
        local opts
        opts=$("$tool" "$cmd" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u)
        mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
        return
    fi
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")   # ROOT, CACHE, PHOTO, DIR
}
complete -o filenames -F _faceaudit faceaudit
