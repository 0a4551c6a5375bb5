package layering

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// rule is the import rule of one of the module's packages: what it must
// not depend on, directly or through other packages.
type rule struct {
	// pkg is the package, relative to the module ("rpc").
	pkg string
	// forbidden are import paths the package must not depend on; one
	// ending in "/" forbids every path it prefixes.
	forbidden []string
	// except maps an entry of forbidden to the module packages (relative
	// to the module) through which alone it may still come.
	except map[string][]string
	// allowed, when not nil, are the only module packages (relative to
	// the module) the package may depend on, with their own dependencies
	// in the module; an empty list allows none.
	allowed []string
	// leaves are module packages the package may depend on besides
	// allowed, provided they depend on no module package themselves.
	leaves []string
	// why is the rule in words, for the failure message.
	why string
}

// rules are the import rules of issue 14, as the module holds them:
//
//   - rpc, the server, imports none of the networking code: cmd/cairn
//     adapts p2p to its Network interface.
//   - The wallet talks to a node only through rpcclient, and shares with
//     it only consensus, the network parameters and the pool's
//     standardness policy: no pool, no chain store (goleveldb), no p2p.
//   - testnet drives nodes through rpcclient and the wallet; of the node's
//     packages it uses only the proof-of-work search (miner/pow, to mine a
//     fresh network's genesis block and to measure the hash rate), a leaf
//     beside consensus: no chain store, p2p, pool, miner or RPC server.
//     Its hosts and link shaper (testnet/internal/hosts, netem) are
//     leaves of its own.
//   - rpcclient is a leaf: the server's code is not the client's.
//   - mempool/policy is a leaf beside consensus, so that the wallet and
//     p2p need not import the pool.
//   - electrum, a server like rpc, imports no networking code and no other
//     server; what both servers shape alike is in internal/coreshape.
var rules = []rule{
	{
		pkg:       "rpc",
		forbidden: []string{"github.com/libp2p/", "github.com/cairnchain/cairn/p2p", "github.com/cairnchain/cairn/p2p/"},
		why:       "the RPC server imports no networking code: no libp2p and no p2p package",
	},
	{
		pkg:       "wallet",
		forbidden: []string{"github.com/libp2p/", "github.com/syndtr/goleveldb/"},
		allowed:   []string{"chain/consensus", "chain/chainparams", "rpcclient", "mempool/policy"},
		leaves:    []string{"internal/atomicfile"},
		why: "the wallet imports no libp2p and no goleveldb, and of the module only chain/consensus, " +
			"chain/chainparams, rpcclient, mempool/policy and leaf packages",
	},
	{
		pkg:       "testnet",
		forbidden: []string{"github.com/libp2p/", "github.com/syndtr/goleveldb/"},
		allowed:   []string{"chain/consensus", "chain/chainparams", "rpcclient", "mempool/policy", "wallet", "miner/pow"},
		leaves:    []string{"internal/atomicfile", "internal/webassets", "testnet/internal/hosts", "testnet/internal/netem"},
		why: "testnet imports no libp2p and no goleveldb, and of the module only chain/consensus, " +
			"chain/chainparams, rpcclient, mempool/policy, wallet, miner/pow and leaf packages",
	},
	{
		pkg: "electrum",
		forbidden: []string{"github.com/libp2p/", "github.com/cairnchain/cairn/p2p", "github.com/cairnchain/cairn/p2p/",
			"github.com/cairnchain/cairn/rpc", "github.com/cairnchain/cairn/miner"},
		why: "the Electrum server, a sibling of rpc, imports no networking code, no other server and no miner",
	},
	{
		pkg: "explorer",
		forbidden: []string{"github.com/libp2p/", "github.com/cairnchain/cairn/p2p", "github.com/cairnchain/cairn/p2p/",
			"github.com/cairnchain/cairn/rpc", "github.com/cairnchain/cairn/electrum", "github.com/cairnchain/cairn/miner"},
		why: "the explorer, a sibling of rpc, imports no networking code, no other server and no miner",
	},
	{
		pkg:     "internal/coreshape",
		allowed: []string{"chain/consensus"},
		why:     "coreshape, shared by the servers, depends on no package of the module but chain/consensus",
	},
	{
		pkg:     "rpcclient",
		allowed: []string{},
		why:     "rpcclient depends on no other package of the module",
	},
	{
		pkg:     "miner/pow",
		allowed: []string{"chain/consensus"},
		leaves:  []string{"miner/internal/sha"},
		why:     "miner/pow depends on no package of the module but chain/consensus and its SHA-256 kernel",
	},
	{
		pkg:     "mempool/policy",
		allowed: []string{"chain/consensus"},
		why:     "mempool/policy depends on no package of the module but chain/consensus (and what consensus needs)",
	},
}

