package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/cairnchain/cairn/chain/chainparams"
	"github.com/cairnchain/cairn/chain/consensus"
	"github.com/cairnchain/cairn/rpcclient"
	"github.com/cairnchain/cairn/wallet"
)

// walletFlags are taken by every wallet command.
func walletFlags(extra ...cli.Flag) []cli.Flag {
	flags := append(commonFlags(), rpcClientFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "wallet", Usage: "wallet `FILE`", DefaultText: "wallet.dat in the network's data folder", EnvVars: envVar("wallet")},
		&cli.StringFlag{Name: "password-file", Usage: "read the wallet password from `FILE` (else CAIRN_WALLET_PASSWORD, else a prompt)", EnvVars: envVar("password-file")},
		&cli.BoolFlag{Name: "json", Usage: "print JSON", EnvVars: envVar("json")},
	)
	return append(flags, extra...)
}

// feeRateFlag is --fee-rate in base units per vbyte.
var feeRateFlag = &cli.Float64Flag{Name: "fee-rate", Usage: "fee rate in `SAT_PER_VB`", DefaultText: "estimatesmartfee, at least 1", EnvVars: envVar("fee-rate")}

// walletCommand is `cairn wallet`.
func walletCommand() *cli.Command {
	return &cli.Command{
		Name:  "wallet",
		Usage: "an HD wallet that sends and receives through a node",
		Description: "The wallet file is encrypted with a password from CAIRN_WALLET_PASSWORD, --password-file,\n" +
			"or a prompt. Keys never leave it; the node is reached over JSON-RPC (its cookie, or\n" +
			"--rpc-user/--rpc-password), and the wallet finds its coins with the node's BIP158 filters.",
		Subcommands: []*cli.Command{
			{Name: "create", Usage: "create a wallet and print its mnemonic once", Flags: walletFlags(
				&cli.IntFlag{Name: "words", Value: 12, Usage: "mnemonic length: 12 or 24"},
				&cli.StringFlag{Name: "passphrase", Usage: "optional BIP39 passphrase"}), Action: walletCreate},
			{Name: "restore", Usage: "restore a wallet from its mnemonic", Flags: walletFlags(
				&cli.StringFlag{Name: "mnemonic", Usage: "the 12 or 24 words", DefaultText: "read from standard input, kept off the command line"},
				&cli.StringFlag{Name: "passphrase", Usage: "optional BIP39 passphrase"},
				&cli.IntFlag{Name: "birthday", Usage: "first block `HEIGHT` to scan"}), Action: walletRestore},
			{Name: "address", Usage: "print a fresh receive address", Flags: walletFlags(
				&cli.StringFlag{Name: "type", Value: "wpkh", Usage: "wpkh (BIP84) or tr (BIP86)"}), Action: walletAddress},
			{Name: "balance", Usage: "print confirmed, unconfirmed and immature coins", Flags: walletFlags(), Action: walletBalance},
			{Name: "send", Usage: "pay AMOUNT coins to ADDRESS", ArgsUsage: "ADDRESS AMOUNT", Flags: walletFlags(feeRateFlag,
				&cli.BoolFlag{Name: "subtract-fee", Usage: "take the fee out of the amount"}), Action: walletSend},
			{Name: "bumpfee", Usage: "replace a pending send with a higher fee", ArgsUsage: "TXID", Flags: walletFlags(feeRateFlag), Action: walletBumpFee},
			{Name: "history", Usage: "list the wallet's transactions", Flags: walletFlags(), Action: walletHistory},
			{Name: "utxos", Usage: "list the wallet's unspent coins", Flags: walletFlags(), Action: walletUTXOs},
			{Name: "psbt", Usage: "partially signed transactions (BIP174)", Subcommands: []*cli.Command{
				{Name: "create", Usage: "create an unsigned PSBT paying AMOUNT to ADDRESS", ArgsUsage: "ADDRESS AMOUNT",
					Flags: walletFlags(feeRateFlag, &cli.BoolFlag{Name: "subtract-fee", Usage: "take the fee out of the amount"}), Action: walletPSBTCreate},
				{Name: "sign", Usage: "check a PSBT against the wallet's coins, show what it spends and pays, and sign the inputs that are this wallet's (no node needed)",
					ArgsUsage: "PSBT", Flags: walletFlags(&cli.BoolFlag{Name: "force", Usage: "sign even when the fee is over 0.1 coin or 10,000 sat/vB", EnvVars: envVar("force")}),
					Action: walletPSBTSign},
				{Name: "finalize", Usage: "finalize a signed PSBT and print the transaction", ArgsUsage: "PSBT", Flags: walletFlags(
					&cli.BoolFlag{Name: "broadcast", Usage: "also send it through the node"}), Action: walletPSBTFinalize},
			}},
		},
	}
}

