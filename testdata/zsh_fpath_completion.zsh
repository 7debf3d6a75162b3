# Runs the completion function _cryosparc-credential the way an interactive
# zsh finds it on its $fpath (the packages' install): compinit reads its
# #compdef line, and each completion runs what compinit bound to the
# command. Completes the command line given as arguments twice (the first
# call loads the function, which binds the command anew for later calls)
# and prints each call's matches, sorted, on one line. compadd is replaced
# as in zsh_completion.zsh.
#
#   zsh -f testdata/zsh_fpath_completion.zsh DIR cryosparc-credential token --
fpath=("$1" $fpath); shift
autoload -U compinit
compinit -u -d "${TMPDIR:-/tmp}/zcompdump-$$"
compadd() {
	local seen=0 a
	for a; do
		if (( seen )); then [[ $a == ${words[CURRENT]}* ]] && print -r -- "$a"
		elif [[ $a == - ]]; then seen=1; fi
	done
}
_default() { return 1 }
words=("$@"); CURRENT=$#
out=${TMPDIR:-/tmp}/zcompletion-$$
for call in first later; do
	bound=$_comps[cryosparc-credential]
	eval "$bound" >"$out" # not in a subshell: the first call's binding must last
	print -r -- "$call ($bound): $(sort "$out" | tr '\n' ' ' | sed 's/ $//')"
done
rm -f "${TMPDIR:-/tmp}/zcompdump-$$" "$out"
