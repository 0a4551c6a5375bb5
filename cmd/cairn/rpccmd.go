package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cairnchain/cairn/rpcclient"
)

// rpcCommandTimeout bounds one `cairn rpc` call: long enough for a slow
// method such as a large gettxoutsetinfo or generatetoaddress.
const rpcCommandTimeout = 15 * time.Minute

// rpcCommandMaxAnswer bounds the answer `cairn rpc` reads: far above any
// block or mempool the node describes.
const rpcCommandMaxAnswer = 1 << 30

// rpcCommand is `cairn rpc METHOD [ARGS...]`, like bitcoin-cli.
func rpcCommand() *cli.Command {
	flags := append(commonFlags(), rpcClientFlags()...)
	flags = append(flags, &cli.BoolFlag{Name: "named", Usage: "pass arguments as NAME=VALUE pairs"})
	return &cli.Command{
		Name:      "rpc",
		Usage:     "call a node's JSON-RPC method",
		ArgsUsage: "METHOD [ARGS...]",
		Description: "Each argument is sent as JSON when it parses as JSON (numbers, true, false, null,\n" +
			"arrays, objects, quoted strings) and as a string otherwise. Credentials come from\n" +
			"--rpc-user/--rpc-password or the node's cookie file in the network's data folder.",
		Flags:  flags,
		Action: runRPC,
		// `cairn rpc help` calls the node's help method, as bitcoin-cli
		// help does; --help still shows this command's usage.
		HideHelpCommand: true,
	}
}

// rpcExitError carries the server's error to the exit code.
type rpcExitError struct{ err *rpcclient.Error }

func (e rpcExitError) Error() string {
	return fmt.Sprintf("error code: %d\nerror message:\n%s", e.err.Code, e.err.Message)
}

func runRPC(c *cli.Context) error {
	if c.NArg() == 0 {
		return errors.New("usage: cairn rpc METHOD [ARGS...] (try: cairn rpc help)")
	}
	net, err := loadConfig(c)
	if err != nil {
		return err
	}
	method := c.Args().First()
	var params any
	if c.Bool("named") {
		named := map[string]json.RawMessage{}
		for _, a := range c.Args().Tail() {
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				return fmt.Errorf("named argument %q: want NAME=VALUE", a)
			}
			named[k] = cliArg(v)
		}
		params = named
	} else {
		list := []json.RawMessage{}
		for _, a := range c.Args().Tail() {
			list = append(list, cliArg(a))
		}
		params = list
	}
	user, pass := c.String("rpc-user"), c.String("rpc-password")
	if user == "" {
		cookie := filepath.Join(networkDir(c, net), ".cookie")
		if user, pass, err = rpcclient.ReadCookie(cookie); err != nil {
			return fmt.Errorf("no RPC credentials: %v (is the node running with this --datadir and --network, or give --rpc-user/--rpc-password)", err)
		}
	}
	client, err := rpcclient.New(rpcclient.Config{Host: rpcAddr(c, net), User: user, Password: pass,
		Timeout: rpcCommandTimeout, MaxResponseSize: rpcCommandMaxAnswer})
	if err != nil {
		return err
	}
	result, err := client.RawRequest(c.Context, method, params)
	if rerr := (*rpcclient.Error)(nil); errors.As(err, &rerr) {
		return rpcExitError{rerr}
	}
	if err != nil {
		return err
	}
	return printResult(c.App.Writer, result)
}

// cliArg sends a command-line argument as JSON when it is JSON, else as a
// string.
func cliArg(s string) json.RawMessage {
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s)
	return b
}

// printResult prints a string result bare and anything else as indented
// JSON (null prints nothing), like bitcoin-cli.
func printResult(w io.Writer, result json.RawMessage) error {
	var s string
	if err := json.Unmarshal(result, &s); err == nil {
		_, err := fmt.Fprintln(w, s)
		return err
	}
	if len(bytes.TrimSpace(result)) == 0 || string(bytes.TrimSpace(result)) == "null" {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, result, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}