// walletEnv is what a wallet command works with.
type walletEnv struct {
	c    *cli.Context
	net  *chainparams.Network
	path string
}

func newWalletEnv(c *cli.Context) (*walletEnv, error) {
	net, err := loadConfig(c)
	if err != nil {
		return nil, err
	}
	path := c.String("wallet")
	if path == "" {
		path = filepath.Join(networkDir(c, net), "wallet.dat")
	}
	return &walletEnv{c: c, net: net, path: path}, nil
}

// password returns the wallet password: --password-file, else
// CAIRN_WALLET_PASSWORD, else a prompt on a terminal (twice when confirm).
func (e *walletEnv) password(confirm bool) ([]byte, error) {
	if f := e.c.String("password-file"); f != "" {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--password-file: %w", err)
		}
		return bytes.TrimRight(raw, "\r\n"), nil
	}
	if pw, ok := os.LookupEnv("CAIRN_WALLET_PASSWORD"); ok {
		return []byte(pw), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, errors.New("no wallet password: set CAIRN_WALLET_PASSWORD or --password-file (there is no terminal to ask on)")
	}
	fmt.Fprint(os.Stderr, "Wallet password: ")
	pw, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, err
	}
	if confirm {
		fmt.Fprint(os.Stderr, "Again: ")
		again, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(pw, again) {
			return nil, errors.New("the passwords differ")
		}
	}
	return pw, nil
}

// open opens the wallet file.
func (e *walletEnv) open() (*wallet.Wallet, error) {
	pw, err := e.password(false)
	if err != nil {
		return nil, err
	}
	return wallet.Open(e.path, pw, e.net)
}

// node returns the node's RPC client, with the cookie when no user is
// given.
func (e *walletEnv) node() (*wallet.RPCNode, error) {
	user, pass := e.c.String("rpc-user"), e.c.String("rpc-password")
	if user == "" {
		var err error
		if user, pass, err = rpcclient.ReadCookie(filepath.Join(networkDir(e.c, e.net), ".cookie")); err != nil {
			return nil, fmt.Errorf("%w at %s: no RPC credentials (is the node running with this --datadir and --network? or give --rpc-user/--rpc-password): %v",
				wallet.ErrUnreachable, rpcAddr(e.c, e.net), err)
		}
	}
	return &wallet.RPCNode{URL: "http://" + rpcAddr(e.c, e.net) + "/", User: user, Password: pass}, nil
}

// sync opens the wallet and the node and scans to the node's tip.
func (e *walletEnv) sync() (*wallet.Wallet, *wallet.RPCNode, int32, error) {
	w, err := e.open()
	if err != nil {
		return nil, nil, 0, err
	}
	node, err := e.node()
	if err != nil {
		w.Close()
		return nil, nil, 0, err
	}
	tip, res, err := w.Scan(node)
	if err != nil {
		w.Close()
		return nil, nil, 0, err
	}
	if res.Reorged >= 0 {
		fmt.Fprintf(os.Stderr, "the chain reorganized below the last scan; rescanned from height %d\n", res.Reorged+1)
	}
	pool, err := w.ScanMempool(node)
	if err != nil {
		w.Close()
		return nil, nil, 0, err
	}
	if pool.TooLarge > 0 {
		fmt.Fprintf(os.Stderr, "the node's pool holds %d transactions, more than the %d this command reads: "+
			"incoming payments show once they confirm\n", pool.TooLarge, wallet.MaxPoolScan)
	}
	if n := w.Rebroadcast(node); n > 0 {
		fmt.Fprintf(os.Stderr, "%d pending transaction(s) of this wallet lost their inputs and were abandoned\n", n)
	}
	if err := w.Save(); err != nil {
		w.Close()
		return nil, nil, 0, err
	}
	return w, node, tip, nil
}

