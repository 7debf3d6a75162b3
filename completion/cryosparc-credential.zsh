# zsh completion for cryosparc-credential: source it from ~/.zshrc. It runs
# the bash completion through zsh's bash compatibility.
autoload -U compinit && compinit
autoload -U bashcompinit && bashcompinit
source "${0:A:h}/cryosparc-credential.bash"