// TestImportRules ensures each package of rules depends on nothing its
// rule forbids, as go list -deps reports the module's import graph.
func TestImportRules(t *testing.T) {
	root, module := moduleRoot(t)
	if module != "github.com/cairnchain/cairn" {
		t.Fatalf("go.mod names module %s; the rules name github.com/cairnchain/cairn's packages", module)
	}
	g := loadGraph(t, root)
	inModule := func(path string) bool { return path == module || strings.HasPrefix(path, module+"/") }
	full := func(rel string) string { return module + "/" + rel }
	for _, r := range rules {
		t.Run(r.pkg, func(t *testing.T) {
			pkg := full(r.pkg)
			if _, ok := g[pkg]; !ok {
				t.Fatalf("the rule names %s, which the module does not have", pkg)
			}
			// offending maps each dependency the rule forbids or does not
			// allow to what is wrong with it.
			offending := map[string]string{}
			// avoid maps an offending dependency to the packages the chain
			// of imports shown for it must not pass through.
			avoid := map[string]map[string]bool{}
			deps := g.deps(pkg, nil)
			for _, f := range r.forbidden {
				// Without exceptions, every dependency counts; with them,
				// those that come through the excepted packages do not.
				var through map[string]bool
				if len(r.except[f]) > 0 {
					through = map[string]bool{}
					for _, e := range r.except[f] {
						if _, has := g[full(e)]; !has {
							t.Fatalf("the rule excepts %s, which the module does not have", full(e))
						}
						through[full(e)] = true
					}
				}
				for _, dep := range g.deps(pkg, through) {
					if dep == f || strings.HasSuffix(f, "/") && strings.HasPrefix(dep, f) {
						offending[dep] = "forbids"
						avoid[dep] = through
					}
				}
			}
			if r.allowed != nil {
				ok := map[string]bool{pkg: true}
				for _, a := range r.allowed {
					if _, has := g[full(a)]; !has {
						t.Fatalf("the rule allows %s, which the module does not have", full(a))
					}
					ok[full(a)] = true
					for _, d := range g.deps(full(a), nil) {
						if inModule(d) {
							ok[d] = true
						}
					}
				}
				for _, l := range r.leaves {
					if _, has := g[full(l)]; !has {
						t.Fatalf("the rule allows the leaf %s, which the module does not have", full(l))
					}
					for _, d := range g.deps(full(l), nil) {
						if inModule(d) {
							t.Errorf("%s, which %s's rule allows as a leaf, depends on %s of the module; imports: %s",
								l, r.pkg, d, strings.Join(g.path(full(l), d, nil), " -> "))
						}
					}
					ok[full(l)] = true
				}
				for _, dep := range deps {
					if inModule(dep) && !ok[dep] && offending[dep] == "" {
						offending[dep] = "does not allow"
					}
				}
			}
			// Each offence is reported where it enters, not for what an
			// offending package brings with it, and once for all the
			// offending imports of one package.
			type entry struct{ importer, what string }
			var order []entry
			found := map[entry][]string{}
			chains := map[entry][]string{}
			for _, dep := range deps {
				what := offending[dep]
				if what == "" {
					continue
				}
				chain := g.path(pkg, dep, avoid[dep])
				first := true
				for _, p := range chain[1 : len(chain)-1] {
					if offending[p] != "" {
						first = false
					}
				}
				if !first {
					continue
				}
				e := entry{strings.Join(chain[:len(chain)-1], " -> "), what}
				if _, seen := found[e]; !seen {
					order = append(order, e)
				}
				found[e] = append(found[e], dep)
				chains[e] = chain
			}
			for _, e := range order {
				imports := e.importer + " -> " + chains[e][len(chains[e])-1]
				if n := len(found[e]); n > 1 {
					imports = e.importer + " -> {" + strings.Join(found[e], ", ") + "}"
				}
				t.Errorf("%s depends on %s, which its rule %s (%s); imports: %s",
					r.pkg, strings.Join(found[e], ", "), e.what, r.why, imports)
			}
		})
	}
}

// moduleRoot returns the directory of the module's go.mod, as go env GOMOD
// finds it from the test's directory, and the module's path.
func moduleRoot(t *testing.T) (dir, module string) {
	t.Helper()
	out := goCmd(t, ".", "env", "GOMOD")
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatalf("go env GOMOD = %q: the test is not inside the module", gomod)
	}
	raw, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return filepath.Dir(gomod), strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	t.Fatalf("%s names no module", gomod)
	return "", ""
}

// graph maps each package of the module and of its dependencies to the
// packages it imports directly.
type graph map[string][]string

// loadGraph asks go list for the import graph of every package of the
// module (without tests) and all they depend on.
func loadGraph(t *testing.T, root string) graph {
	t.Helper()
	out := goCmd(t, root, "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "./...")
	g := graph{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 0 {
			g[fields[0]] = fields[1:]
		}
	}
	if len(g) == 0 {
		t.Fatal("go list -deps listed no packages")
	}
	return g
}

// deps returns the packages pkg depends on, directly or not, sorted;
// those it reaches only through packages of skip are left out (skip's
// packages themselves are not).
func (g graph) deps(pkg string, skip map[string]bool) []string {
	seen := map[string]bool{pkg: true}
	queue := []string{pkg}
	var out []string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if skip[p] {
			continue
		}
		for _, imp := range g[p] {
			if !seen[imp] {
				seen[imp] = true
				out = append(out, imp)
				queue = append(queue, imp)
			}
		}
	}
	sort.Strings(out)
	return out
}

// path returns a shortest chain of imports from pkg to dep, both included,
// passing through no package of skip.
func (g graph) path(pkg, dep string, skip map[string]bool) []string {
	prev := map[string]string{pkg: ""}
	queue := []string{pkg}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == dep {
			var chain []string
			for q := dep; q != ""; q = prev[q] {
				chain = append([]string{q}, chain...)
			}
			return chain
		}
		if skip[p] {
			continue
		}
		for _, imp := range g[p] {
			if _, seen := prev[imp]; !seen {
				prev[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return []string{pkg, "?", dep}
}

// goCmd runs the go command found on PATH in dir and returns its output;
// the test fails without it.
func goCmd(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to read the import graph: %v", err)
	}
	cmd := exec.Command(goBin, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}