// print writes v as JSON with --json, else text.
func (e *walletEnv) print(v any, text string) error {
	if e.c.Bool("json") {
		out, _ := json.MarshalIndent(v, "", "  ")
		_, err := fmt.Fprintln(e.c.App.Writer, string(out))
		return err
	}
	_, err := fmt.Fprint(e.c.App.Writer, text)
	return err
}

// jsonCoins is an amount in base units that JSON shows in coins.
type jsonCoins int64

// MarshalJSON writes the amount as a number of coins with 8 decimals.
func (a jsonCoins) MarshalJSON() ([]byte, error) {
	return []byte(consensus.FormatCoins(int64(a))), nil
}

func walletCreate(c *cli.Context) error {
	e, err := newWalletEnv(c)
	if err != nil {
		return err
	}
	mnemonic, err := wallet.NewMnemonic(c.Int("words"))
	if err != nil {
		return err
	}
	// The birthday is the node's tip when it answers: nothing before can
	// pay a fresh mnemonic. Without a node, scan from the start.
	birthday := int32(0)
	if node, err := e.node(); err == nil {
		if tip, err := node.BlockCount(); err == nil {
			birthday = tip
		}
	}
	pw, err := e.password(true)
	if err != nil {
		return err
	}
	w, err := wallet.Create(e.path, pw, e.net, mnemonic, wallet.CreateOptions{Passphrase: c.String("passphrase"), Birthday: birthday})
	if err != nil {
		return err
	}
	w.Close()
	return e.print(map[string]any{"file": e.path, "mnemonic": mnemonic, "birthday": birthday},
		fmt.Sprintf("Wallet created at %s.\nWrite these words down; they are shown only once and restore every coin:\n\n  %s\n\n", e.path, mnemonic))
}

func walletRestore(c *cli.Context) error {
	e, err := newWalletEnv(c)
	if err != nil {
		return err
	}
	if c.Int("birthday") < 0 {
		return fmt.Errorf("--birthday %d: want a block height", c.Int("birthday"))
	}
	pw, err := e.password(true)
	if err != nil {
		return err
	}
	mnemonic := c.String("mnemonic")
	if mnemonic == "" || mnemonic == "-" {
		// Not on the command line, where ps and the shell history keep it.
		if term.IsTerminal(int(os.Stdin.Fd())) {
			fmt.Fprint(os.Stderr, "Mnemonic: ")
		}
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("no mnemonic: give --mnemonic, or the words on standard input")
		}
		mnemonic = line
	}
	w, err := wallet.Create(e.path, pw, e.net, mnemonic, wallet.CreateOptions{Passphrase: c.String("passphrase"), Birthday: int32(c.Int("birthday"))})
	if err != nil {
		return err
	}
	defer w.Close()
	text := fmt.Sprintf("Wallet restored at %s; it scans from height %d.\n", e.path, w.Birthday())
	// Scan now if the node answers; later commands scan anyway.
	if node, err := e.node(); err == nil {
		if tip, _, err := w.Scan(node); err == nil {
			if err := w.Save(); err != nil {
				return err
			}
			b := w.Balance(tip)
			text += fmt.Sprintf("Scanned to height %d: %s confirmed.\n", tip, wallet.FormatAmount(b.Confirmed, e.net.Unit()))
		}
	}
	return e.print(map[string]any{"file": e.path, "birthday": w.Birthday()}, text)
}

