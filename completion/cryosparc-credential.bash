# bash completion for cryosparc-credential, generated from its command line
# (go test -run Completion -update-completion .): source it from ~/.bashrc,
# or copy it to ~/.local/share/bash-completion/completions/cryosparc-credential.
# zsh: autoload -U compinit bashcompinit && compinit && bashcompinit, then source it.
_cryosparc_credential() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd="" i
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--email | --expires | --file | --lock-timeout | --min-ttl | --password-command | --renew-within | --timeout | --token-env | --url) ((i++)) ;;
		-*) ;;
		*) [ -z "$cmd" ] && cmd=${COMP_WORDS[i]} ;;
		esac
	done
	local word=$cur before=$prev
	if [ -n "${BASH_VERSION-}" ] && [ -n "${COMP_LINE-}" ]; then
		local line=${COMP_LINE:0:COMP_POINT}
		word=${line##* }
		line=${line% *}
		before=${line##* }
	fi
	case $before in
	--url | --email)
		local file="" url="" j
		for ((j = 1; j < COMP_CWORD; j++)); do
			[ "${COMP_WORDS[j]}" = --file ] && file=${COMP_WORDS[j+1]}
			[ "${COMP_WORDS[j]}" = --url ] && url=${COMP_WORDS[j+1]}
		done
		if [ -n "${BASH_VERSION-}" ] && [ -n "${COMP_LINE-}" ]; then
			# bash splits a URL at ':': take --url's value from the line.
			case " ${COMP_LINE:0:COMP_POINT}" in
			*" --url "*) url=" ${COMP_LINE:0:COMP_POINT}" url=${url##*" --url "} url=${url%% *} ;;
			esac
		fi
		[ "$before" = --email ] || url=""
		COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" ${file:+--file "$file"} __complete ${url:+--url "$url"} "${before#--}" 2>/dev/null)" -- "$word"))
		if [ -n "${BASH_VERSION-}" ] && [[ $word == *:* && $COMP_WORDBREAKS == *:* ]]; then
			local pre=${word%"${word##*:}"}
			COMPREPLY=("${COMPREPLY[@]#"$pre"}")
		fi
		return ;;
	esac
	case $prev in
	--file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--expires | --lock-timeout | --min-ttl | --password-command | --renew-within | --timeout | --token-env) COMPREPLY=(); return ;;
	esac
	local words
	case $cmd in
	"") words="get store erase login exec logout token status list doctor help --file --lock-timeout --help --version" ;;
	help) words="get store erase login exec logout token status list doctor" ;;
	get) words="--file --lock-timeout --help" ;;
	store) words="--file --lock-timeout --help" ;;
	erase) words="--file --lock-timeout --help" ;;
	login) words="--email --expires --file --force --lock-timeout --password-command --password-stdin --quiet --renew-within --timeout --url --help" ;;
	exec) words="--email --file --lock-timeout --min-ttl --token-env --url --help" ;;
	logout) words="--all --email --file --lock-timeout --url --yes --help" ;;
	token) words="--email --file --header --lock-timeout --min-ttl --url --help" ;;
	status) words="--email --file --json --lock-timeout --timeout --url --help" ;;
	list) words="--email --file --json --lock-timeout --url --help" ;;
	doctor) words="--file --fix --force --lock-timeout --help" ;;
	*) words="" ;;
	esac
	COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o bashdefault -o default -F _cryosparc_credential cryosparc-credential
