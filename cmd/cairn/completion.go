package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

// The shell completion scripts ask cairn itself for the words that may come
// next (urfave/cli's --generate-bash-completion), so they follow the
// commands and flags of the binary they run.

const bashCompletion = `# cairn completion for bash: source it, or put it in
# /etc/bash_completion.d/cairn (or ~/.local/share/bash-completion/completions/cairn).
_cairn_complete() {
	local cur opts
	COMPREPLY=()
	cur="${COMP_WORDS[COMP_CWORD]}"
	if [[ "$cur" == "-"* ]]; then
		opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "${cur}" --generate-bash-completion 2>/dev/null)
	else
		opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
	fi
	COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
	return 0
}
complete -o bashdefault -o default -F _cairn_complete cairn
`

const zshCompletion = `#compdef cairn
# cairn completion for zsh: put it in a folder of $fpath as _cairn, or
# source it after compinit.
_cairn() {
	local -a opts
	local cur
	cur=${words[-1]}
	if [[ "$cur" == "-"* ]]; then
		opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion 2>/dev/null)}")
	else
		opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
	fi
	if [[ "${opts[1]}" != "" ]]; then
		_describe 'values' opts
	else
		_files
	fi
}
if [[ "$(basename -- ${(%):-%x})" != "_cairn" ]]; then
	compdef _cairn cairn
fi
`

// completionCommand is `cairn completion bash|zsh`.
func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash or zsh",
		ArgsUsage: "bash|zsh",
		Description: "bash: source <(cairn completion bash)\n" +
			"zsh:  cairn completion zsh > \"${fpath[1]}/_cairn\"",
		Action: func(c *cli.Context) error {
			switch c.Args().First() {
			case "bash":
				_, _ = io.WriteString(c.App.Writer, bashCompletion)
			case "zsh":
				_, _ = io.WriteString(c.App.Writer, zshCompletion)
			default:
				return fmt.Errorf("completion: want bash or zsh, not %q", c.Args().First())
			}
			return nil
		},
	}
}