func walletAddress(c *cli.Context) error {
	e, err := newWalletEnv(c)
	if err != nil {
		return err
	}
	w, err := e.open()
	if err != nil {
		return err
	}
	defer w.Close()
	addr, err := w.NewAddress(wallet.AddrType(c.String("type")))
	if err != nil {
		return err
	}
	if err := w.Save(); err != nil {
		return err
	}
	return e.print(map[string]string{"address": addr.EncodeAddress()}, addr.EncodeAddress()+"\n")
}

func walletBalance(c *cli.Context) error {
	e, err := newWalletEnv(c)
	if err != nil {
		return err
	}
	w, _, tip, err := e.sync()
	if err != nil {
		return err
	}
	defer w.Close()
	b, unit := w.Balance(tip), e.net.Unit()
	return e.print(map[string]any{"confirmed": jsonCoins(b.Confirmed), "unconfirmed": jsonCoins(b.Unconfirmed), "immature": jsonCoins(b.Immature), "height": tip},
		fmt.Sprintf("confirmed:   %s\nunconfirmed: %s\nimmature:    %s\n",
			wallet.FormatAmount(b.Confirmed, unit), wallet.FormatAmount(b.Unconfirmed, unit), wallet.FormatAmount(b.Immature, unit)))
}

// sendRequest parses ADDRESS AMOUNT and the fee flags.
func (e *walletEnv) sendRequest(node wallet.Node) (wallet.SendRequest, error) {
	c := e.c
	if c.NArg() != 2 {
		return wallet.SendRequest{}, errors.New("want ADDRESS AMOUNT (flags go before them)")
	}
	to, err := e.net.DecodeAddress(c.Args().Get(0))
	if err != nil {
		return wallet.SendRequest{}, fmt.Errorf("%q is not an address of network %s: %v", c.Args().Get(0), e.net.Name, err)
	}
	amount, err := parseAmount(c.Args().Get(1), e.net.Unit())
	if err != nil {
		return wallet.SendRequest{}, err
	}
	rate, err := e.feeRate(node)
	if err != nil {
		return wallet.SendRequest{}, err
	}
	return wallet.SendRequest{To: to, Amount: amount, FeeRate: rate, SubtractFee: c.Bool("subtract-fee")}, nil
}

// syncForSend checks ADDRESS AMOUNT (plain mistakes first, before the
// password and a scan), then opens and scans the wallet and settles the
// fee rate. The caller closes the wallet.
func (e *walletEnv) syncForSend() (*wallet.Wallet, *wallet.RPCNode, int32, wallet.SendRequest, error) {
	if _, err := e.sendRequest(nil); err != nil {
		return nil, nil, 0, wallet.SendRequest{}, err
	}
	w, node, tip, err := e.sync()
	if err != nil {
		return nil, nil, 0, wallet.SendRequest{}, err
	}
	req, err := e.sendRequest(node)
	if err != nil {
		w.Close()
		return nil, nil, 0, wallet.SendRequest{}, err
	}
	return w, node, tip, req, nil
}

// feeRate returns --fee-rate, or the node's estimate for 6 blocks, at
// least 1 base unit per vbyte.
func (e *walletEnv) feeRate(node wallet.Node) (float64, error) {
	if e.c.IsSet("fee-rate") {
		r := e.c.Float64("fee-rate")
		if r < 1 || r > 100_000 {
			return 0, fmt.Errorf("--fee-rate %v: want 1 to 100,000 sat/vB", r)
		}
		return r, nil
	}
	if node == nil {
		return 1, nil
	}
	r, err := node.EstimateFee(6)
	if err != nil || r < 1 {
		return 1, nil
	}
	return r, nil
}

// parseAmount reads send's AMOUNT: coins as [consensus.ParseCoins] reads
// them, more than zero; unit names the network's coin in the errors.
func parseAmount(s, unit string) (int64, error) {
	v, err := consensus.ParseCoins(s)
	switch {
	case errors.Is(err, consensus.ErrCoinsTooLarge):
		return 0, fmt.Errorf("amount %s is more than the %d %s that can ever exist", s, consensus.MaxMoney/consensus.CoinValue, unit)
	case errors.Is(err, consensus.ErrCoinsPrecision):
		return 0, err
	case err != nil || v == 0:
		return 0, fmt.Errorf("amount %q: want a positive number of coins", s)
	}
	return v, nil
}

