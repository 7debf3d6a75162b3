# Runs the completion script the way an interactive zsh does (compinit and
# bashcompinit, then bashcompinit's _bash_complete), for the command line
# given as arguments, the last one being the word completed; prints the
# matches, sorted, on one line. compadd, which only works inside a
# completion widget, is replaced by one that prints what it is given,
# filtered by the word's prefix as the real one matches it.
#
#   zsh -f testdata/zsh_completion.zsh SCRIPT cryosparc-credential token --
script=$1; shift
autoload -U compinit bashcompinit
compinit -u -d "${TMPDIR:-/tmp}/zcompdump-$$"
bashcompinit
source "$script"
compadd() {
	local seen=0 a
	for a; do
		if (( seen )); then [[ $a == ${words[CURRENT]}* ]] && print -r -- "$a"
		elif [[ $a == - ]]; then seen=1; fi
	done
}
_default() { return 1 }
words=("$@"); CURRENT=$#
_bash_complete -o bashdefault -o default -F _cryosparc_credential | sort | tr '\n' ' ' | sed 's/ $//'
rm -f "${TMPDIR:-/tmp}/zcompdump-$$"