// sentJSON is what send and bumpfee print of the transaction they sent.
type sentJSON struct {
	TxID     string `json:"txid"`
	OrigTxID string `json:"origtxid,omitempty"`
	// Address and Amount: whom it pays and how much (send only).
	Address string     `json:"address,omitempty"`
	Amount  *jsonCoins `json:"amount,omitempty"`
	Fee     jsonCoins  `json:"fee"`
	// FeeRate is the fee per virtual byte of the signed transaction,
	// in base units (sat/vB), VSize its size.
	FeeRate float64 `json:"fee_rate"`
	VSize   int64   `json:"vsize"`
}

// sent describes tx, which pays fee; to, if not nil, is the address it
// pays, whose output is the amount.
func sent(tx *wire.MsgTx, fee int64, to btcutil.Address) sentJSON {
	vsize := wallet.VirtualSize(tx)
	out := sentJSON{TxID: tx.TxHash().String(), Fee: jsonCoins(fee), VSize: vsize,
		FeeRate: math.Round(float64(fee)/float64(vsize)*100) / 100}
	if to != nil {
		out.Address = to.EncodeAddress()
		if script, err := txscript.PayToAddrScript(to); err == nil {
			for _, o := range tx.TxOut {
				if bytes.Equal(o.PkScript, script) {
					a := jsonCoins(o.Value)
					out.Amount = &a
					break
				}
			}
		}
	}
	return out
}

// feeText is the fee line of send and bumpfee: the fee, its rate and the
// size it pays for.
func (s sentJSON) feeText(unit string) string {
	return fmt.Sprintf("fee %s (%.2f sat/vB for %d vB)", wallet.FormatAmount(int64(s.Fee), unit), s.FeeRate, s.VSize)
}

func walletSend(c *cli.Context) error {
	e, err := newWalletEnv(c)
	if err != nil {
		return err
	}
	w, node, tip, req, err := e.syncForSend()
	if err != nil {
		return err
	}
	defer w.Close()
	tx, fee, err := w.CreateTx(req, tip)
	if err != nil {
		return err
	}
	if err := w.Broadcast(node, tx, fee, ""); err != nil {
		return err
	}
	out, unit := sent(tx, fee, req.To), e.net.Unit()
	paid := "?"
	if out.Amount != nil {
		paid = wallet.FormatAmount(int64(*out.Amount), unit)
	}
	return e.print(out, fmt.Sprintf("sent %s to %s\ntxid %s, %s\n", paid, out.Address, out.TxID, out.feeText(unit)))
}

func walletBumpFee(c *cli.Context) error {
	e, err := newWalletEnv(c)
	if err != nil {
		return err
	}
	if c.NArg() != 1 {
		return errors.New("want TXID (flags go before it)")
	}
	w, node, _, err := e.sync()
	if err != nil {
		return err
	}
	defer w.Close()
	rate := 0.0
	if c.IsSet("fee-rate") {
		if rate, err = e.feeRate(node); err != nil {
			return err
		}
	} else if est, err := node.EstimateFee(6); err == nil {
		rate = est
	}
	old := c.Args().First()
	tx, fee, err := w.BumpFee(old, rate)
	if err != nil {
		return err
	}
	if err := w.Broadcast(node, tx, fee, old); err != nil {
		return err
	}
	out := sent(tx, fee, nil)
	out.OrigTxID = old
	return e.print(out, fmt.Sprintf("replaced %s\ntxid %s, %s\n", old, out.TxID, out.feeText(e.net.Unit())))
}

func walletHistory(c *cli.Context) error {
	e, err := newWalletEnv(c)
	if err != nil {
		return err
	}
	w, _, tip, err := e.sync()
	if err != nil {
		return err
	}
	defer w.Close()
	type entry struct {
		TxID          string     `json:"txid"`
		Amount        jsonCoins  `json:"amount"`
		Fee           *jsonCoins `json:"fee,omitempty"`
		Confirmations int32      `json:"confirmations"`
		Height        *int32     `json:"height,omitempty"`
		Time          int64      `json:"time"`
		ReplacedBy    string     `json:"replaced_by,omitempty"`
	}
	var out []entry
	var text strings.Builder
	fmt.Fprintf(&text, "%-64s %16s %12s %6s %7s\n", "txid", "amount", "fee", "confs", "height")
	for _, h := range w.History() {
		en := entry{TxID: h.TxID, Amount: jsonCoins(h.Amount), Time: h.Seen.Unix(), ReplacedBy: h.ReplacedBy}
		fee, height := "-", "-"
		if h.Fee >= 0 {
			f := jsonCoins(h.Fee)
			en.Fee, fee = &f, consensus.FormatCoins(h.Fee)
		}
		if h.Height > 0 {
			hh := h.Height
			en.Height, en.Confirmations, height = &hh, tip-h.Height+1, strconv.Itoa(int(h.Height))
		}
		if h.ReplacedBy != "" {
			height = "replaced"
		}
		out = append(out, en)
		fmt.Fprintf(&text, "%-64s %16s %12s %6d %7s\n", h.TxID, consensus.FormatCoins(h.Amount), fee, en.Confirmations, height)
	}
	if out == nil {
		out = []entry{}
	}
	return e.print(out, text.String())
}

func walletUTXOs(c *cli.Context) error {
	e, err := newWalletEnv(c)
	if err != nil {
		return err
	}
	w, _, tip, err := e.sync()
	if err != nil {
		return err
	}
	defer w.Close()
	type utxo struct {
		TxID          string    `json:"txid"`
		Vout          uint32    `json:"vout"`
		Address       string    `json:"address"`
		Amount        jsonCoins `json:"amount"`
		Confirmations int32     `json:"confirmations"`
		Spendable     bool      `json:"spendable"`
	}
	spendable := map[wire.OutPoint]bool{}
	for _, c := range w.Spendable(tip) {
		spendable[c.OutPoint] = true
	}
	out := []utxo{}
	var text strings.Builder
	for _, co := range w.Coins() {
		if co.SpentBy != "" {
			continue
		}
		u := utxo{TxID: co.OutPoint.Hash.String(), Vout: co.OutPoint.Index, Amount: jsonCoins(co.Value), Spendable: spendable[co.OutPoint]}
		if addr, err := scriptAddress(co.Script, e.net); err == nil {
			u.Address = addr
		}
		if co.Height > 0 {
			u.Confirmations = tip - co.Height + 1
		}
		out = append(out, u)
		fmt.Fprintf(&text, "%s:%d %s %s confs=%d\n", u.TxID, u.Vout, u.Address, consensus.FormatCoins(co.Value), u.Confirmations)
	}
	return e.print(out, text.String())
}

func walletPSBTCreate(c *cli.Context) error {
	e, err := newWalletEnv(c)
	if err != nil {
		return err
	}
	w, _, tip, req, err := e.syncForSend()
	if err != nil {
		return err
	}
	defer w.Close()
	p, fee, err := w.PSBTCreate(req, tip)
	if err != nil {
		return err
	}
	if err := w.Save(); err != nil { // the change address is used
		return err
	}
	enc, err := wallet.EncodePSBT(p)
	if err != nil {
		return err
	}
	return e.print(map[string]any{"psbt": enc, "fee": jsonCoins(fee)}, enc+"\n")
}

// psbtArg reads the PSBT argument ("-" reads standard input).
func psbtArg(c *cli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", errors.New("want PSBT (base64, or - to read it from standard input)")
	}
	if s := c.Args().First(); s != "-" {
		return s, nil
	}
	raw, err := io.ReadAll(bufio.NewReader(os.Stdin))
	return string(raw), err
}

func walletPSBTSign(c *cli.Context) error {
	e, err := newWalletEnv(c)
	if err != nil {
		return err
	}
	s, err := psbtArg(c)
	if err != nil {
		return err
	}
	p, err := wallet.DecodePSBT(s)
	if err != nil {
		return err
	}
	w, err := e.open()
	if err != nil {
		return err
	}
	defer w.Close()
	sum, err := w.PSBTCheck(p)
	if err != nil {
		return err
	}
	if !c.Bool("force") && (sum.Fee > wallet.MaxPSBTFee || sum.FeeRate > wallet.MaxPSBTFeeRate) {
		return fmt.Errorf("the PSBT pays a fee of %s (%.1f sat/vB), over the ceiling of %s or %d sat/vB; "+
			"check it, and sign with --force if it is meant", wallet.FormatAmount(sum.Fee, e.net.Unit()), sum.FeeRate,
			wallet.FormatAmount(wallet.MaxPSBTFee, e.net.Unit()), wallet.MaxPSBTFeeRate)
	}
	n, err := w.PSBTSign(p)
	if err != nil {
		return err
	}
	if n == 0 {
		return errors.New("no input of this PSBT belongs to this wallet")
	}
	enc, err := wallet.EncodePSBT(p)
	if err != nil {
		return err
	}
	if !c.Bool("json") {
		// The summary on stderr: stdout stays the PSBT, for pipes.
		fmt.Fprint(c.App.ErrWriter, psbtSummaryText(sum, e.net.Unit()))
	}
	return e.print(map[string]any{"psbt": enc, "signed": n, "complete": p.IsComplete(), "summary": sum}, enc+"\n")
}

// psbtSummaryText shows what a PSBT spends and pays.
func psbtSummaryText(s *wallet.PSBTSummary, unit string) string {
	var b strings.Builder
	for _, in := range s.Inputs {
		who := "not this wallet's"
		if in.Mine {
			who = "this wallet's"
		}
		fmt.Fprintf(&b, "input  %s  %s  (%s)\n", in.OutPoint, wallet.FormatAmount(in.Value, unit), who)
	}
	for _, out := range s.Outputs {
		who := ""
		if out.Mine {
			who = "  (back to this wallet)"
		}
		addr := out.Address
		if addr == "" {
			addr = "(no address)"
		}
		fmt.Fprintf(&b, "output %s  %s%s\n", addr, wallet.FormatAmount(out.Value, unit), who)
	}
	fmt.Fprintf(&b, "fee    %s  (%.1f sat/vB of about %d vbytes)\n", wallet.FormatAmount(s.Fee, unit), s.FeeRate, s.VSize)
	return b.String()
}

func walletPSBTFinalize(c *cli.Context) error {
	e, err := newWalletEnv(c)
	if err != nil {
		return err
	}
	s, err := psbtArg(c)
	if err != nil {
		return err
	}
	p, err := wallet.DecodePSBT(s)
	if err != nil {
		return err
	}
	tx, err := wallet.PSBTFinalize(p)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	_ = tx.Serialize(&buf)
	out := map[string]any{"hex": hex.EncodeToString(buf.Bytes()), "txid": tx.TxHash().String()}
	if c.Bool("broadcast") {
		// Through the wallet, which records it so that its coins are not
		// picked again while it is pending.
		w, err := e.open()
		if err != nil {
			return err
		}
		defer w.Close()
		node, err := e.node()
		if err != nil {
			return err
		}
		fee, err := p.GetTxFee()
		if err != nil {
			return fmt.Errorf("the PSBT's fee: %w", err)
		}
		if err := w.Broadcast(node, tx, int64(fee), ""); err != nil {
			return err
		}
		return e.print(out, tx.TxHash().String()+"\n")
	}
	return e.print(out, out["hex"].(string)+"\n")
}

// scriptAddress renders an output script as an address of net.
func scriptAddress(script []byte, net *chainparams.Network) (string, error) {
	_, addrs, _, err := txscript.ExtractPkScriptAddrs(script, net.AddressParams())
	if err != nil || len(addrs) != 1 {
		return "", fmt.Errorf("no address for script %x", script)
	}
	return addrs[0].EncodeAddress(), nil
}
